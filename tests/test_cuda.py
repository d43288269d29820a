"""The CUDA kernels against their CPU twins (run only where a GPU is present)."""

from __future__ import annotations

import numpy as np
import pytest

import ctxengine

pytestmark = pytest.mark.gpu


def test_cuda_available_is_false_or_names_a_device() -> None:
    assert ctxengine.cuda_available()
    from ctxengine.cuda import cuda_device_name

    assert cuda_device_name(0)


@pytest.mark.parametrize(
    ("nq", "n", "dim", "k"),
    [(1, 10, 3, 10), (7, 5000, 64, 17), (300, 70_000, 128, 100), (2, 3000, 384, 2048)],
)
def test_gpu_topk_matches_cpu(nq: int, n: int, dim: int, k: int) -> None:
    cupy = pytest.importorskip("cupy")
    rng = np.random.default_rng(nq * n)
    q = rng.standard_normal((nq, dim)).astype(np.float32)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    cpu_scores, cpu_ids = ctxengine.inner_product_topk(q, x, k)
    gpu_scores, gpu_ids = ctxengine.inner_product_topk(cupy.asarray(q), cupy.asarray(x), k)
    gpu_scores, gpu_ids = cupy.asnumpy(gpu_scores), cupy.asnumpy(gpu_ids)
    np.testing.assert_allclose(gpu_scores, cpu_scores, rtol=1e-4, atol=1e-4)
    # Ids agree except where two scores are within rounding of each other.
    differ = gpu_ids != cpu_ids
    assert np.all(np.abs(gpu_scores[differ] - cpu_scores[differ]) < 1e-3)


def test_gpu_ties_go_to_the_lower_id() -> None:
    cupy = pytest.importorskip("cupy")
    x = np.ones((5000, 8), dtype=np.float32)
    q = np.ones((3, 8), dtype=np.float32)
    scores, ids = ctxengine.inner_product_topk(cupy.asarray(q), cupy.asarray(x), 40)
    assert cupy.asnumpy(ids).tolist() == [list(range(40))] * 3
    assert np.all(cupy.asnumpy(scores) == 8.0)


def test_gpu_nan_ranks_last() -> None:
    cupy = pytest.importorskip("cupy")
    x = np.array([[np.nan, 0], [1, 0], [0.5, 0]], dtype=np.float32)
    _, ids = ctxengine.inner_product_topk(
        cupy.asarray(np.array([1.0, 0.0], np.float32)), cupy.asarray(x), 3
    )
    assert cupy.asnumpy(ids).tolist() == [1, 2, 0]
