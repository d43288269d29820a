"""Exact dense top-k: ctxengine.inner_product_topk against FAISS IndexFlatIP (its exact search),
on the same random unit vectors, 1 and 2 threads; where a GPU and CuPy are present, the CUDA
kernel against CuPy's matrix product + argpartition on the same arrays."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

import ctxengine
from common import Context, Result, median_time, peer


def run(ctx: Context) -> list[Result]:
    n = 100_000 if ctx.quick else 1_000_000
    dim, nq, k = 384, 100 if ctx.quick else 1000, 10
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.choice(n, nq, replace=False)] + 0.01 * rng.standard_normal(
        (nq, dim), dtype=np.float32
    )
    results = []
    faiss = peer("faiss")
    for threads in (1, 2):
        case = f"{n // 1000}K x {dim}, {nq} queries, k={k}, {threads} thread(s)"
        t, _ = median_time(
            lambda t=threads: ctxengine.inner_product_topk(q, x, k, threads=t), ctx.repeat
        )
        results.append(Result("dense-topk", case, "ctxengine", nq / t, "QPS"))
        if faiss is not None:
            faiss.omp_set_num_threads(threads)
            index = faiss.IndexFlatIP(dim)
            index.add(x)
            t, _ = median_time(lambda idx=index: idx.search(q, k), ctx.repeat)
            results.append(Result("dense-topk", case, "faiss IndexFlatIP", nq / t, "QPS"))
    if ctxengine.cuda_available():
        results += _gpu(ctx, q, x, k)
    return results


def _gpu(ctx: Context, q: np.ndarray, x: np.ndarray, k: int) -> list[Result]:
    try:
        import cupy
    except ImportError:
        return []
    gq, gx = cupy.asarray(q), cupy.asarray(x)
    nq, n = q.shape[0], x.shape[0]

    def timed(fn: Any) -> float:
        fn()
        cupy.cuda.Device().synchronize()
        times = []
        for _ in range(max(ctx.repeat, 10)):
            start = time.perf_counter()
            fn()
            cupy.cuda.Device().synchronize()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    def cupy_topk() -> Any:
        scores = gq @ gx.T
        part = cupy.argpartition(-scores, k, axis=1)[:, :k]
        top = cupy.take_along_axis(scores, part, axis=1)
        order = cupy.argsort(-top, axis=1)
        return cupy.take_along_axis(top, order, axis=1), cupy.take_along_axis(part, order, axis=1)

    case = f"GPU {n // 1000}K x {x.shape[1]}, {nq} queries, k={k}"
    t = timed(lambda: ctxengine.inner_product_topk(gq, gx, k))
    results = [Result("dense-topk-gpu", case, "ctxengine", nq / t, "QPS")]
    t = timed(cupy_topk)
    results.append(Result("dense-topk-gpu", case, "cupy matmul+argpartition", nq / t, "QPS"))
    return results
