"""The small tokenizer protocol the evaluation kit needs, and how a name becomes a tokenizer.

The generators and context recall only ever ask "how many tokens is this text" — of whole
haystacks, of filler units in batches, and of prefixes. Anything with a ``count(text) -> int``
method works (a :class:`ctxengine.Tokenizer`, or a wrapper around another library's
tokenizer); a ``count_many(texts)`` method, when present, is used for batches, and a
``spans(text)`` span counter for token offsets. Names go to :func:`ctxengine.get_tokenizer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from ..errors import InvalidInputError

__all__ = ["TokenCounter", "count_many", "count_one", "resolve_tokenizer", "tokenizer_name"]

_BIG = 1 << 18  # characters: above this, a batching tokenizer may split the text over cores


@runtime_checkable
class TokenCounter(Protocol):
    """Anything that counts tokens: ``count(text) -> int``."""

    def count(self, text: str) -> int: ...


def resolve_tokenizer(tokenizer: str | TokenCounter) -> TokenCounter:
    """A tokenizer object from a name (``"cl100k_base"``, a file path) or the object itself."""
    if isinstance(tokenizer, str):
        from ..tokenizer import get_tokenizer

        return get_tokenizer(tokenizer)
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


def count_one(tokenizer: TokenCounter, text: str) -> int:
    """Tokens of `text`; a long text goes through ``count_many`` when the tokenizer has it
    (ctxengine's splits one huge text over all cores, exactly)."""
    if len(text) > _BIG and callable(getattr(tokenizer, "count_many", None)):
        return count_many(tokenizer, [text])[0]
    return int(tokenizer.count(text))
