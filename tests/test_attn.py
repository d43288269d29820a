"""Sparse-attention kernels (ctxengine.attn) against the plain NumPy reference, on both SIMD
levels, on seeded random and adversarial inputs (ties, NaN/inf, partial pages and blocks, GQA
groups 1..8, D in {64, 80, 128, 256}, float16)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from attn_support import (
    assert_rows_match,
    available_levels,
    every_method,
    nan_equal,
    qk,
    rows,
    simd,
)
from ctxengine import attn
from ctxengine._native import core
from ctxengine.attn import _reference as ref

LEVELS = ["scalar", "avx2", "avx512"]
# (hq, hkv, d): GQA groups 1..8 and the head sizes models use.
SHAPES = [(2, 2, 64), (4, 2, 80), (6, 2, 128), (8, 1, 256), (8, 2, 64), (7, 1, 80), (3, 3, 128)]


@pytest.fixture(params=LEVELS)
def level(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param not in available_levels():
        pytest.skip(f"this CPU (or build) has no {request.param} kernels")
    with simd(request.param):
        yield request.param


def test_the_simd_level_is_the_one_forced(level: str) -> None:
    assert attn.simd_backend() == level


# ---- page bounds ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize(("nk", "page"), [(1, 16), (16, 16), (100, 16), (37, 5), (64, 1)])
def test_page_meta_equals_reference(level: str, dtype: type, nk: int, page: int) -> None:
    _, k = qk(nk, 1, 3, 1, nk, 80, dtype)
    meta = attn.page_meta(k, page)
    kmin, kmax = ref.page_meta(k, page)
    assert meta.pages == -(-nk // page) and meta.nk == nk and meta.dtype == np.dtype(dtype).name
    np.testing.assert_array_equal(meta.kmin, kmin)
    np.testing.assert_array_equal(meta.kmax, kmax)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_page_meta_nan_and_inf(level: str, dtype: type) -> None:
    _, k = qk(1, 1, 2, 1, 50, 24, dtype)
    k[0, 3, 5] = np.nan  # page 0 channel 5
    k[1, 17, 0] = np.inf
    k[1, 18, 1] = -np.inf
    k[0, 49, 23] = np.nan  # the partial last page
    meta = attn.page_meta(k, 16)
    kmin, kmax = ref.page_meta(k, 16)
    assert nan_equal(meta.kmin, kmin) and nan_equal(meta.kmax, kmax)
    assert np.isnan(meta.kmin[0, 0, 5]) and np.isnan(meta.kmax[0, 0, 5])
    assert meta.kmax[1, 1, 0] == np.inf and meta.kmin[1, 1, 1] == -np.inf


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_append_in_pieces_equals_one_build(level: str, dtype: type) -> None:
    _, k = qk(2, 1, 2, 1, 300, 64, dtype)
    k[1, 150, 7] = np.nan
    whole = attn.page_meta(k, 16)
    rng = np.random.default_rng(5)
    cuts = np.sort(rng.choice(np.arange(1, 300), size=20, replace=False))
    parts = np.split(k, cuts, axis=1)
    meta = attn.page_meta(np.ascontiguousarray(parts[0]), 16)
    for part in parts[1:]:
        meta.append(np.ascontiguousarray(part))
    assert meta.nk == 300 and meta.pages == whole.pages
    assert nan_equal(meta.kmin, whole.kmin) and nan_equal(meta.kmax, whole.kmax)
    meta.append(np.zeros((2, 0, 64), dtype))  # nothing to add
    assert meta.nk == 300


def test_append_one_key_at_a_time_as_decoding(level: str) -> None:
    _, k = qk(3, 1, 2, 1, 70, 64, np.float16)
    meta = attn.page_meta(k[:, :1].copy(), 8)
    for t in range(1, 70):
        meta.append(k[:, t : t + 1].copy())
    kmin, kmax = ref.page_meta(k, 8)
    np.testing.assert_array_equal(meta.kmin, kmin)
    np.testing.assert_array_equal(meta.kmax, kmax)


# ---- quest scores -----------------------------------------------------------------------------


def _quest_close(got: np.ndarray, q: np.ndarray, kmin: np.ndarray, kmax: np.ndarray) -> None:
    want = ref.quest_scores(q, kmin, kmax)
    # float32 rounding of a D-term sum: relative to the sum of the terms' magnitudes.
    group = q.shape[0] // kmin.shape[0]
    with np.errstate(invalid="ignore"):
        mag = np.stack(
            [
                np.abs(q[h].astype(np.float64))
                @ np.maximum(np.abs(kmin[h // group]), np.abs(kmax[h // group])).T
                for h in range(q.shape[0])
            ]
        )
    finite = np.isfinite(want)
    assert nan_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    assert np.all(np.abs(got[finite] - want[finite]) <= 2e-6 * mag[finite] + 1e-30)


@pytest.mark.parametrize(("hq", "hkv", "d"), SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_quest_scores_equal_reference(level: str, hq: int, hkv: int, d: int, dtype: type) -> None:
    q, k = qk(hq * d, hq, hkv, 5, 203, d, dtype)
    meta = attn.page_meta(k, 16)
    got = attn.quest_scores(q, meta)
    assert got.shape == (hq, 5, 13) and got.dtype == np.float32
    kmin, kmax = ref.page_meta(k, 16)
    _quest_close(got, q, kmin, kmax)


def test_quest_scores_nan_inf_and_zero_channels(level: str) -> None:
    q, k = qk(9, 4, 2, 3, 64, 16)
    k[0, 2, 3] = np.nan  # page 0 of head 0: NaN
    k[1, 20, 4] = np.inf  # page 1 of head 1: kmax inf
    k[1, 40, 5] = -np.inf  # page 2 of head 1: kmin -inf
    q[2:, :, 4] = 0.0  # heads 2, 3 read head 1: 0 * inf is NaN
    q[2:, 1, 5] = 1.0  # a positive channel with kmin = -inf picks kmax: finite
    meta = attn.page_meta(k, 16)
    got = attn.quest_scores(q, meta)
    kmin, kmax = ref.page_meta(k, 16)
    _quest_close(got, q, kmin, kmax)
    assert np.isnan(got[0:2, :, 0]).all() and np.isnan(got[2:, :, 1]).all()
    assert np.isfinite(got[2:, 1, 2]).all()


def test_quest_after_append_equals_fresh_build(level: str) -> None:
    q, k = qk(4, 8, 2, 1, 1000, 128, np.float16)
    meta = attn.page_meta(k[:, :777].copy(), 16)
    meta.append(k[:, 777:].copy())
    np.testing.assert_array_equal(
        attn.quest_scores(q, meta), attn.quest_scores(q, attn.page_meta(k, 16))
    )


# ---- page selection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nq", "nk", "page", "budget", "sink", "local"),
    [
        (1, 1000, 16, 8, 1, 1),
        (7, 100, 16, 3, 1, 1),
        (5, 5, 2, 2, 0, 2),
        (4, 64, 16, 4, 2, 2),
        (3, 90, 7, 5, 0, 0),
    ],
)
def test_select_pages_equals_reference(
    nq: int, nk: int, page: int, budget: int, sink: int, local: int
) -> None:
    rng = np.random.default_rng(nk)
    pages = -(-nk // page)
    scores = np.round(rng.standard_normal((3, nq, pages)) * 2).astype(np.float32)  # many ties
    scores[0, 0, 1] = np.nan
    scores[1, -1, :2] = np.inf
    scores[2, 0, -1] = -np.inf
    sel = attn.select_pages(scores, budget, page_size=page, nk=nk, sink=sink, local=local)
    want = ref.select_pages(scores, budget, page_size=page, nk=nk, sink=sink, local=local)
    assert rows(sel) == want
    assert sel.unit == "page" and sel.unit_size == page and sel.indptr.dtype == np.int32


def test_select_pages_all_ties_go_to_the_lower_pages() -> None:
    scores = np.zeros((2, 1, 50), np.float32)
    sel = attn.select_pages(scores, 6, page_size=16, sink=1, local=1)
    assert rows(sel) == [[0, 1, 2, 3, 4, 49]] * 2


def test_select_pages_nan_scores_rank_last() -> None:
    scores = np.array([[[np.nan, np.nan, -np.inf, 1.0, np.nan, 0.0]]], np.float32)
    sel = attn.select_pages(scores, 4, page_size=4, sink=0, local=0)
    assert rows(sel) == [[0, 2, 3, 5]]


# ---- block top-k ------------------------------------------------------------------------------


@pytest.mark.parametrize(("hq", "hkv", "d"), SHAPES)
@pytest.mark.parametrize(
    ("nq", "nk", "block", "top_k"), [(100, 100, 16, 3), (37, 150, 16, 4), (10, 64, 64, 2)]
)
def test_block_topk_equals_reference(
    level: str, hq: int, hkv: int, d: int, nq: int, nk: int, block: int, top_k: int
) -> None:
    q, k = qk(nq + d, hq, hkv, nq, nk, d, np.float16 if d == 80 else np.float32)
    sel = attn.block_topk(q, k, block=block, top_k=top_k)
    want = ref.block_topk(q, k, block=block, top_k=top_k)
    scores = ref.block_scores(q, k, block)
    nqb = scores.shape[1]
    assert_rows_match(rows(sel), want, lambda r: scores[r // nqb, r % nqb], tol=1e-5)
    assert sel.rows == hq * nqb and sel.unit == "block"


def test_block_topk_exact_ties_and_nan(level: str) -> None:
    q, k = qk(1, 4, 2, 64, 200, 64, quantize=True)
    k[:, 64:128] = k[:, 0:64]  # key blocks 1 and 2 repeat blocks 0 and 1 (block=32): ties
    k[1, 150, 3] = np.nan  # key block 4 of KV head 1 scores NaN
    sel = attn.block_topk(q, k, block=32, top_k=3)
    assert rows(sel) == ref.block_topk(q, k, block=32, top_k=3)


# ---- vertical-slash ---------------------------------------------------------------------------


def _vs_check(q: np.ndarray, k: np.ndarray, **kw: int) -> None:
    v, s = attn.vertical_slash(q, k, **kw)
    rv, rs = ref.vertical_slash(q, k, **kw)
    sv, ss = ref.vertical_slash_sums(q, k, last_q=kw.get("last_q", 64))
    _, _, gv, gs = core.attn.vertical_slash(
        q,
        k,
        kw.get("last_q", 64),
        kw["n_vertical"],
        kw["n_slash"],
        kw["sink"],
        kw["local"],
        0.0,
        True,
        0,
    )
    np.testing.assert_allclose(gv, sv, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gs, ss, rtol=1e-4, atol=1e-6)
    sink, local = kw["sink"], kw["local"]
    assert_rows_match(
        v.tolist(), rv.tolist(), lambda h: sv[h], tol=1e-5, forced=lambda h, j: j < sink
    )
    assert_rows_match(
        s.tolist(), rs.tolist(), lambda h: ss[h], tol=1e-5, forced=lambda h, o: o < local
    )


@pytest.mark.parametrize(("hq", "hkv", "d"), SHAPES)
def test_vertical_slash_equals_reference(level: str, hq: int, hkv: int, d: int) -> None:
    q, k = qk(hq + d, hq, hkv, 70, 1100, d, np.float16 if hq % 2 else np.float32)
    _vs_check(q, k, n_vertical=40, n_slash=30, sink=5, local=7)


@pytest.mark.parametrize(
    ("nq", "nk", "last_q"), [(1, 1, 64), (3, 600, 64), (64, 64, 64), (20, 513, 8)]
)
def test_vertical_slash_small_and_partial(level: str, nq: int, nk: int, last_q: int) -> None:
    q, k = qk(nk, 2, 1, nq, nk, 64)
    _vs_check(q, k, last_q=last_q, n_vertical=nk + 5, n_slash=3, sink=2, local=1)
    _vs_check(q, k, last_q=last_q, n_vertical=4, n_slash=nk, sink=0, local=0)


def test_vertical_slash_nan_and_inf(level: str) -> None:
    q, k = qk(5, 4, 2, 8, 300, 64)
    k[0, 10, 0] = np.nan  # every query of heads 0, 1 sees it: their sums are NaN
    q[3, 7, :] = 0.0
    k[1, 299, 0] = np.inf  # 0 * inf: the last query of head 3 has a NaN logit
    _vs_check(q, k, n_vertical=20, n_slash=20, sink=3, local=3)
    v, _ = attn.vertical_slash(q, k, n_vertical=20, n_slash=20, sink=3, local=3)
    assert v[0].tolist() == list(range(20))  # all NaN: forced, then the lower columns


def test_vertical_slash_sorted_with_forced_columns() -> None:
    q, k = qk(6, 2, 2, 64, 2000, 128)
    v, s = attn.vertical_slash(q, k, n_vertical=100, n_slash=200)
    assert v.shape == (2, 100) and s.shape == (2, 200) and v.dtype == np.int32
    assert (np.diff(v, axis=1) > 0).all() and (np.diff(s, axis=1) > 0).all()
    assert (v[:, :30] == np.arange(30)).all() and (s[:, :100] == np.arange(100)).all()


# ---- streaming --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nq", "nk", "sink", "window", "heads"),
    [(1, 10, 4, 3, 1), (10, 10, 4, 3, 2), (5, 1000, 4, 512, 1), (3, 3, 0, 0, 1), (4, 20, 30, 2, 3)],
)
def test_streaming_equals_reference(nq: int, nk: int, sink: int, window: int, heads: int) -> None:
    sel = attn.streaming(nq, nk, sink=sink, window=window, heads=heads)
    assert rows(sel) == ref.streaming(nq, nk, sink=sink, window=window, heads=heads)


# ---- hashing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize(("d", "bits"), [(64, 32), (80, 96), (128, 128), (256, 256)])
def test_hash_codes_equal_reference(level: str, dtype: type, d: int, bits: int) -> None:
    x = np.random.default_rng(d).standard_normal((3, 50, d)).astype(dtype)
    planes = attn.random_planes(d, bits, seed=1)
    got = attn.hash_codes(x, planes)
    want = ref.hash_codes(x, planes)
    assert got.shape == (3, 50, bits // 32) and got.dtype == np.uint32
    # A bit may differ only where the projection is within float32 rounding of 0.
    proj = x.astype(np.float64) @ planes.astype(np.float64)
    mag = np.abs(x.astype(np.float64)) @ np.abs(planes.astype(np.float64))
    diff = np.unpackbits((got ^ want).view(np.uint8), axis=-1, bitorder="little").astype(bool)
    assert np.all(np.abs(proj[diff]) <= 1e-5 * mag[diff])


def test_hash_codes_zero_and_nan_give_zero_bits(level: str) -> None:
    planes = attn.random_planes(8, 64)
    x = np.zeros((2, 8), np.float32)
    x[1, 3] = np.nan
    assert attn.hash_codes(x, planes).tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize(("hq", "hkv", "words"), [(1, 1, 1), (4, 2, 3), (8, 1, 4), (6, 3, 8)])
def test_hamming_topk_equals_reference(level: str, hq: int, hkv: int, words: int) -> None:
    rng = np.random.default_rng(words)
    nq, nk = 6, 300
    # Few distinct codes: many equal distances, which must go to the lower key.
    qc = rng.integers(0, 2**32, (hq, nq, words), dtype=np.uint64).astype(np.uint32)
    kc = rng.integers(0, 2**32, (hkv, nk, words), dtype=np.uint64).astype(np.uint32)
    kc[:, ::3] = kc[:, :1]
    for top_k in (1, 17, 299, 1000):
        sel = attn.hamming_topk(qc, kc, top_k)
        assert rows(sel) == ref.hamming_topk(qc, kc, top_k)


# ---- coverage and the oracle ------------------------------------------------------------------


@pytest.mark.parametrize(("hq", "hkv", "d"), SHAPES[:4])
def test_coverage_equals_reference(level: str, hq: int, hkv: int, d: int) -> None:
    q, k = qk(d, hq, hkv, 20, 130, d, np.float16 if d == 80 else np.float32)
    for sel in every_method(q, k, page=16, keys=25):
        got = attn.coverage(q, k, sel)
        want = ref.coverage(q, k, sel.to_dense())
        assert got.shape == (hq, 20) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=repr(sel))


def test_coverage_nan_inf_rules(level: str) -> None:
    q, k = qk(2, 2, 1, 4, 40, 64)
    k[0, 5, 0] = np.nan  # visible to every query: all NaN
    full = attn.streaming(4, 40, sink=40, window=40)
    assert np.isnan(attn.coverage(q, k, full)).all()
    q, k = qk(3, 2, 1, 4, 40, 64)
    k[0, 38, :] = np.inf  # q.k = +/-inf for the last two queries only
    got = attn.coverage(q, k, full)
    want = ref.coverage(q, k, full.to_dense())
    assert nan_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-6)
    assert np.isfinite(got[:, :2]).all()


@pytest.mark.parametrize(("hq", "hkv", "d"), SHAPES)
def test_oracle_equals_reference(level: str, hq: int, hkv: int, d: int) -> None:
    q, k = qk(hq * 7 + d, hq, hkv, 4, 97, d)
    scale = 1 / np.sqrt(d)
    sel = attn.oracle_topk(q, k, 10)
    assert_rows_match(
        rows(sel), ref.oracle_topk(q, k, 10), lambda r: ref.logits(q, k, r // 4, r % 4), tol=1e-5
    )
    sel = attn.oracle_topk(q, k, 3, page_size=8)
    mass = lambda r: ref.oracle_page_mass(q, k, r // 4, r % 4, 8)  # noqa: E731
    assert_rows_match(rows(sel), ref.oracle_topk(q, k, 3, page_size=8), mass, tol=1e-5)
    assert scale > 0


def test_oracle_ties_and_nan(level: str) -> None:
    q = np.ones((1, 1, 4), np.float32)
    k = np.zeros((1, 10, 4), np.float32)
    k[0, 7] = np.nan
    k[0, 2] = 1.0
    assert rows(attn.oracle_topk(q, k, 3)) == [[0, 1, 2]]
    assert rows(attn.oracle_topk(q, k, 10)) == [list(range(10))]
    assert rows(attn.oracle_topk(q, k, 2, page_size=3)) == ref.oracle_topk(q, k, 2, page_size=3)


# ---- thread count -----------------------------------------------------------------------------


def test_results_do_not_depend_on_the_thread_count(level: str) -> None:
    q, k = qk(11, 8, 2, 16, 3000, 128, np.float16)
    meta = attn.page_meta(k, 16, threads=1)
    meta2 = attn.page_meta(k, 16, threads=2)
    np.testing.assert_array_equal(meta.kmin, meta2.kmin)
    s1, s2 = attn.quest_scores(q, meta, threads=1), attn.quest_scores(q, meta, threads=2)
    np.testing.assert_array_equal(s1, s2)
    a = core.attn.vertical_slash(q, k, 64, 100, 100, 30, 100, 0.0, True, 1)
    b = core.attn.vertical_slash(q, k, 64, 100, 100, 30, 100, 0.0, True, 2)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    sel = attn.block_topk(q, k, block=64, top_k=5, threads=1)
    assert rows(sel) == rows(attn.block_topk(q, k, block=64, top_k=5, threads=2))
    np.testing.assert_array_equal(
        attn.coverage(q, k, sel, threads=1), attn.coverage(q, k, sel, threads=2)
    )
    assert rows(attn.oracle_topk(q, k, 50, threads=1)) == rows(
        attn.oracle_topk(q, k, 50, threads=2)
    )
