"""Dense search through ctxengine.Index against calling FAISS directly on the same index type
and the same vectors, one query at a time, k=10: the overhead of the Index layer (query
embedding lookup and normalisation, mapping rows to chunks, building Hit objects).

Vectors are random unit vectors (384-d, the size of all-MiniLM-L6-v2's), served by a lookup
embedder so that model time is not measured (a query is a one-row slice of the query matrix,
as the direct call gets); chunk texts are short labels. Flat (exact) at 1M vectors, HNSW at 50K
(its build is minutes on 2 cores); --quick uses 100K / 20K. The two sides are timed in pairs of
back-to-back calls (`_paired_p50_ms`), so the ratio holds on a busy machine.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import Context, Result, peer


class _Words:
    """A whitespace tokenizer: chunking cost is not what this bench measures."""

    name = "words"

    def count(self, text: str) -> int:
        return len(text.split())


class _Lookup:
    """Returns the stored vector for texts named "c<i>" (chunks) or "q<j>" (queries)."""

    def __init__(self, base: np.ndarray, queries: np.ndarray) -> None:
        self.base, self.queries = base, queries

    def __call__(self, texts: list[str]) -> np.ndarray:
        if len(texts) == 1 and texts[0][0] == "q":  # a query: a slice, as FAISS directly gets
            j = int(texts[0][1:])
            return self.queries[j : j + 1]
        src = {"c": self.base, "q": self.queries}
        return np.stack([src[t[0]][int(t[1:])] for t in texts])


class _Answer:
    """Stands in for a FAISS index: returns one precomputed answer to any search."""

    def __init__(self, ntotal: int, answer: Any) -> None:
        self.ntotal, self.answer = ntotal, answer

    def search(self, query: np.ndarray, k: int, params: Any = None) -> Any:
        return self.answer


def _paired_p50_ms(ours: Any, theirs: Any, n: int) -> tuple[float, float]:
    """Medians (ms) of `ours(j)` and `theirs(j)` over n queries, measured in pairs: each pair
    runs back to back (in alternating order), so the noise of a shared machine falls on both
    sides alike; the two calls of a pair search different queries (j and j + n/2), so neither
    finds the other's graph nodes or lists warm in the cache."""
    for j in range(min(5, n)):
        ours(j)
        theirs(j)
    a, b = [], []
    for j in range(n):
        other = (j + n // 2) % n
        for side in (0, 1) if j % 2 else (1, 0):
            t = time.perf_counter()
            if side == 0:
                ours(j)
                a.append(time.perf_counter() - t)
            else:
                theirs(other)
                b.append(time.perf_counter() - t)
    return statistics.median(a) * 1e3, statistics.median(b) * 1e3


def _one(kind: str, n: int, nq: int) -> list[Result]:
    import ctxengine

    faiss = peer("faiss")
    faiss.omp_set_num_threads(1)
    dim = 384
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.choice(n, nq, replace=False)]
    q += 0.05 * rng.standard_normal((nq, dim), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    index = ctxengine.Index(tokenizer=_Words(), embedder=_Lookup(x, q), dense_index=kind)  # type: ignore[arg-type]
    index.add_many([f"c{i}" for i in range(n)])
    faiss.omp_set_num_threads(2)
    index.search("q0", k=10, mode="dense")  # builds the FAISS index (on all cores)
    faiss.omp_set_num_threads(1)  # then one query at a time on one thread, both ways
    raw = index._embeddings.faiss.index  # the very same FAISS index, called directly
    case = f"{kind}, {n // 1000}K x {dim}, k=10, 1 thread, {nq} queries"
    params = faiss.SearchParametersHNSW(efSearch=128) if kind == "hnsw" else None
    ours, theirs = _paired_p50_ms(
        lambda j: index.search(f"q{j}", k=10, mode="dense"),
        lambda j: raw.search(q[j : j + 1], 10, params=params),
        nq,
    )
    overhead = f"Index overhead {100 * (ours / theirs - 1):.1f}%"
    # The Index's own time, without FAISS's: the same searches with FAISS's answer precomputed
    # (the Index calls a stand-in that returns it). Unlike the difference of two medians of
    # ~1 ms calls, this stays put on a loaded machine.
    answer = raw.search(q[:1], 10, params=params)
    index._embeddings.faiss.index = _Answer(raw.ntotal, answer)
    alone, stand_in = _paired_p50_ms(
        lambda j: index.search(f"q{j}", k=10, mode="dense"),
        lambda j: index._embeddings.faiss.index.search(q[j : j + 1], 10, params=params),
        nq,
    )
    own_us = 1e3 * (alone - stand_in)
    share = f"{100 * own_us / (1e3 * theirs):.1f}% of the FAISS search's p50"
    size = index._embeddings.vectors().nbytes / n  # bytes per chunk
    return [
        Result("dense-search p50", case, "ctxengine", ours, "ms", False),
        Result("dense-search p50", case, "faiss direct", theirs, "ms", False, notes=overhead),
        Result(
            "dense-search Index time (FAISS stubbed)",
            case,
            "ctxengine",
            own_us,
            "us",
            False,
            notes=share,
        ),
        Result("dense-vectors per 1M chunks", case, "ctxengine", size, "MB", False),
    ]


def _child(kind: str, n: int, nq: int) -> list[Result]:
    """Runs `_one` in a fresh process, so that one case's memory does not weigh on the next."""
    here = Path(__file__).resolve().parent
    code = (
        f"import sys, json, dataclasses; sys.path.insert(0, {str(here)!r}); import bench_dense; "
        f"print(json.dumps([dataclasses.asdict(r) for r in bench_dense._one({kind!r}, {n}, {nq})]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"bench_dense: {kind} failed: {proc.stderr[-2000:]}", file=sys.stderr)
        return []
    return [Result(**r) for r in json.loads(proc.stdout.strip().splitlines()[-1])]


def run(ctx: Context) -> list[Result]:
    if peer("faiss") is None:
        return []
    results = _child("flat", 100_000 if ctx.quick else 1_000_000, 100 if ctx.quick else 60)
    results += _child("hnsw", 20_000 if ctx.quick else 50_000, 300)
    return results
