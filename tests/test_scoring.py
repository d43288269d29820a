"""Exact inner-product top-k: CPU core against a NumPy reference and FAISS's exact flat index."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ctxengine
from ctxengine import InvalidInputError, inner_product_topk


def reference_topk(q: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain NumPy: score every pair with the core's summation order, sort (score desc, id asc)."""
    scores = np.stack([[_dot8(qi, xj) for xj in x] for qi in q]).astype(np.float32)
    ids = np.empty((q.shape[0], k), dtype=np.int64)
    for r in range(q.shape[0]):
        order = np.lexsort((np.arange(x.shape[0]), -scores[r].astype(np.float64)))
        ids[r] = order[:k]
    return np.take_along_axis(scores, ids, axis=1), ids


def _dot8(a: np.ndarray, b: np.ndarray) -> np.float32:
    # Eight interleaved float32 partial sums added pairwise: the core's documented order.
    acc = np.zeros(8, dtype=np.float32)
    d = 0
    while d + 8 <= a.size:
        acc += a[d : d + 8] * b[d : d + 8]
        d += 8
    for lane, i in enumerate(range(d, a.size)):
        acc[lane] += a[i] * b[i]
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))


@given(
    nq=st.integers(1, 4),
    n=st.integers(1, 60),
    dim=st.integers(1, 21),
    k=st.integers(1, 70),
    seed=st.integers(0, 2**32 - 1),
    quantize=st.booleans(),
)
def test_matches_reference(nq: int, n: int, dim: int, k: int, seed: int, quantize: bool) -> None:
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((nq, dim)).astype(np.float32)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    if quantize:  # small integers make many exact ties, which must go to the lower id
        q, x = np.round(q).astype(np.float32), np.round(x).astype(np.float32)
    scores, ids = inner_product_topk(q, x, k)
    ref_scores, ref_ids = reference_topk(q, x, min(k, n))
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_array_equal(scores, ref_scores)


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_result_is_independent_of_threads(threads: int) -> None:
    rng = np.random.default_rng(1)
    x = np.round(rng.standard_normal((20_000, 24)), 1).astype(np.float32)
    for nq in (1, 3, 64):
        q = np.round(rng.standard_normal((nq, 24)), 1).astype(np.float32)
        expected = inner_product_topk(q, x, 25, threads=1)
        got = inner_product_topk(q, x, 25, threads=threads)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])


def test_agrees_with_faiss_flat_index() -> None:
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5000, 64)).astype(np.float32)
    q = rng.standard_normal((50, 64)).astype(np.float32)
    index = faiss.IndexFlatIP(64)
    index.add(x)
    f_scores, f_ids = index.search(q, 10)
    scores, ids = inner_product_topk(q, x, 10)
    np.testing.assert_allclose(scores, f_scores, rtol=1e-5, atol=1e-5)
    # Random Gaussian data has no near-ties at this size, so the ids must agree exactly.
    np.testing.assert_array_equal(ids, f_ids)


def test_single_query_and_clamped_k() -> None:
    x = np.eye(3, dtype=np.float32)
    scores, ids = inner_product_topk(np.array([0.0, 2.0, 1.0]), x, 10)
    assert ids.tolist() == [1, 2, 0]
    assert scores.tolist() == [2.0, 1.0, 0.0]


def test_nan_ranks_last() -> None:
    x = np.array([[np.nan, 0], [1, 0], [0.5, 0]], dtype=np.float32)
    scores, ids = inner_product_topk(np.array([1.0, 0.0]), x, 3)
    assert ids.tolist() == [1, 2, 0]
    assert scores[-1] == -np.inf


@pytest.mark.parametrize(
    ("q", "x", "k", "message"),
    [
        (np.ones(3), np.ones((4, 3)), 0, "positive integer"),
        (np.ones(3), np.ones((4, 3)), True, "positive integer"),
        (np.ones(2), np.ones((4, 3)), 1, "dimension mismatch"),
        (np.ones(3), np.ones((0, 3)), 1, "no vectors"),
        (np.ones(3), np.ones(3), 1, "must be 2-D"),
    ],
)
def test_bad_input_is_refused(q: np.ndarray, x: np.ndarray, k: int, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        inner_product_topk(q, x, k)


def test_device_arrays_need_a_gpu_when_none_is_present() -> None:
    if ctxengine.cuda_available():
        pytest.skip("a GPU is present; tests/test_cuda.py covers the device path")

    class FakeDeviceArray:
        @property
        def __cuda_array_interface__(self) -> dict[str, object]:
            return {"shape": (3,), "typestr": "<f4", "data": (0, False)}

    with pytest.raises(ctxengine.UnsupportedError, match="no usable GPU"):
        inner_product_topk(FakeDeviceArray(), FakeDeviceArray(), 1)
