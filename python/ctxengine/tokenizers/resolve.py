"""What every area accepts as "a tokenizer", and the one function that turns it into one.

A tokenizer argument is a name (``"cl100k_base"``), a path (a ``*.tiktoken`` or
``tokenizer.json`` file, or a Hugging Face model folder), a :class:`~ctxengine.Tokenizer`, any
object with a ``count(text) -> int`` method, another library's tokenizer with only an
``encode`` method (a tiktoken ``Encoding``, a HF ``tokenizers.Tokenizer``), or a plain function
``count(text) -> int``. Optional methods are used when present: ``count_many(texts)`` for
batches, ``encode``/``decode`` and ``count_until``/``spans`` for exact fitting.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import InvalidInputError
from .registry import get_tokenizer

__all__ = ["Counting", "TokenCounter", "count_many", "resolve_tokenizer", "tokenizer_name"]


@runtime_checkable
class TokenCounter(Protocol):
    """Anything that counts tokens: ``count(text) -> int``."""

    def count(self, text: str) -> int: ...


class Counting:
    """A tokenizer with a ``count`` method made from a count function or from an encode-only
    tokenizer; every other attribute is the wrapped object's."""

    def __init__(self, wrapped: Any, count: Callable[[str], Any]) -> None:
        self._wrapped = wrapped
        self.count = count  # as given: callers that need an int check what it returns

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._wrapped, attr)


def resolve_tokenizer(tokenizer: str | os.PathLike[str] | TokenCounter | Any) -> Any:
    """The tokenizer object for `tokenizer`: a name or path loaded (once, cached) by
    :func:`~ctxengine.get_tokenizer`; an object with ``count`` as it is; an encode-only
    tokenizer or a count function wrapped in :class:`Counting`.

    >>> resolve_tokenizer("cl100k_base").name
    'cl100k_base'
    >>> resolve_tokenizer(lambda text: len(text.split())).count("two words")
    2
    """
    if isinstance(tokenizer, (str, os.PathLike)):
        return get_tokenizer(tokenizer)
    if callable(getattr(tokenizer, "count", None)):
        return tokenizer
    encode = getattr(tokenizer, "encode_ordinary", None) or getattr(tokenizer, "encode", None)
    if callable(encode):
        return Counting(tokenizer, lambda text: len(encode(text)))
    if callable(tokenizer):
        return Counting(tokenizer, tokenizer)
    raise InvalidInputError(
        "tokenizer must be a name such as 'cl100k_base', a tokenizer file, a tokenizer object "
        f"(with count or encode) or a function count(text) -> int; got {type(tokenizer).__name__}"
    )


def tokenizer_name(tokenizer: Any) -> str:
    """A printable, storable name: the name itself, the ``name`` attribute, else the type."""
    if isinstance(tokenizer, (str, os.PathLike)):
        return os.fspath(tokenizer)
    name = getattr(tokenizer, "name", None)
    if isinstance(name, str):
        return name
    return type(tokenizer._wrapped if isinstance(tokenizer, Counting) else tokenizer).__name__


def count_many(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Token counts of `texts`, batched when the tokenizer has ``count_many``."""
    if not texts:
        return []
    batch = getattr(tokenizer, "count_many", None)
    if callable(batch):
        return [int(n) for n in np.asarray(batch(list(texts))).tolist()]
    return [int(tokenizer.count(t)) for t in texts]
