"""Exact dense top-k: ctxengine.inner_product_topk against FAISS IndexFlatIP (its exact search),
on the same random unit vectors, 1 and 2 threads."""

from __future__ import annotations

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
    return results
