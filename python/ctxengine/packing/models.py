"""Model profiles: which tokenizer a model counts with, its context window and its output limit.

A small built-in table, so that ``budget="gpt-4o"`` or ``model="llama-3.1-8b"`` works. Each
figure names where it comes from. A model whose tokenizer does not ship with ctxengine (the open
models: their tokenizers live in their Hugging Face repositories) has ``tokenizer=None`` and
needs an explicit ``tokenizer=`` path; a model that is not in the table needs an explicit
tokenizer and budget.

>>> get_model("gpt-4o").context_window
128000
>>> get_model("openai/gpt-4o-mini").tokenizer
'o200k_base'
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import NotFoundError

__all__ = ["DEFAULT_OUTPUT_RESERVE", "ModelProfile", "get_model", "models"]

# The answer allowance for models whose vendor states no separate output limit (the open models
# share one window between prompt and answer); pass reserve_output= to choose another.
DEFAULT_OUTPUT_RESERVE = 4096


@dataclass(frozen=True)
class ModelProfile:
    """What packing needs to know about one model."""

    name: str
    tokenizer: str | None  # a name get_tokenizer resolves offline, or None when not bundled
    context_window: int  # prompt + answer tokens the model accepts
    max_output: int | None  # the vendor's output limit, None when none is stated
    chat_format: str  # the format its API or chat template speaks: "openai" or "hf"
    source: str  # where the window and output figures come from
    aliases: tuple[str, ...] = ()
    tokenizer_hint: str = ""  # how to get the tokenizer when it is not bundled

    @property
    def default_reserve(self) -> int:
        """Tokens kept free for the answer when the budget is this model's window."""
        return self.max_output if self.max_output is not None else DEFAULT_OUTPUT_RESERVE


_OPENAI = "https://platform.openai.com/docs/models/"
_HF = "https://huggingface.co/"


def _llama(
    name: str, repo: str, window: int, source: str, aliases: tuple[str, ...]
) -> ModelProfile:
    return ModelProfile(
        name,
        None,
        window,
        None,
        "hf",
        source,
        aliases,
        f"pass tokenizer= the tokenizer.json (or the folder) of {repo} on Hugging Face",
    )


_TABLE: tuple[ModelProfile, ...] = (
    # OpenAI: tokenizers as tiktoken's model table maps them (o200k_base for the gpt-4o, gpt-4.1
    # and o-series families, cl100k_base for gpt-4 and gpt-3.5); windows and output limits from
    # each model's page in OpenAI's model documentation.
    ModelProfile(
        "gpt-4o",
        "o200k_base",
        128_000,
        16_384,
        "openai",
        _OPENAI + "gpt-4o",
        ("chatgpt-4o-latest", "gpt-4o-2024-08-06", "gpt-4o-2024-11-20"),
    ),
    ModelProfile(
        "gpt-4o-mini",
        "o200k_base",
        128_000,
        16_384,
        "openai",
        _OPENAI + "gpt-4o-mini",
        ("gpt-4o-mini-2024-07-18",),
    ),
    ModelProfile(
        "gpt-4.1",
        "o200k_base",
        1_047_576,
        32_768,
        "openai",
        _OPENAI + "gpt-4.1",
        ("gpt-4.1-2025-04-14",),
    ),
    ModelProfile(
        "gpt-4.1-mini", "o200k_base", 1_047_576, 32_768, "openai", _OPENAI + "gpt-4.1-mini"
    ),
    ModelProfile(
        "gpt-4.1-nano", "o200k_base", 1_047_576, 32_768, "openai", _OPENAI + "gpt-4.1-nano"
    ),
    ModelProfile("o1", "o200k_base", 200_000, 100_000, "openai", _OPENAI + "o1"),
    ModelProfile("o3", "o200k_base", 200_000, 100_000, "openai", _OPENAI + "o3"),
    ModelProfile("o3-mini", "o200k_base", 200_000, 100_000, "openai", _OPENAI + "o3-mini"),
    ModelProfile("o4-mini", "o200k_base", 200_000, 100_000, "openai", _OPENAI + "o4-mini"),
    ModelProfile(
        "gpt-4-turbo",
        "cl100k_base",
        128_000,
        4_096,
        "openai",
        _OPENAI + "gpt-4-turbo",
        ("gpt-4-turbo-2024-04-09", "gpt-4-1106-preview"),
    ),
    ModelProfile(
        "gpt-4", "cl100k_base", 8_192, 8_192, "openai", _OPENAI + "gpt-4", ("gpt-4-0613",)
    ),
    ModelProfile(
        "gpt-3.5-turbo",
        "cl100k_base",
        16_385,
        4_096,
        "openai",
        _OPENAI + "gpt-3.5-turbo",
        ("gpt-3.5-turbo-0125",),
    ),
    # Meta Llama 3.x: 128K windows (max_position_embeddings 131072 in each config.json; 8192
    # for Llama 3.0), no separate output limit. The tokenizer is the 128,256-token Llama 3 BPE.
    _llama(
        "llama-3.1-8b",
        "meta-llama/Llama-3.1-8B-Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.1-8B-Instruct",
        ("llama-3.1-8b-instruct",),
    ),
    _llama(
        "llama-3.1-70b",
        "meta-llama/Llama-3.1-70B-Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.1-70B-Instruct",
        ("llama-3.1-70b-instruct",),
    ),
    _llama(
        "llama-3.1-405b",
        "meta-llama/Llama-3.1-405B-Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.1-405B-Instruct",
        ("llama-3.1-405b-instruct",),
    ),
    _llama(
        "llama-3.2-1b",
        "meta-llama/Llama-3.2-1B-Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.2-1B-Instruct",
        ("llama-3.2-1b-instruct",),
    ),
    _llama(
        "llama-3.2-3b",
        "meta-llama/Llama-3.2-3B-Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.2-3B-Instruct",
        ("llama-3.2-3b-instruct",),
    ),
    _llama(
        "llama-3.3-70b",
        "meta-llama/Llama-3.3-70B-Instruct",
        131_072,
        _HF + "meta-llama/Llama-3.3-70B-Instruct",
        ("llama-3.3-70b-instruct",),
    ),
    _llama(
        "llama-3-8b",
        "meta-llama/Meta-Llama-3-8B-Instruct",
        8_192,
        _HF + "meta-llama/Meta-Llama-3-8B-Instruct",
        ("llama-3-8b-instruct",),
    ),
    # Qwen2.5 instruct: 32,768 native positions (config.json); the 7B and larger model cards
    # state generation up to 8,192 tokens (and 131,072 context only with YaRN rope scaling).
    *(
        ModelProfile(
            f"qwen2.5-{size}",
            None,
            32_768,
            8_192,
            "hf",
            _HF + f"Qwen/Qwen2.5-{size.upper()}-Instruct",
            (f"qwen2.5-{size}-instruct",),
            f"pass tokenizer= the tokenizer.json (or the folder) of Qwen/Qwen2.5-{size.upper()}"
            "-Instruct on Hugging Face",
        )
        for size in ("7b", "14b", "32b", "72b")
    ),
    # Qwen3: 32,768 native context (131,072 with YaRN), per the model cards; no output limit.
    *(
        ModelProfile(
            f"qwen3-{size}",
            None,
            32_768,
            None,
            "hf",
            _HF + f"Qwen/Qwen3-{size.upper()}",
            (),
            f"pass tokenizer= the tokenizer.json (or the folder) of Qwen/Qwen3-{size.upper()} "
            "on Hugging Face",
        )
        for size in ("0.6b", "1.7b", "4b", "8b", "14b", "32b")
    ),
    # Mistral 7B Instruct v0.3: 32,768 positions (config.json), SentencePiece v3 tokenizer.
    ModelProfile(
        "mistral-7b-instruct-v0.3",
        None,
        32_768,
        None,
        "hf",
        _HF + "mistralai/Mistral-7B-Instruct-v0.3",
        ("mistral-7b-instruct", "mistral-7b"),
        "pass tokenizer= the tokenizer.json (or the folder) of "
        "mistralai/Mistral-7B-Instruct-v0.3 on Hugging Face",
    ),
)

_BY_NAME: dict[str, ModelProfile] = {}
for _p in _TABLE:
    for _name in (_p.name, *_p.aliases):
        _BY_NAME[_name] = _p


def _key(name: str) -> str:
    key = name.strip().lower()
    # "openai/gpt-4o", "meta-llama/Llama-3.1-8B-Instruct": the vendor prefix does not matter.
    key = key.rsplit("/", 1)[-1]
    return key.removeprefix("meta-")


def get_model(name: str) -> ModelProfile:
    """The profile of a model by name (case-insensitive; a ``vendor/`` prefix is ignored).

    >>> get_model("meta-llama/Llama-3.1-8B-Instruct").context_window
    131072
    """
    profile = _BY_NAME.get(_key(name))
    if profile is None:
        raise NotFoundError(
            f"unknown model {name!r}: pass tokenizer= and an integer budget, or one of "
            f"{', '.join(p.name for p in _TABLE)}"
        )
    return profile


def models() -> list[ModelProfile]:
    """Every built-in profile."""
    return list(_TABLE)
