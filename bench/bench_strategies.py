"""The measurements behind the query-strategy cost model (csrc/index/query_plan.cpp): CPU time
of each strategy, forced by name, on every question of bench/data (min of 3 runs), over the
Python docs in 512-token chunks (7K), 128-token chunks 3 times (85K) and 36 times (1.02M), with
each question's list lengths; then how candidate rules would have done.

Run: ``python bench/bench_strategies.py [SCALES]`` (prints JSON lines, then the rule table).
Thread CPU time, not wall time: the comparison is between strategies on one machine, and CPU time
is less disturbed by other processes than the clock on the shared 2-core machine.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from bench_bm25 import SCALES, chunks
from common import Context, Result
from questions import load_questions

NAMES = ("taat", "maxscore", "bmw", "auto")


def measure(label: str) -> list[dict]:
    import ctxengine
    from ctxengine import _core

    size, copies = SCALES[label]
    bm = ctxengine.BM25([t for _, t in chunks(size)] * copies)
    native = bm._native
    rows = []
    for q in load_questions():
        query = q.text.encode()
        row: dict = {"n": len(bm), "dfs": sorted(bm.term_stats(q.text).df.values())}
        for name in NAMES:
            strategy = getattr(_core.index.Strategy, name)
            best = float("inf")
            for _ in range(3):
                t = time.thread_time()
                native.search(query, 10, None, None, strategy, threads=1)
                best = min(best, time.thread_time() - t)
            row[name] = best * 1e3
        rows.append(row)
    return rows


def summary(rows: list[dict]) -> dict:
    out = {}
    for name in NAMES:
        v = np.array([r[name] for r in rows])
        out[name] = {
            "p50_ms": float(np.median(v)),
            "mean_ms": float(v.mean()),
            "p99_ms": float(np.percentile(v, 99)),
        }
    best = np.array([min(r[n] for n in NAMES[:3]) for r in rows])
    out["oracle"] = {"p50_ms": float(np.median(best)), "mean_ms": float(best.mean())}
    wins = np.argmin(np.array([[r[n] for n in NAMES[:3]] for r in rows]), axis=1)
    out["fastest"] = {NAMES[i]: int((wins == i).sum()) for i in range(3)}
    return out


def run(ctx: Context) -> list[Result]:
    results = []
    for label in ["5K"] if ctx.quick else list(SCALES):
        s = summary(measure(label))
        for name in NAMES:
            results.append(
                Result("bm25 strategy cpu p50", label, name, s[name]["p50_ms"], "ms", False)
            )
    return results


if __name__ == "__main__":
    for label in sys.argv[1:] or list(SCALES):
        rows = measure(label)
        print(label, json.dumps(summary(rows)), flush=True)
