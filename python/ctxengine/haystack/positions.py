"""Exact token offsets of str offsets: how many tokens the text before each offset has.

The token offset of a str offset ``i`` in ``text`` is ``count(text[:i])``, exactly. A tokenizer
that counts spans of one text after one pass (``tokenizer.spans(text).counts(starts, ends)``,
as ctxengine's Tokenizer does) answers all offsets at the cost of one count; any other tokenizer
counts each prefix from scratch (exact, one count per offset).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._tokens import TokenCounter, count_many

__all__ = ["counts_spans", "token_offsets"]

_BATCH = 8


def counts_spans(tokenizer: TokenCounter) -> bool:
    """Whether `tokenizer` counts spans of one text cheaply (``tokenizer.spans(text)``)."""
    return callable(getattr(tokenizer, "spans", None))


def token_offsets(tokenizer: TokenCounter, text: str, offsets: Sequence[int]) -> list[int]:
    """``[count(text[:i]) for i in offsets]``, exactly.

    >>> class Words:
    ...     def count(self, s):
    ...         return len(s.split())
    >>> token_offsets(Words(), "a b c d", [0, 2, 7])
    [0, 1, 4]
    """
    if not offsets:
        return []
    spans = getattr(tokenizer, "spans", None)
    if callable(spans):
        counter = spans(text)
        starts = np.zeros(len(offsets), dtype=np.int64)
        return [int(n) for n in counter.counts(starts, np.asarray(offsets, dtype=np.int64))]
    unique = sorted(set(offsets))
    counts: dict[int, int] = {}
    for k in range(0, len(unique), _BATCH):  # batches bound the memory of the prefix copies
        batch = unique[k : k + _BATCH]
        counts.update(zip(batch, count_many(tokenizer, [text[:i] for i in batch]), strict=True))
    return [counts[i] for i in offsets]
