"""The sparse-attention CUDA kernels against their CPU twins (run only where a GPU is present;
CuPy in, CuPy out)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from attn_support import assert_rows_match, nan_equal, qk, rows
from ctxengine import InvalidInputError, attn
from ctxengine.attn import _reference as ref

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cupy() -> Any:
    return pytest.importorskip("cupy")


def _host(sel: attn.Selection) -> attn.Selection:
    return attn.Selection(
        sel.indptr.get(),
        sel.indices.get(),
        unit=sel.unit,
        unit_size=sel.unit_size,
        heads=sel.heads,
        nq=sel.nq,
        nk=sel.nk,
    )


def _host_rows(sel: attn.Selection) -> list[list[int]]:
    return rows(_host(sel))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_page_meta_on_gpu_equals_cpu(cupy: Any, dtype: type) -> None:
    _, k = qk(1, 1, 4, 1, 1003, 128, dtype)
    k[1, 17, 5] = np.nan
    k[2, 1000, 0] = np.inf
    cpu = attn.page_meta(k, 16)
    gpu = attn.page_meta(cupy.asarray(k[:, :500]), 16)
    gpu.append(cupy.asarray(k[:, 500:501]))
    gpu.append(cupy.asarray(k[:, 501:]))
    assert gpu.on_gpu and gpu.nk == 1003 and gpu.pages == cpu.pages and gpu.dtype == cpu.dtype
    assert nan_equal(cupy.asnumpy(gpu.kmin), cpu.kmin)
    assert nan_equal(cupy.asnumpy(gpu.kmax), cpu.kmax)


@pytest.mark.parametrize(
    ("hq", "hkv", "nq", "d"), [(32, 8, 1, 128), (8, 1, 70, 64), (6, 2, 3, 80), (4, 2, 2, 30)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_quest_scores_on_gpu_equal_cpu(
    cupy: Any, hq: int, hkv: int, nq: int, d: int, dtype: type
) -> None:
    q, k = qk(hq + d, hq, hkv, nq, 5000, d, dtype)
    cpu = attn.quest_scores(q, attn.page_meta(k, 16))
    gpu = attn.quest_scores(cupy.asarray(q), attn.page_meta(cupy.asarray(k), 16))
    assert isinstance(gpu, cupy.ndarray) and gpu.dtype == cupy.float32
    np.testing.assert_allclose(cupy.asnumpy(gpu), cpu, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("nq", "nk", "budget", "sink", "local"), [(1, 131072, 512, 1, 1), (9, 999, 5, 2, 1)]
)
def test_select_pages_on_gpu_equals_cpu(
    cupy: Any, nq: int, nk: int, budget: int, sink: int, local: int
) -> None:
    pages = -(-nk // 16)
    scores = np.round(np.random.default_rng(nk).standard_normal((4, nq, pages)) * 3).astype(
        np.float32
    )
    scores[0, 0, 3] = np.nan
    scores[1, 0, :5] = np.inf
    cpu = attn.select_pages(scores, budget, page_size=16, nk=nk, sink=sink, local=local)
    gpu = attn.select_pages(
        cupy.asarray(scores), budget, page_size=16, nk=nk, sink=sink, local=local
    )
    assert isinstance(gpu.indices, cupy.ndarray)
    assert _host_rows(gpu) == rows(cpu)
    np.testing.assert_array_equal(cupy.asnumpy(gpu.to_dense()), cpu.to_dense())


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_hash_and_hamming_on_gpu_equal_cpu(cupy: Any, dtype: type) -> None:
    q, k = qk(3, 8, 2, 5, 4000, 128, dtype)
    planes = attn.random_planes(128, 128)
    qc, kc = attn.hash_codes(q, planes), attn.hash_codes(k, planes)
    gq = attn.hash_codes(cupy.asarray(q), cupy.asarray(planes))
    gk = attn.hash_codes(cupy.asarray(k), cupy.asarray(planes))
    proj = k.astype(np.float64) @ planes.astype(np.float64)
    diff = np.unpackbits((cupy.asnumpy(gk) ^ kc).view(np.uint8), axis=-1, bitorder="little")
    assert np.all(np.abs(proj[diff.astype(bool)]) < 1e-3)
    for top_k in (1, 100, 5000):
        cpu = attn.hamming_topk(qc, kc, top_k)
        gpu = attn.hamming_topk(cupy.asarray(qc), cupy.asarray(kc), top_k)
        assert _host_rows(gpu) == rows(cpu)
    assert cupy.asnumpy(gq).shape == qc.shape


@pytest.mark.parametrize(
    ("hq", "hkv", "nq", "nk", "d"), [(8, 2, 64, 4000, 128), (4, 4, 10, 700, 64), (2, 1, 64, 64, 80)]
)
def test_vertical_slash_on_gpu_equals_cpu(
    cupy: Any, hq: int, hkv: int, nq: int, nk: int, d: int
) -> None:
    q, k = qk(nk, hq, hkv, nq, nk, d, np.float16)
    kw = dict(n_vertical=100, n_slash=60, sink=4, local=5)
    gv, gs = attn.vertical_slash(cupy.asarray(q), cupy.asarray(k), **kw)
    sv, ss = ref.vertical_slash_sums(q, k)
    rv, rs = ref.vertical_slash(q, k, **kw)
    assert_rows_match(
        cupy.asnumpy(gv).tolist(), rv.tolist(), lambda h: sv[h], tol=1e-4, forced=lambda h, j: j < 4
    )
    assert_rows_match(
        cupy.asnumpy(gs).tolist(), rs.tolist(), lambda h: ss[h], tol=1e-4, forced=lambda h, o: o < 5
    )


def test_gpu_selections_measure_like_cpu_ones(cupy: Any) -> None:
    q, k = qk(8, 8, 2, 4, 3000, 128, np.float16)
    meta = attn.page_meta(cupy.asarray(k), 16)
    gpu = attn.select_pages(attn.quest_scores(cupy.asarray(q), meta), 20, page_size=16, nk=3000)
    cpu = attn.select_pages(attn.quest_scores(q, attn.page_meta(k, 16)), 20, page_size=16, nk=3000)
    got = attn.coverage(q, k, _host(gpu))
    np.testing.assert_array_equal(got, attn.coverage(q, k, cpu))


def test_mixing_gpu_and_host_arrays_is_an_error(cupy: Any) -> None:
    q, k = qk(1, 2, 1, 1, 50, 16)
    with pytest.raises(InvalidInputError, match="not a mix"):
        attn.vertical_slash(cupy.asarray(q), k, n_vertical=2, n_slash=2)
    with pytest.raises(InvalidInputError, match="CuPy"):
        attn.quest_scores(q, attn.page_meta(cupy.asarray(k), 16))
    with pytest.raises(InvalidInputError, match="C-contiguous"):
        attn.page_meta(cupy.asarray(k)[:, ::2], 16)
