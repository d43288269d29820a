"""ctxengine.attn's public surface: the Selection formats (round trips through every layout),
clear errors for bad input and the SIMD switch (tests/test_doctests.py runs the examples)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from attn_support import every_method, qk, rows
from ctxengine import InvalidInputError, attn
from ctxengine.attn import _reference as ref
from package_env import package_env

# ---- formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("nq", "nk"), [(1, 1), (1, 61), (9, 61), (40, 40)])
def test_to_dense_round_trips_through_every_format(nq: int, nk: int) -> None:
    q, k = qk(nk, 4, 2, nq, nk, 16)
    for sel in every_method(q, k, page=8, keys=6):
        dense = sel.to_dense()
        assert dense.shape == (sel.heads, nq, nk) and dense.dtype == bool
        layout = sel.to_flashinfer()
        again = attn.Selection.from_flashinfer(layout)
        np.testing.assert_array_equal(again.to_dense(), dense)
        assert rows(again) == rows(sel)
        if sel.unit == "page":
            rng = np.random.default_rng(nk)
            table = rng.permutation(200)[: sel.units].astype(np.int32) + 5
            tables = sel.to_block_table(table)
            back = attn.Selection.from_block_table(tables, table, heads=sel.heads, nq=nq, nk=nk)
            np.testing.assert_array_equal(back.to_dense(), dense)
        if sel.unit != "block":
            np.testing.assert_array_equal(
                attn.Selection.from_dense(dense, unit_size=1).to_dense(), dense
            )


def test_to_dense_matches_the_reference_expansion() -> None:
    q, k = qk(3, 4, 2, 11, 70, 16)
    for sel in every_method(q, k, page=8, keys=6):
        want = ref.dense(rows(sel), sel.heads, sel.nq, 70, sel.unit_size, sel.query_block)
        np.testing.assert_array_equal(sel.to_dense(), want)


def test_paged_layout_reads_exactly_the_causal_keys() -> None:
    q, k = qk(4, 2, 1, 13, 101, 16)
    for sel in every_method(q, k, page=8, keys=6):
        if sel.unit == "block":
            continue
        layout = sel.to_flashinfer()
        causal = sel.to_dense(causal=True)
        ptr, idx, last = layout.indptr, layout.indices, layout.last_page_len
        for r in range(sel.rows):
            h, i = divmod(r, sel.nq)
            pages = idx[ptr[r] : ptr[r + 1]]
            keys = [
                u * layout.page_size + t
                for n, u in enumerate(pages)
                for t in range(last[r] if n == len(pages) - 1 else layout.page_size)
            ]
            assert keys == np.flatnonzero(causal[h, i]).tolist()


def test_block_tables_hold_physical_pages_and_lengths() -> None:
    scores = np.array([[[5, 1, 4, 0, 3]]], np.float32)
    sel = attn.select_pages(scores, 3, page_size=4, nk=18, sink=1, local=1)
    assert rows(sel) == [[0, 2, 4]]
    tables = sel.to_block_table(np.array([40, 41, 42, 43, 44]), pad=-1)
    assert tables.table.tolist() == [[40, 42, 44]]
    assert tables.lengths.tolist() == [3] and tables.seq_lens.tolist() == [2 * 4 + 2]
    with pytest.raises(InvalidInputError, match="page selection"):
        attn.streaming(1, 10).to_block_table(np.arange(10))
    with pytest.raises(InvalidInputError, match="distinct"):
        attn.Selection.from_block_table(tables, np.array([1, 1, 2, 3, 4]), heads=1, nq=1, nk=18)


def test_bsr_layout_per_head() -> None:
    q, k = qk(5, 3, 1, 20, 50, 8)
    sel = attn.block_topk(q, k, block=8, top_k=2)
    layout = sel.to_flashinfer()
    assert layout.kind == "bsr" and layout.page_size == 8 and (layout.nq, layout.nk) == (20, 50)
    ptr, idx = layout.head(1)
    assert ptr[0] == 0 and len(ptr) == 4
    assert [idx[ptr[b] : ptr[b + 1]].tolist() for b in range(3)] == rows(sel)[3:6]


def test_selection_validates_its_rows() -> None:
    with pytest.raises(InvalidInputError, match="ascending"):
        attn.Selection([0, 2], [3, 1], unit="token", unit_size=1, heads=1, nq=1, nk=5)
    with pytest.raises(InvalidInputError, match=r"\[0, 5\)"):
        attn.Selection([0, 1], [5], unit="token", unit_size=1, heads=1, nq=1, nk=5)
    with pytest.raises(InvalidInputError, match="rows"):
        attn.Selection([0, 1, 2], [0, 1], unit="page", unit_size=4, heads=1, nq=1, nk=5)
    with pytest.raises(InvalidInputError, match="unit"):
        attn.Selection([0], [], unit="tokens", unit_size=1, heads=1, nq=0)
    sel = attn.Selection([0, 1, 1], [2], unit="token", unit_size=1, heads=1, nq=2, nk=3)
    assert sel.row(0, 1).tolist() == [] and "selected=1" in repr(sel)


# ---- errors -----------------------------------------------------------------------------------


def test_more_queries_than_keys_is_rejected_everywhere() -> None:
    q, k = qk(1, 2, 1, 9, 8, 16)
    msg = r"more queries than keys \(Nq=9 > Nk=8\)"
    meta = attn.page_meta(k, 4)
    with pytest.raises(InvalidInputError, match=msg):
        attn.quest_scores(q, meta)
    for call in (
        lambda: attn.block_topk(q, k, top_k=1),
        lambda: attn.vertical_slash(q, k, n_vertical=1, n_slash=1),
        lambda: attn.coverage(q, k, attn.streaming(8, 8)),
        lambda: attn.oracle_topk(q, k, 1),
    ):
        with pytest.raises(InvalidInputError, match=msg):
            call()
    with pytest.raises(InvalidInputError, match="more queries"):
        attn.streaming(9, 8)


def test_bad_arrays_get_an_error_that_says_what_to_do() -> None:
    q, k = qk(1, 4, 2, 2, 30, 16)
    with pytest.raises(InvalidInputError, match=r"ascontiguousarray\(k\)"):
        attn.page_meta(np.asfortranarray(k), 4)
    with pytest.raises(InvalidInputError, match=r"astype\(np.float32\)"):
        attn.page_meta(k.astype(np.float64), 4)
    with pytest.raises(InvalidInputError, match="3-D"):
        attn.page_meta(k[0], 4)
    with pytest.raises(InvalidInputError, match="NumPy array"):
        attn.page_meta(k.tolist(), 4)
    with pytest.raises(InvalidInputError, match="multiple of the KV heads"):
        attn.block_topk(q[:3].copy(), k, top_k=1)
    with pytest.raises(InvalidInputError, match="same head dimension"):
        attn.oracle_topk(q[:, :, :8].copy(), k, 1)
    with pytest.raises(InvalidInputError, match="head dimension 8"):
        attn.quest_scores(q[:, :, :8].copy(), attn.page_meta(k, 4))
    with pytest.raises(InvalidInputError, match="float16 keys"):
        attn.page_meta(k.astype(np.float16), 4).append(k)
    with pytest.raises(InvalidInputError, match="Hkv=2"):
        attn.page_meta(k, 4).append(k[:1].copy())
    with pytest.raises(InvalidInputError, match="page_size must be an integer >= 1"):
        attn.page_meta(k, 0)


def test_bad_options_are_rejected() -> None:
    q, k = qk(2, 2, 2, 1, 64, 16)
    scores = attn.quest_scores(q, attn.page_meta(k, 16))
    with pytest.raises(InvalidInputError, match="at least sink \\+ local"):
        attn.select_pages(scores, 1, page_size=16)
    with pytest.raises(InvalidInputError, match="nk= "):
        attn.select_pages(np.zeros((1, 2, 4), np.float32), 2, page_size=16)
    with pytest.raises(InvalidInputError, match="make 3 pages"):
        attn.select_pages(scores, 2, page_size=16, nk=40)
    with pytest.raises(InvalidInputError, match="budget"):
        attn.oracle_topk(q, k, 0)
    with pytest.raises(InvalidInputError, match="multiple of 32"):
        attn.random_planes(16, 40)
    with pytest.raises(InvalidInputError, match="planes must be"):
        attn.hash_codes(q, attn.random_planes(8, 32))
    with pytest.raises(InvalidInputError, match="uint32"):
        attn.hamming_topk(q, q, 1)
    with pytest.raises(InvalidInputError, match="scale must be positive"):
        attn.vertical_slash(q, k, n_vertical=1, n_slash=1, scale=-1.0)
    with pytest.raises(InvalidInputError, match="threads"):
        attn.page_meta(k, 4, threads=0)
    with pytest.raises(InvalidInputError, match="nq=2 queries"):
        attn.coverage(q, k, attn.streaming(2, 64))
    with pytest.raises(InvalidInputError, match="heads"):
        attn.coverage(q, k, attn.streaming(1, 64, heads=3))


def test_gpu_arrays_without_a_gpu_build_are_explained() -> None:
    class FakeDevice:
        __cuda_array_interface__ = None
        shape = (1, 2, 4)
        dtype = np.dtype(np.float32)

    _, k = qk(1, 1, 1, 1, 2, 4)
    with pytest.raises(InvalidInputError, match="not a mix"):
        attn.coverage(FakeDevice(), k, attn.streaming(2, 2))


# ---- SIMD switch and examples -----------------------------------------------------------------


def test_ctxengine_simd_env_forces_the_scalar_path() -> None:
    env = package_env(CTXENGINE_SIMD="scalar")
    out = subprocess.run(
        [sys.executable, "-c", "from ctxengine import attn; print(attn.simd_backend())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "scalar"
