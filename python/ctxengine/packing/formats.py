"""Prompt formats and the exact count of what each one really sends.

Every format gets the same two texts, the instructions (system) and the user message (sources
and question), and renders them the way its backend receives them:

- ``text``: one string, the instructions, a blank line, then the user message; counted with the
  tokenizer, special-token text counted as plain text (as an API that takes raw text does).
- ``openai``: a Chat Completions message list; counted with OpenAI's documented formula (the
  OpenAI Cookbook, "How to count tokens with tiktoken": 3 tokens per message plus its role and
  content, plus 3 that prime the reply).
- ``anthropic``: a Messages API body (a top-level ``system`` and the messages). Anthropic does
  not publish its tokenizer or message overhead, so the count is the message texts in the chosen
  tokenizer; only Anthropic's count_tokens endpoint knows the real figure.
- ``chatml``: the ChatML string (``<|im_start|>role\\n...<|im_end|>\\n``, then the assistant
  header), counted with the tokenizer's special tokens recognised.
- ``hf``: any Hugging Face chat template (Jinja, from a tokenizer_config.json or a
  chat_template.jinja), rendered in a sandbox as ``transformers`` renders it and counted with the
  special tokens recognised, as ``apply_chat_template(tokenize=True)`` counts it.
"""

from __future__ import annotations

import contextvars
import json
import operator
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import FormatError, InvalidInputError, NotFoundError, UnsupportedError
from ..tokenizers import tokenizer_name
from ._tokenizer import count_with_specials

# A chat template is a file from a model folder: data, whose work is bounded. Jinja has no while
# loop, so a template's loops run over its inputs or over range(); the range() steps of one
# render are summed (nested loops multiply), and repetition (`'x' * n`, `**`) is size-checked.
_STEPS_PER_RENDER = 1_000_000
_MAX_REPEAT = 10_000_000  # characters or items one `*` may make
_MAX_EXPONENT = 10_000
_steps_left: contextvars.ContextVar[list[int]] = contextvars.ContextVar("steps_left")

__all__ = ["FORMATS", "ChatTemplate", "Rendered", "Renderer"]

FORMATS = ("text", "openai", "anthropic", "chatml", "hf")

# The OpenAI Cookbook's num_tokens_from_messages for the gpt-3.5-turbo-0613 and later, gpt-4 and
# gpt-4o families: every message costs 3 tokens besides its fields, and the reply is primed with
# <|start|>assistant<|message|>, 3 more.
OPENAI_TOKENS_PER_MESSAGE = 3
OPENAI_REPLY_PRIMING = 3

_SPECIAL_TOKEN_KEYS = (
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
)


@dataclass(frozen=True)
class Rendered:
    """One rendering of a prompt and its exact token count."""

    text: str
    messages: list[dict[str, str]]
    system: str | None
    tokens: int


class ChatTemplate:
    """A Hugging Face chat template, rendered as ``transformers`` renders it.

    The environment matches ``transformers``' ``apply_chat_template``: an immutable sandboxed
    Jinja2 environment with ``trim_blocks`` and ``lstrip_blocks``, the loop-controls extension,
    a ``tojson`` filter that does not escape HTML, and the ``raise_exception`` and
    ``strftime_now`` globals. The tokenizer config's special tokens (``bos_token``,
    ``eos_token``, ...) are passed to the template as variables.

    >>> t = ChatTemplate("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
    ...                  "{% if add_generation_prompt %}<assistant>{% endif %}")
    >>> t.render([{"role": "user", "content": "hi"}])
    '<user>hi<assistant>'
    """

    def __init__(
        self,
        template: str,
        *,
        special_tokens: Mapping[str, str] | None = None,
        source: str = "<string>",
    ) -> None:
        if not isinstance(template, str) or not template:
            raise InvalidInputError("a chat template must be a non-empty string")
        self.template = template
        self.special_tokens = dict(special_tokens or {})
        self.source = source

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, name: str | None = None) -> ChatTemplate:
        """Reads a chat template from a model folder, a ``tokenizer_config.json``, a
        ``chat_template.json`` or a ``chat_template.jinja`` file. `name` picks one of several
        named templates (default: the one named "default")."""
        p = Path(path)
        if p.is_dir():
            config = (
                _read_json(p / "tokenizer_config.json")
                if (p / "tokenizer_config.json").is_file()
                else {}
            )
            specials = _special_tokens(config)
            if (p / "chat_template.jinja").is_file():
                return cls(
                    _read_text(p / "chat_template.jinja"),
                    special_tokens=specials,
                    source=str(p / "chat_template.jinja"),
                )
            if (p / "chat_template.json").is_file():
                chosen = _pick(_read_json(p / "chat_template.json").get("chat_template"), name, p)
                return cls(chosen, special_tokens=specials, source=str(p / "chat_template.json"))
            if "chat_template" not in config:
                raise NotFoundError(
                    f"no chat template in {p}: expected chat_template.jinja or a tokenizer_config"
                    ".json with a chat_template field"
                )
            return cls(
                _pick(config["chat_template"], name, p),
                special_tokens=specials,
                source=str(p / "tokenizer_config.json"),
            )
        if not p.is_file():
            raise NotFoundError(f"chat template not found: {p}")
        if p.suffix == ".jinja":
            sibling = p.parent / "tokenizer_config.json"
            specials = _special_tokens(_read_json(sibling)) if sibling.is_file() else {}
            return cls(_read_text(p), special_tokens=specials, source=str(p))
        config = _read_json(p)
        if "chat_template" not in config:
            raise FormatError(f"{p} has no chat_template field")
        return cls(
            _pick(config["chat_template"], name, p),
            special_tokens=_special_tokens(config),
            source=str(p),
        )

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        add_generation_prompt: bool = True,
        **variables: Any,
    ) -> str:
        """The template applied to `messages` (and any extra template variables)."""
        compiled = _compile(self.template)
        try:
            import jinja2
        except ImportError as exc:  # pragma: no cover - jinja2 is a dependency
            raise UnsupportedError("chat templates need jinja2: pip install jinja2") from exc
        context = {**self.special_tokens, **variables}
        budget = _steps_left.set([_STEPS_PER_RENDER])
        try:
            return str(
                compiled.render(
                    messages=[dict(m) for m in messages],
                    tools=None,
                    documents=None,
                    add_generation_prompt=add_generation_prompt,
                    **context,
                )
            )
        except jinja2.TemplateError as exc:
            raise FormatError(
                f"the chat template ({self.source}) refused the messages: {exc}"
            ) from exc
        except Exception as exc:  # the template's own code failed: 1 % 0, None + 1, ...
            raise FormatError(
                f"the chat template ({self.source}) failed on these messages: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            _steps_left.reset(budget)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path} is not UTF-8 text: {exc}") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise FormatError(f"{path} must hold a JSON object")
    return data


def _special_tokens(config: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for key in _SPECIAL_TOKEN_KEYS:
        value = config.get(key)
        if isinstance(value, Mapping):  # a serialised AddedToken
            value = value.get("content")
        if isinstance(value, str):
            out[key] = value
    return out


def _pick(value: Any, name: str | None, where: Path) -> str:
    if isinstance(value, str):
        if name not in (None, "default"):
            raise NotFoundError(f"{where} has a single chat template, not one named {name!r}")
        return value
    if isinstance(value, list):
        named = {t.get("name"): t.get("template") for t in value if isinstance(t, Mapping)}
        chosen = named.get(name or "default")
        if isinstance(chosen, str):
            return chosen
        raise NotFoundError(
            f"{where} has no chat template named {name or 'default'!r} "
            f"(it has {', '.join(map(str, named))})"
        )
    raise FormatError(f"{where}: chat_template must be a string or a list of named templates")


@lru_cache(maxsize=32)
def _compile(template: str) -> Any:
    try:
        import jinja2
        import jinja2.ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError as exc:  # pragma: no cover - jinja2 is a dependency
        raise UnsupportedError("chat templates need jinja2: pip install jinja2") from exc

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(
        x: Any,
        ensure_ascii: bool = False,
        indent: int | None = None,
        separators: Any = None,
        sort_keys: bool = False,
    ) -> str:
        # Jinja's own tojson escapes HTML characters; chat templates expect plain JSON.
        return json.dumps(
            x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
        )

    def strftime_now(fmt: str) -> str:
        return datetime.now().strftime(fmt)

    class SafeNamespace(jinja2.utils.Namespace):
        # As transformers does: a namespace may not hold underscore names (CPython internals).
        def __setitem__(self, name: str, value: Any) -> None:
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(f"cannot set {name!r} on a namespace")
            super().__setitem__(name, value)

    def safe_dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict(*args, **kwargs)

    def bounded_range(*args: int) -> range:
        steps = range(*args)
        left = _steps_left.get([_STEPS_PER_RENDER])
        left[0] -= len(steps)
        if left[0] < 0:
            raise jinja2.exceptions.SecurityError(
                f"the template asks for more than {_STEPS_PER_RENDER:,} range() steps in one "
                "render; a chat template's loops should follow its messages"
            )
        return steps

    class BoundedEnvironment(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
            if op == "**" and isinstance(right, int) and abs(right) > _MAX_EXPONENT:
                raise jinja2.exceptions.SecurityError(f"exponent {right} is too large")
            if op == "*":
                for seq, n in ((left, right), (right, left)):
                    sized = isinstance(seq, (str, list, tuple)) and isinstance(n, int)
                    if sized and len(seq) * n > _MAX_REPEAT:
                        raise jinja2.exceptions.SecurityError(
                            f"repetition of {len(seq) * n:,} items is too large"
                        )
                return operator.mul(left, right)
            return super().call_binop(context, op, left, right)

    env = BoundedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    env.globals["range"] = bounded_range
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["namespace"] = SafeNamespace
    env.globals["dict"] = safe_dict
    try:
        return env.from_string(template)
    except jinja2.TemplateSyntaxError as exc:
        raise FormatError(f"the chat template does not parse: {exc}") from exc
    except Exception as exc:  # Jinja's compiler on odd input: nesting too deep, ...
        raise FormatError(
            f"the chat template does not compile: {type(exc).__name__}: {exc}"
        ) from exc


class Renderer:
    """Renders (instructions, user message) in one format and counts it exactly."""

    def __init__(self, fmt: str, tokenizer: Any, *, chat_template: ChatTemplate | None = None):
        if fmt not in FORMATS:
            raise InvalidInputError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        if fmt == "hf" and chat_template is None:
            raise InvalidInputError(
                'format="hf" needs a chat template: pass chat_template= a model folder, a '
                "tokenizer_config.json or a .jinja file (or a tokenizer folder that has one)"
            )
        self.format = fmt
        self.tokenizer = tokenizer
        self.chat_template = chat_template

    @property
    def counted_as(self) -> str:
        """How `tokens` is computed, in words (for manifests and docs)."""
        name = tokenizer_name(self.tokenizer)
        return {
            "text": f"{name} count of the prompt text (special-token text as plain text)",
            "openai": f"{name} count of each message plus OpenAI's documented overhead "
            f"({OPENAI_TOKENS_PER_MESSAGE} per message, {OPENAI_REPLY_PRIMING} for the reply)",
            "anthropic": f"{name} count of the system and message texts (Anthropic's tokenizer "
            "and message overhead are not public)",
            "chatml": f"{name} count of the ChatML string with special tokens recognised",
            "hf": f"{name} count of the rendered chat template with special tokens recognised",
        }[self.format]

    def messages(self, system: str, user: str) -> list[dict[str, str]]:
        out = [{"role": "system", "content": system}] if system else []
        out.append({"role": "user", "content": user})
        return out

    def render(self, system: str, user: str) -> Rendered:
        """The prompt in this format and its exact count."""
        return self.count(self.assemble(system, user))

    def assemble(self, system: str, user: str) -> Rendered:
        """The prompt in this format, not yet counted (``tokens`` is -1)."""
        messages = self.messages(system, user)
        plain = f"{system}\n\n{user}" if system else user
        if self.format in ("text", "openai"):
            return Rendered(plain, messages, None, -1)
        if self.format == "anthropic":
            return Rendered(plain, [messages[-1]], system or None, -1)
        if self.format == "chatml":
            text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
            return Rendered(text + "<|im_start|>assistant\n", messages, None, -1)
        assert self.chat_template is not None
        text = self.chat_template.render(messages, add_generation_prompt=True)
        return Rendered(text, messages, None, -1)

    def count(self, r: Rendered) -> Rendered:
        """`r` with its exact count filled in."""
        tok = self.tokenizer
        if self.format == "text":
            tokens = int(tok.count(r.text))
        elif self.format == "openai":
            tokens = OPENAI_REPLY_PRIMING
            for m in r.messages:
                tokens += OPENAI_TOKENS_PER_MESSAGE + tok.count(m["role"]) + tok.count(m["content"])
        elif self.format == "anthropic":
            tokens = (tok.count(r.system) if r.system else 0) + tok.count(r.messages[-1]["content"])
        else:
            tokens = count_with_specials(tok, r.text)
        return Rendered(r.text, r.messages, r.system, int(tokens))
