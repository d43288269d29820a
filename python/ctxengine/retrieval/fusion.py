"""Fusing ranked lists and diversifying them: what hybrid search is made of.

- :func:`weighted_fusion` (hybrid search's default): each list's scores are min-max normalised
  to [0, 1] over the list, then added with weights; an item missing from a list gets 0 from it,
  the value of that list's last item ("just past the end"). This is the convex combination of
  normalised scores that Bruch, Gai & Ingber (ACM TOIS 2023, "An Analysis of Fusion Functions
  for Hybrid Retrieval") found better than RRF, and Weaviate's ``relativeScoreFusion`` (its
  default since v1.24). The top of either list gets that list's whole weight, so a chunk that
  BM25 ranks first but the dense list lacks is not buried below chunks both lists rank lowly.
- :func:`reciprocal_rank_fusion` (Cormack, Clarke & Büttcher, SIGIR 2009): each list adds
  ``1 / (k + rank)`` (rank from 1) to an item's score; it ignores score scales, but an item in
  only one list gets at most ``1 / (k + 1)``, less than any item ranked within the first
  ``k + 1`` of both lists (``2 / (k + rank) > 1 / (k + 1)`` for ``rank < k + 2``).
- :func:`mmr` (Carbonell & Goldstein, SIGIR 1998): greedy selection that trades relevance for
  novelty, ``lambda * relevance - (1 - lambda) * max similarity to what is already selected``.

Ties always go to the lower id, so every result is one deterministic order.

>>> ids, scores = reciprocal_rank_fusion([np.array([3, 1, 2]), np.array([1, 4])])
>>> ids.tolist()
[1, 3, 4, 2]
>>> lexical = (np.array([7, 1, 2]), np.array([9.0, 2.0, 1.0]))  # 7: BM25's best, not dense's
>>> dense = (np.array([1, 2, 5]), np.array([0.5, 0.45, 0.4]))
>>> weighted_fusion([lexical, dense], [1.0, 1.0])[0].tolist()
[1, 7, 2, 5]
>>> reciprocal_rank_fusion([lexical[0], dense[0]])[0].tolist()
[1, 2, 7, 5]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InvalidInputError

__all__ = ["fuse", "mmr", "reciprocal_rank_fusion", "weighted_fusion"]


def _ranked(scores: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    items = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    ids = np.array([i for i, _ in items], dtype=np.int64)
    values = np.array([s for _, s in items], dtype=np.float64)
    return ids, values


def reciprocal_rank_fusion(
    lists: Sequence[np.ndarray], *, k: float = 60.0, weights: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ranked id lists (best first) by reciprocal rank: ``(ids, scores)``, best first."""
    if k < 0:
        raise InvalidInputError(f"the RRF constant k must be >= 0, got {k}")
    weights = [1.0] * len(lists) if weights is None else list(weights)
    fused: dict[int, float] = {}
    for ids, w in zip(lists, weights, strict=True):
        for rank, i in enumerate(np.asarray(ids).tolist(), start=1):
            fused[i] = fused.get(i, 0.0) + w / (k + rank)
    return _ranked(fused)


def weighted_fusion(
    lists: Sequence[tuple[np.ndarray, np.ndarray]], weights: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Fuse ``(ids, scores)`` lists by min-max normalised scores and weights: ``(ids,
    scores)``, best first. An item's score is ``sum(w * (s - min) / (max - min))`` over the
    lists holding it (a list whose scores are all equal gives each of its items ``w``)."""
    fused: dict[int, float] = {}
    for (ids, scores), w in zip(lists, weights, strict=True):
        s = np.asarray(scores, dtype=np.float64)
        if s.size == 0:
            continue
        lo, hi = float(s.min()), float(s.max())
        norm = (s - lo) / (hi - lo) if hi > lo else np.ones_like(s)
        for i, v in zip(np.asarray(ids).tolist(), norm.tolist(), strict=True):
            fused[i] = fused.get(i, 0.0) + w * v
    return _ranked(fused)


def fuse(
    lexical: tuple[np.ndarray, np.ndarray],
    dense: tuple[np.ndarray, np.ndarray],
    fusion: str,
    weights: Sequence[float],
) -> tuple[np.ndarray, np.ndarray]:
    """Hybrid search's fusion of the BM25 and dense ``(ids, scores)`` lists: ``"rrf"`` or
    ``"weighted"`` (see above), with `weights` for (bm25, dense)."""
    if fusion == "rrf":
        return reciprocal_rank_fusion([lexical[0], dense[0]], weights=weights)
    return weighted_fusion([lexical, dense], weights)


def mmr(
    ids: np.ndarray, relevance: np.ndarray, vectors: np.ndarray, k: int, *, lambda_: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Maximal marginal relevance: pick `k` of `ids` (with unit `vectors`, one row per id).

    `relevance` is min-max normalised first so that it is on the scale of cosine similarity.
    Returns ``(ids, mmr_scores)`` in selection order.

    >>> v = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    >>> mmr(np.array([7, 8, 9]), np.array([1.0, 0.99, 0.5]), v, 2, lambda_=0.5)[0].tolist()
    [7, 9]
    """
    if not 0.0 <= lambda_ <= 1.0:
        raise InvalidInputError(f"the MMR lambda must be between 0 and 1, got {lambda_}")
    ids = np.asarray(ids, dtype=np.int64)
    rel = np.asarray(relevance, dtype=np.float64)
    if ids.size == 0:
        return ids, rel
    lo, hi = rel.min(), rel.max()
    rel = (rel - lo) / (hi - lo) if hi > lo else np.ones_like(rel)
    sims = np.asarray(vectors, dtype=np.float64) @ np.asarray(vectors, dtype=np.float64).T
    chosen: list[int] = []
    scores: list[float] = []
    max_sim = np.full(ids.size, -np.inf)
    available = np.ones(ids.size, dtype=bool)
    for _ in range(min(k, ids.size)):
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        value = lambda_ * rel - (1 - lambda_) * penalty
        value[~available] = -np.inf
        best = min(np.flatnonzero(value == value.max()), key=lambda j: ids[j])
        chosen.append(int(best))
        scores.append(float(value[best]))
        available[best] = False
        max_sim = np.maximum(max_sim, sims[best])
    return ids[chosen], np.array(scores)
