"""Exact token offsets of str offsets: how many tokens the text before each offset has.

The token offset of a str offset ``i`` in ``text`` is ``count(text[:i])``, exactly. Counting
each prefix from scratch is exact for any tokenizer; it costs one count per offset.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._tokens import TokenCounter, count_many

__all__ = ["token_offsets"]

_BATCH = 8


def token_offsets(tokenizer: TokenCounter, text: str, offsets: Sequence[int]) -> list[int]:
    """``[count(text[:i]) for i in offsets]``, exactly.

    >>> class Words:
    ...     def count(self, s):
    ...         return len(s.split())
    >>> token_offsets(Words(), "a b c d", [0, 2, 7])
    [0, 1, 4]
    """
    unique = sorted(set(offsets))
    counts: dict[int, int] = {}
    for k in range(0, len(unique), _BATCH):  # batches bound the memory of the prefix copies
        batch = unique[k : k + _BATCH]
        counts.update(zip(batch, count_many(tokenizer, [text[:i] for i in batch]), strict=True))
    return [counts[i] for i in offsets]
