"""Helpers of the sparse-attention tests: random q/k, selections as rows, and the comparison of
a kernel's selection with the NumPy reference's."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from ctxengine import attn
from ctxengine._native import core

Rows = list[list[int]]


def qk(
    seed: int,
    hq: int,
    hkv: int,
    nq: int,
    nk: int,
    d: int,
    dtype: type = np.float32,
    *,
    quantize: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Random q ``[hq, nq, d]`` and k ``[hkv, nk, d]``; `quantize` rounds to small integers,
    which makes many exact ties."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((hq, nq, d))
    k = rng.standard_normal((hkv, nk, d))
    if quantize:
        q, k = np.round(q), np.round(k)
    return q.astype(dtype), k.astype(dtype)


def rows(sel: attn.Selection) -> Rows:
    ptr = np.asarray(sel.indptr)
    idx = np.asarray(sel.indices)
    return [idx[ptr[r] : ptr[r + 1]].tolist() for r in range(len(ptr) - 1)]


def assert_rows_match(
    got: Rows,
    ref: Rows,
    scores: Callable[[int], Sequence[float]],
    *,
    tol: float,
    forced: Callable[[int, int], bool] | None = None,
) -> None:
    """Rows equal, except where an entry's reference score is within `tol` (relative to the
    score scale) of the row's cutoff: a near-tie that float32 rounding may break either way."""
    assert len(got) == len(ref)
    for r, (g, e) in enumerate(zip(got, ref, strict=True)):
        if g == e:
            continue
        assert len(g) == len(e), f"row {r}: {len(g)} entries, reference {len(e)}"
        s = np.asarray(scores(r), dtype=np.float64)
        free = [j for j in e if not (forced and forced(r, j))]
        cut = min(s[j] for j in free)
        scale = max(1.0, float(np.nanmax(np.abs(s))))
        for j in set(g) ^ set(e):
            assert not (forced and forced(r, j)), f"row {r}: forced entry {j} differs"
            assert abs(s[j] - cut) <= tol * scale, (
                f"row {r}: entry {j} (score {s[j]}) differs from the reference, cutoff {cut}"
            )


def available_levels() -> list[str]:
    """The SIMD levels this CPU and build offer (set_simd_level refuses the others)."""
    levels = []
    for name in ("scalar", "avx2", "avx512"):
        try:
            core.attn.set_simd_level(name)
            levels.append(name)
        except ValueError:
            pass
    core.attn.set_simd_level("auto")
    return levels


@contextmanager
def simd(level: str) -> Iterator[None]:
    """Run the kernels on one SIMD level, then return to the automatic choice."""
    core.attn.set_simd_level(level)
    try:
        yield
    finally:
        core.attn.set_simd_level("auto")


def nan_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


def every_method(q: np.ndarray, k: np.ndarray, *, page: int, keys: int) -> list[attn.Selection]:
    """One selection of each method (and both streaming head layouts) at about `keys` keys."""
    hq, nq, d = q.shape
    nk = k.shape[1]
    planes = attn.random_planes(d, 64)
    v, s = attn.vertical_slash(q, k, n_vertical=keys, n_slash=keys, sink=2, local=2)
    scores = attn.quest_scores(q, attn.page_meta(k, page))
    return [
        attn.select_pages(scores, max(2, keys // page), page_size=page, nk=nk),
        attn.block_topk(q, k, block=page, top_k=2),
        attn.streaming(nq, nk, sink=2, window=keys, heads=hq),
        attn.streaming(nq, nk, sink=2, window=keys),
        attn.hamming_topk(attn.hash_codes(q, planes), attn.hash_codes(k, planes), keys),
        attn.vertical_slash_selection(v, s, nq=nq, nk=nk),
        attn.oracle_topk(q, k, keys),
        attn.oracle_topk(q, k, max(1, keys // page), page_size=page),
    ]
