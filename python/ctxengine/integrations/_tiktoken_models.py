"""Which OpenAI encoding each model name uses, for the tiktoken drop-in's ``encoding_for_model``.

The same answers as tiktoken 0.14 gives: an exact model name first, then the longest known
prefix of a versioned name (``gpt-4o-2024-05-13`` -> ``gpt-4o-``). Names are data, grouped by
encoding here so that a new model is one line.
"""

from __future__ import annotations

__all__ = ["encoding_name_for_model"]

_EXACT: dict[str, tuple[str, ...]] = {
    "o200k_base": ("o1", "o3", "o4-mini", "gpt-5", "gpt-4.1", "gpt-4o"),
    "cl100k_base": (
        "gpt-4",
        "gpt-3.5-turbo",
        "gpt-3.5",
        "gpt-35-turbo",
        "davinci-002",
        "babbage-002",
        "text-embedding-ada-002",
        "text-embedding-3-small",
        "text-embedding-3-large",
    ),
    "p50k_base": (
        "text-davinci-003",
        "text-davinci-002",
        "code-davinci-002",
        "code-davinci-001",
        "code-cushman-002",
        "code-cushman-001",
        "davinci-codex",
        "cushman-codex",
    ),
    "p50k_edit": ("text-davinci-edit-001", "code-davinci-edit-001"),
    "r50k_base": (
        "text-davinci-001",
        "text-curie-001",
        "text-babbage-001",
        "text-ada-001",
        "davinci",
        "curie",
        "babbage",
        "ada",
        *(f"text-similarity-{size}-001" for size in ("davinci", "curie", "babbage", "ada")),
        *(f"text-search-{size}-doc-001" for size in ("davinci", "curie", "babbage", "ada")),
        "code-search-babbage-code-001",
        "code-search-ada-code-001",
    ),
    "gpt2": ("gpt2", "gpt-2"),
}

_PREFIX: dict[str, tuple[str, ...]] = {
    "o200k_base": (
        "o1-",
        "o3-",
        "o4-mini-",
        "gpt-5",
        "gpt-4.5-",
        "gpt-4.1-",
        "chatgpt-4o-",
        "gpt-4o-",
        "ft:gpt-4o",
    ),
    "cl100k_base": (
        "gpt-4-",
        "gpt-3.5-turbo-",
        "gpt-35-turbo-",
        "ft:gpt-4",
        "ft:gpt-3.5-turbo",
        "ft:davinci-002",
        "ft:babbage-002",
    ),
    "o200k_harmony": ("gpt-oss-",),
}

_BY_NAME = {model: enc for enc, models in _EXACT.items() for model in models}
# Longest prefix first, so "ft:gpt-4o" wins over "ft:gpt-4".
_BY_PREFIX = sorted(
    ((p, enc) for enc, prefixes in _PREFIX.items() for p in prefixes), key=lambda x: -len(x[0])
)


def encoding_name_for_model(model_name: str) -> str:
    """The encoding name of an OpenAI model; KeyError (as tiktoken) for an unknown model.

    >>> encoding_name_for_model("gpt-4o-2024-08-06")
    'o200k_base'
    >>> encoding_name_for_model("text-davinci-003")
    'p50k_base'
    """
    if model_name in _BY_NAME:
        return _BY_NAME[model_name]
    for prefix, enc in _BY_PREFIX:
        if model_name.startswith(prefix):
            return enc
    raise KeyError(
        f"no known encoding for model {model_name!r}; ask for one by name with "
        "get_encoding('o200k_base') (or 'cl100k_base', ...)"
    )
