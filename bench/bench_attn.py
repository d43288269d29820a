"""Sparse-attention scoring (ctxengine.attn): decode-time Quest scores against this machine's
memory-copy bandwidth over the bounds they read and against NumPy; vertical-slash against NumPy
at 32K and 128K keys; page_meta.append per decoded key at three cache sizes. On a GPU machine
(with CuPy) the CUDA kernels against CuPy and the device's copy bandwidth.

Shapes are a Llama-3-8B-like layer: Hq=32 query heads, Hkv=8 KV heads, D=128, pages of 16,
float16 keys. Two NumPy baselines: the reference of ctxengine.attn._reference (float64, one head
and query at a time: the correctness oracle) and a float32 NumPy version of the same algorithm
vectorised over heads (BLAS matrix products; what a user would write for speed).
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from common import Context, Result, median_time
from ctxengine import attn, cuda_available
from ctxengine._native import core
from ctxengine.attn import _reference as ref

HQ, HKV, D, PAGE = 32, 8, 128, 16


def _copy_bandwidth(threads: int, nbytes: int = 256 << 20, repeat: int = 5) -> float:
    """memcpy bandwidth: bytes copied per second between two warm 256 MB buffers on `threads`
    threads (NumPy's copy releases the GIL). STREAM counts read + write, twice this."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.empty_like(src)
    parts = np.array_split(np.arange(nbytes), threads)
    bounds = [(int(p[0]), int(p[-1]) + 1) for p in parts]

    def copy_all() -> None:
        if threads == 1:
            np.copyto(dst, src)
            return
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda b: np.copyto(dst[b[0] : b[1]], src[b[0] : b[1]]), bounds))

    t, _ = median_time(copy_all, repeat)
    return nbytes / t / 1e9


_EVICT = np.ones(96 << 20, dtype=np.uint8)


def _cold_median(fn: Any, repeat: int) -> float:
    """Median time of fn() with the caches flushed before each run (a decode step reads each
    layer's bounds once, after the other layers have evicted them)."""
    fn()
    times = []
    for _ in range(repeat):
        _EVICT[::64] += 1  # touch 96 MB, more than the last-level cache
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _quest_numpy32(q: np.ndarray, kmin: np.ndarray, kmax: np.ndarray) -> np.ndarray:
    """Quest scores in float32 NumPy, by KV head: two BLAS products of the split queries."""
    group = q.shape[0] // kmin.shape[0]
    out = np.empty((q.shape[0], q.shape[1], kmin.shape[1]), dtype=np.float32)
    for kv in range(kmin.shape[0]):
        qs = q[kv * group : (kv + 1) * group].reshape(-1, q.shape[2]).astype(np.float32)
        s = np.maximum(qs, 0) @ kmax[kv].T + np.minimum(qs, 0) @ kmin[kv].T
        out[kv * group : (kv + 1) * group] = s.reshape(group, q.shape[1], -1)
    return out


def _vertical_slash_numpy32(
    q: np.ndarray, k: np.ndarray, n_vertical: int, n_slash: int, last_q: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """The vertical-slash estimate in float32 NumPy (BLAS logits per KV head group)."""
    hq, nq, d = q.shape
    hkv, nk, _ = k.shape
    group, lq = hq // hkv, min(last_q, nq)
    pos = np.arange(nk - lq, nk)
    mask = np.arange(nk)[None, :] > pos[:, None]
    vert = np.empty((hq, nk), np.float32)
    slash = np.zeros((hq, nk), np.float32)
    for kv in range(hkv):
        kk = k[kv].astype(np.float32)
        for j in range(group):
            h = kv * group + j
            s = (q[h, nq - lq :].astype(np.float32) / math.sqrt(d)) @ kk.T
            s[mask] = -np.inf
            s -= s.max(axis=1, keepdims=True)
            np.exp(s, out=s)
            s /= s.sum(axis=1, keepdims=True)
            vert[h] = s.sum(axis=0)
            for t in range(lq):
                slash[h, : pos[t] + 1] += s[t, pos[t] :: -1]
    vert[:, :30] = np.inf
    slash[:, :100] = np.inf
    v = np.sort(np.argpartition(-vert, n_vertical, axis=1)[:, :n_vertical], axis=1)
    sl = np.sort(np.argpartition(-slash, n_slash, axis=1)[:, :n_slash], axis=1)
    return v, sl


def _once(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(ctx: Context) -> list[Result]:
    rng = np.random.default_rng(0)
    nk = 32768 if ctx.quick else 131072
    k = rng.standard_normal((HKV, nk, D), dtype=np.float32).astype(np.float16)
    q = rng.standard_normal((HQ, 1, D), dtype=np.float32).astype(np.float16)
    threads = core.resolve_threads(0)
    results: list[Result] = []
    simd = attn.simd_backend()

    # ---- decode-time Quest scores vs memory bandwidth and NumPy ----------------------------
    meta = attn.page_meta(k, PAGE)
    bounds_bytes = 2 * HKV * meta.pages * D * 2  # kmin + kmax, float16
    case = f"quest_scores decode, {nk // 1024}K keys, Hq={HQ} Hkv={HKV} D={D} page {PAGE}, fp16"
    kmin, kmax = meta.kmin, meta.kmax  # float32 bounds for the NumPy baselines
    t32, _ = median_time(lambda: _quest_numpy32(q, kmin, kmax), ctx.repeat)
    tref = _once(lambda: ref.quest_scores(q, kmin, kmax))
    for n in sorted({1, threads}):
        row = f"{case}, {n} thread(s)"
        t = _cold_median(lambda n=n: attn.quest_scores(q, meta, threads=n), ctx.repeat * 4)
        results += [
            Result(
                "attn",
                row,
                "ctxengine",
                bounds_bytes / t / 1e9,
                "GB/s of bounds",
                notes=f"{t * 1e3:.2f} ms, {simd}, caches flushed before each run",
            ),
            Result(
                "attn",
                row,
                f"memcpy ({n} thread(s))",
                _copy_bandwidth(n),
                "GB/s of bounds",
                notes="bytes copied per second, 256 MB (STREAM's read + write count is twice)",
            ),
            Result(
                "attn",
                row,
                "numpy float32 (BLAS)",
                bounds_bytes / t32 / 1e9,
                "GB/s of bounds",
                notes=f"{t32 * 1e3:.2f} ms, given float32 bounds",
            ),
            Result(
                "attn",
                row,
                "numpy reference",
                bounds_bytes / tref / 1e9,
                "GB/s of bounds",
                notes=f"{tref * 1e3:.0f} ms, one run",
            ),
        ]

    # ---- vertical-slash estimate vs NumPy --------------------------------------------------
    q64 = rng.standard_normal((HQ, 64, D), dtype=np.float32).astype(np.float16)
    kw = {"n_vertical": 1000, "n_slash": 6096}
    for n_keys in (32768, nk) if nk > 32768 else (32768,):
        kk = np.ascontiguousarray(k[:, :n_keys])
        case = f"vertical_slash, {n_keys // 1024}K keys, last 64 queries, Hq={HQ} Hkv={HKV} D={D}"
        t, _ = median_time(lambda kk=kk, kw=kw: attn.vertical_slash(q64, kk, **kw), ctx.repeat)
        results.append(
            Result(
                "attn", case, "ctxengine", t * 1e3, "ms", False, notes=f"{simd}, {threads} threads"
            )
        )
        t32 = _once(lambda kk=kk: _vertical_slash_numpy32(q64, kk, 1000, 6096))
        results.append(Result("attn", case, "numpy float32 (BLAS)", t32 * 1e3, "ms", False))
        tref = _once(lambda kk=kk, kw=kw: ref.vertical_slash(q64, kk, **kw))
        results.append(Result("attn", case, "numpy reference", tref * 1e3, "ms", False))

    # ---- page_meta.append: O(new keys) ------------------------------------------------------
    new = rng.standard_normal((HKV, 1, D), dtype=np.float32).astype(np.float16)
    for size in (8192, 32768, nk):
        grown = attn.page_meta(np.ascontiguousarray(k[:, :size]), PAGE)
        times = []
        for _ in range(400):
            start = time.perf_counter()
            grown.append(new)
            times.append(time.perf_counter() - start)
        results.append(
            Result(
                "attn-append",
                f"page_meta.append of 1 key at {size // 1024}K keys",
                "ctxengine",
                float(np.median(times)) * 1e6,
                "us",
                False,
                notes=f"p99 {np.percentile(times, 99) * 1e6:.1f} us (growth by doubling)",
            )
        )

    if cuda_available():
        results += _gpu(ctx, k, q, q64, meta.pages)
    return results


def _gpu(ctx: Context, k: np.ndarray, q: np.ndarray, q64: np.ndarray, pages: int) -> list[Result]:
    try:
        import cupy
    except ImportError:
        return []
    nk = k.shape[1]
    results: list[Result] = []
    gk, gq = cupy.asarray(k), cupy.asarray(q)
    meta = attn.page_meta(gk, PAGE)
    bounds_bytes = 2 * HKV * pages * D * 2

    def timed(fn: Any, repeat: int) -> float:
        fn()
        cupy.cuda.Device().synchronize()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            cupy.cuda.Device().synchronize()
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    case = f"GPU quest_scores decode, {nk // 1024}K keys, fp16"
    t = timed(lambda: attn.quest_scores(gq, meta), 50)
    results.append(Result("attn-gpu", case, "ctxengine", bounds_bytes / t / 1e9, "GB/s of bounds"))
    buf = cupy.empty(256 << 20, dtype=cupy.uint8)
    dst = cupy.empty_like(buf)
    tc = timed(lambda: cupy.copyto(dst, buf), 20)
    results.append(
        Result("attn-gpu", case, "device copy", 2 * buf.nbytes / tc / 1e9, "GB/s of bounds")
    )
    group = HQ // HKV

    def cupy_quest(kmin: Any, kmax: Any) -> Any:
        qs = gq.astype(cupy.float32).reshape(HKV, group, D)
        return cupy.einsum("gqd,gpd->gqp", cupy.maximum(qs, 0), kmax) + cupy.einsum(
            "gqd,gpd->gqp", cupy.minimum(qs, 0), kmin
        )

    tr = timed(lambda: cupy_quest(meta.kmin, meta.kmax), 20)
    results.append(
        Result("attn-gpu", case, "cupy reference", bounds_bytes / tr / 1e9, "GB/s of bounds")
    )
    # A million keys, drawn on the device: a call's fixed cost (Python, launch) weighs less.
    big_k = cupy.random.default_rng(1).standard_normal((HKV, 1 << 20, D), dtype=cupy.float32)
    big = attn.page_meta(big_k.astype(cupy.float16), PAGE)
    del big_k
    big_bytes = 2 * HKV * big.pages * D * 2
    case = "GPU quest_scores decode, 1M keys, fp16"
    t = timed(lambda: attn.quest_scores(gq, big), 50)
    results.append(Result("attn-gpu", case, "ctxengine", big_bytes / t / 1e9, "GB/s of bounds"))
    results.append(
        Result("attn-gpu", case, "device copy", 2 * buf.nbytes / tc / 1e9, "GB/s of bounds")
    )
    tr = timed(lambda: cupy_quest(big.kmin, big.kmax), 20)
    results.append(
        Result("attn-gpu", case, "cupy reference", big_bytes / tr / 1e9, "GB/s of bounds")
    )
    gq64 = cupy.asarray(q64)
    case = f"GPU vertical_slash, {nk // 1024}K keys, last 64 queries"
    t = timed(lambda: attn.vertical_slash(gq64, gk, n_vertical=1000, n_slash=6096), 5)
    results.append(Result("attn-gpu", case, "ctxengine", t * 1e3, "ms", False))

    def cupy_vs() -> Any:
        pos = cupy.arange(nk - 64, nk)
        mask = cupy.arange(nk)[None, :] > pos[:, None]
        out = []
        for h in range(HQ):
            s = (gq64[h].astype(cupy.float32) / math.sqrt(D)) @ gk[h // group].astype(
                cupy.float32
            ).T
            s[mask] = -cupy.inf
            p = cupy.exp(s - s.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            v = p.sum(axis=0)
            out.append(cupy.argsort(-v)[:1000])
        return out

    tr = timed(cupy_vs, 3)
    results.append(Result("attn-gpu", case, "cupy reference (columns only)", tr * 1e3, "ms", False))
    return results
