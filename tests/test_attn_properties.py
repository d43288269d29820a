"""Properties of the sparse-attention kernels that hold for every input (hypothesis):
Quest's score bounds q.k over its page, a full selection covers everything, the oracle covers at
least as much as any method at the same budget, and selections survive every layout."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from attn_support import rows
from ctxengine import attn


@st.composite
def problems(draw: st.DrawFn, *, max_nk: int = 90) -> tuple[np.ndarray, np.ndarray]:
    hkv = draw(st.integers(1, 3))
    group = draw(st.integers(1, 4))
    nk = draw(st.integers(1, max_nk))
    nq = draw(st.integers(1, min(nk, 12)))
    d = draw(st.sampled_from([1, 3, 8, 16, 33]))
    dtype = draw(st.sampled_from([np.float32, np.float16]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from([0.1, 1.0, 4.0]))
    q = rng.standard_normal((hkv * group, nq, d)) * scale
    k = rng.standard_normal((hkv, nk, d)) * scale
    if draw(st.booleans()):  # small integers: exact ties everywhere
        q, k = np.round(q), np.round(k)
    return q.astype(dtype), k.astype(dtype)


@given(problems(), st.integers(1, 20))
def test_quest_score_is_never_below_the_true_max_in_its_page(
    qk: tuple[np.ndarray, np.ndarray], page: int
) -> None:
    q, k = qk
    scores = attn.quest_scores(q, attn.page_meta(k, page)).astype(np.float64)
    group = q.shape[0] // k.shape[0]
    for h in range(q.shape[0]):
        kh = k[h // group].astype(np.float64)
        dots = q[h].astype(np.float64) @ kh.T  # [nq, nk]
        mag = np.abs(q[h].astype(np.float64)) @ np.abs(kh).T
        for p in range(scores.shape[2]):
            block = slice(p * page, (p + 1) * page)
            true_max = dots[:, block].max(axis=1)
            # float32 rounding of the bound's sum is the only slack
            slack = 1e-5 * mag[:, block].max(axis=1) + 1e-30
            assert np.all(scores[h, :, p] >= true_max - slack)


@given(problems())
def test_coverage_of_the_full_selection_is_one(qk: tuple[np.ndarray, np.ndarray]) -> None:
    q, k = qk
    nq, nk = q.shape[1], k.shape[1]
    everything = attn.streaming(nq, nk, sink=nk, window=nk)
    assert np.all(attn.coverage(q, k, everything) == 1.0)
    # So are whole-sequence page and block selections.
    assert np.all(attn.coverage(q, k, attn.oracle_topk(q, k, nk, page_size=7)) == 1.0)
    assert np.all(attn.coverage(q, k, attn.block_topk(q, k, block=5, top_k=nk)) == 1.0)
    # And the empty selection keeps nothing.
    nothing = attn.Selection(
        np.zeros(nq + 1, np.int32), [], unit="token", unit_size=1, heads=1, nq=nq, nk=nk
    )
    assert np.all(attn.coverage(q, k, nothing) == 0.0)


def _kept_keys(sel: attn.Selection) -> np.ndarray:
    """Causal keys each query's row keeps: [heads, nq]."""
    return sel.to_dense(causal=True).sum(axis=2)


@given(problems(max_nk=70), st.integers(1, 12))
def test_oracle_covers_at_least_as_much_as_any_method(
    qk: tuple[np.ndarray, np.ndarray], budget: int
) -> None:
    q, k = qk
    hq, nq, d = q.shape
    nk = k.shape[1]
    page = 4
    meta = attn.page_meta(k, page)
    pages_budget = max(2, budget // page)
    methods = [
        attn.select_pages(attn.quest_scores(q, meta), pages_budget, page_size=page, nk=nk),
        attn.block_topk(q, k, block=page, top_k=pages_budget),
        attn.streaming(nq, nk, sink=1, window=budget - 1, heads=hq),
        attn.hamming_topk(
            attn.hash_codes(q, attn.random_planes(d, 32)),
            attn.hash_codes(k, attn.random_planes(d, 32)),
            budget,
        ),
    ]
    for sel in methods:
        got = attn.coverage(q, k, sel)
        kept = np.broadcast_to(_kept_keys(sel), got.shape)
        # The token oracle with as many keys as the method kept, query by query.
        for n in np.unique(kept):
            best = attn.coverage(q, k, attn.oracle_topk(q, k, max(int(n), 1)))
            here = kept == n
            assert np.all(got[here] <= best[here] + 1e-5), sel
    # The page oracle bounds the page selection at the same number of pages.
    quest = methods[0]
    best_pages = attn.oracle_topk(q, k, pages_budget, page_size=page)
    assert np.all(attn.coverage(q, k, quest) <= attn.coverage(q, k, best_pages) + 1e-5)


@given(problems(max_nk=60), st.integers(1, 10), st.integers(0, 2**16))
def test_every_format_round_trips(qk: tuple[np.ndarray, np.ndarray], size: int, seed: int) -> None:
    q, k = qk
    nq, nk = q.shape[1], k.shape[1]
    sels = [
        attn.select_pages(attn.quest_scores(q, attn.page_meta(k, size)), 2, page_size=size, nk=nk),
        attn.block_topk(q, k, block=size, top_k=2),
        attn.oracle_topk(q, k, size),
    ]
    for sel in sels:
        dense = sel.to_dense()
        back = attn.Selection.from_flashinfer(sel.to_flashinfer())
        np.testing.assert_array_equal(back.to_dense(), dense)
        if sel.unit == "page":
            table = np.random.default_rng(seed).permutation(sel.units or 1).astype(np.int32)
            tables = sel.to_block_table(table)
            again = attn.Selection.from_block_table(tables, table, heads=sel.heads, nq=nq, nk=nk)
            assert rows(again) == rows(sel)
        else:
            np.testing.assert_array_equal(
                attn.Selection.from_dense(sel.to_dense(causal=True)).to_dense(),
                sel.to_dense(causal=True),
            )
