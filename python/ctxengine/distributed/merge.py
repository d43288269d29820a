"""The gather step: shards' ranked lists into one, in the order one Index would give.

Every list is ordered by score descending, ties to the lower (global) chunk id, which is how
an Index breaks ties; each shard's list is its top k in that order, so the top k of the merged
lists is the global top k. Fusion (hybrid search) and MMR run after this merge, on the merged
lists, because their normalisation is over a whole list (retrieval/fusion.py).

>>> a = (np.array([4, 9]), np.array([2.0, 1.0]))
>>> b = (np.array([1, 7]), np.array([2.0, 1.5]))
>>> merge_lists([a, b], 3)[0].tolist()
[1, 4, 7]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["merge_hits", "merge_lists"]


def merge_lists(
    lists: Sequence[tuple[np.ndarray, np.ndarray]], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The best `k` of (ids, scores) lists: score descending, then id ascending."""
    ids = np.concatenate([np.asarray(i, dtype=np.int64) for i, _ in lists] or [np.empty(0, int)])
    scores = np.concatenate([np.asarray(s, dtype=np.float64) for _, s in lists] or [np.empty(0)])
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


def merge_hits(lists: Sequence[Sequence[Any]], k: int) -> list[Any]:
    """The best `k` of hit lists (objects with ``score`` and ``chunk_id``), in the same order."""
    hits = [h for hits in lists for h in hits]
    hits.sort(key=lambda h: (-h.score, h.chunk_id))
    return hits[:k]
