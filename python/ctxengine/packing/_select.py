"""Selection inputs: relevance normalisation, sketches, and the call into the core (or its
reference)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._native import core
from ..errors import InvalidInputError
from . import _reference

__all__ = ["SHINGLE", "SKETCH_K", "normalise", "select", "sketches"]

SKETCH_K = 64  # bins per sketch: a Jaccard estimate within about 0.06 at 0.8
SHINGLE = 3  # units per shingle (Broder's w-shingles; 3 words keeps topical overlap out)
RELEVANCE_FLOOR = 0.05  # the least relevant candidate keeps some value, so room left is used

STATUS_NAMES = {
    0: "candidate",
    1: "selected",
    2: "duplicate",
    3: "document cap",
    4: "no room",
    5: "anchor not selected",
}


def normalise(scores: Sequence[float]) -> np.ndarray:
    """Scores mapped onto [RELEVANCE_FLOOR, 1] by min-max (all 1 when they are all equal)."""
    s = np.asarray(scores, dtype=np.float64)
    if s.size and not np.isfinite(s).all():
        raise InvalidInputError("scores must be finite numbers (got NaN or infinity)")
    if s.size == 0:
        return s
    lo, hi = float(s.min()), float(s.max())
    if hi <= lo:
        return np.ones_like(s)
    return RELEVANCE_FLOOR + (1.0 - RELEVANCE_FLOOR) * (s - lo) / (hi - lo)


def sketches(texts: Sequence[str], *, impl: str = "native") -> np.ndarray:
    """One-permutation MinHash sketches of the texts (n x SKETCH_K uint32)."""
    if impl == "reference":
        if not texts:
            return np.zeros((0, SKETCH_K), dtype=np.uint32)
        return np.stack([_reference.minhash_sketch(t, SKETCH_K, SHINGLE) for t in texts])
    data = [t.encode("utf-8", "surrogatepass") for t in texts]
    offsets = np.zeros(len(data) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return core.pack.minhash_sketches(b"".join(data), offsets, SKETCH_K, SHINGLE)  # type: ignore[no-any-return]


def select(
    relevance: np.ndarray,
    cost: np.ndarray,
    group: np.ndarray,
    anchor: np.ndarray,
    sk: np.ndarray,
    status: np.ndarray,
    max_sim: np.ndarray,
    *,
    budget: int,
    diversity: float,
    duplicate_threshold: float,
    max_per_group: int,
    by_density: bool,
    impl: str = "native",
) -> list[int]:
    """Greedy selection (csrc/pack/select.hpp); `status` (int8) and `max_sim` (float64) are
    updated in place and carry the state from one call to the next."""
    if impl == "reference":
        return _reference.select_greedy(
            relevance.tolist(),
            cost.tolist(),
            group.tolist(),
            anchor.tolist(),
            sk,
            status,
            max_sim,
            budget,
            diversity,
            duplicate_threshold,
            max_per_group,
            by_density,
        )
    chosen = core.pack.select_greedy(
        np.ascontiguousarray(relevance, dtype=np.float64),
        np.ascontiguousarray(cost, dtype=np.int64),
        np.ascontiguousarray(group, dtype=np.int32),
        np.ascontiguousarray(anchor, dtype=np.int32),
        np.ascontiguousarray(sk, dtype=np.uint32),
        status,
        max_sim,
        int(budget),
        float(diversity),
        float(duplicate_threshold),
        int(max_per_group),
        bool(by_density),
    )
    return [int(i) for i in chosen]
