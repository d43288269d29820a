"""BM25: ctxengine.BM25 (C++, block-max WAND) against bm25s (numpy and numba backends) and
tantivy, on the Python docs split into paragraphs (73K chunks, 10.9 MB) and the same repeated to
over 1 million chunks. Build includes analysis (tokenizing) for every engine; query latency is
one query at a time, k=10, p50 over a fixed set of 2-4 word queries drawn from the text (300 at
73K chunks, 100 at 1M). bm25s gets its queries pre-tokenized (its fastest path; its Python
tokenizer is not timed); ctxengine and tantivy analyse theirs. Each engine runs in its own child
process: peak RSS is the growth of the process's peak resident set (reset through
/proc/self/clear_refs once the texts are loaded) over build and queries.
"""

from __future__ import annotations

import gc
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import Context, Result, median_time, peer, python_docs

HERE = Path(__file__).resolve().parent


def paragraphs(copies: int = 1) -> list[str]:
    paras = [p for text in python_docs() for p in text.split("\n\n") if p.strip()]
    return paras * copies


def make_queries(paras: list[str], n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        words = [w for w in re.findall(r"[A-Za-z]{4,}", paras[rng.integers(len(paras))])]
        if len(words) >= 2:
            out.append(" ".join(rng.choice(words, size=min(len(words), rng.integers(2, 5)))))
    return out


def p50_ms(fn: Any, queries: list[Any], warmup: int = 5) -> float:
    for q in queries[:warmup]:
        fn(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


_WORD = re.compile(r"(?u)\b\w\w+\b")


def bm25s_tokens(q: str) -> list[str]:
    return _WORD.findall(q.lower())


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> int:
    """Resets the process's peak RSS (Linux: clear_refs 5) and returns the current RSS in kB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kb("VmRSS")


def run_engine(engine: str, copies: int, n_queries: int, repeat: int) -> dict[str, float]:
    """Build and query one engine in this process; returns timings and memory."""
    paras = paragraphs(copies)
    queries = make_queries(paras, n_queries)
    gc.collect()
    base_rss = _reset_peak_rss()
    out: dict[str, float] = {}
    if engine == "ctxengine":
        import ctxengine

        build_s, index = median_time(lambda: ctxengine.BM25(paras), repeat, warmup=0)
        out["size_bytes"] = sum(a.nbytes for a in index._native.arrays().values())
        out["p50_ms"] = p50_ms(lambda q: index.search(q, 10), queries)
    elif engine.startswith("bm25s"):
        import bm25s

        backend = "numba" if engine.endswith("numba") else "numpy"

        def build() -> Any:
            tokens = bm25s.tokenize(paras, stopwords=None, show_progress=False)
            retriever = bm25s.BM25(backend=backend)
            retriever.index(tokens, show_progress=False)
            return retriever

        build_s, retriever = median_time(build, repeat, warmup=0)
        out["size_bytes"] = sum(
            a.nbytes for a in retriever.scores.values() if isinstance(a, np.ndarray)
        )
        toks = [bm25s_tokens(q) for q in queries]
        out["p50_ms"] = p50_ms(
            lambda t: retriever.retrieve([t], k=10, show_progress=False, n_threads=1), toks
        )
    elif engine == "tantivy":
        import tantivy

        def build() -> Any:
            builder = tantivy.SchemaBuilder()
            builder.add_text_field("body", stored=False)
            index = tantivy.Index(builder.build())
            writer = index.writer(heap_size=512_000_000, num_threads=2)
            for p in paras:
                writer.add_document(tantivy.Document(body=p))
            writer.commit()
            writer.wait_merging_threads()
            index.reload()
            return index

        build_s, index = median_time(build, max(1, repeat // 2), warmup=0)
        searcher = index.searcher()
        out["p50_ms"] = p50_ms(
            lambda q: searcher.search(index.parse_query(q, ["body"]), 10), queries
        )
    else:
        raise SystemExit(f"unknown engine {engine}")
    out["build_s"] = build_s
    out["peak_rss_mb"] = (_status_kb("VmHWM") - base_rss) / 1024
    out["chunks"] = len(paras)
    out["mb"] = sum(len(p) for p in paras) / 1e6
    return out


def measure(engine: str, copies: int, n_queries: int, repeat: int) -> dict[str, float] | None:
    """Runs `run_engine` in a child process, so that peak RSS is the engine's own."""
    code = (
        f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import bench_bm25; "
        f"print(json.dumps(bench_bm25.run_engine({engine!r}, {copies}, {n_queries}, {repeat})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"bench_bm25: {engine} failed: {proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> list[Result]:
    results = []
    engines = ["ctxengine", "bm25s numpy", "bm25s numba", "tantivy"]
    available = {
        "ctxengine": True,
        "bm25s numpy": peer("bm25s") is not None,
        "bm25s numba": peer("bm25s") is not None and peer("numba") is not None,
        "tantivy": peer("tantivy") is not None,
    }
    scales = [1] if ctx.quick else [1, 14]
    for copies in scales:
        big = copies > 1
        for engine in engines:
            if not available[engine] or (big and engine == "bm25s numpy" and ctx.quick):
                continue
            print(f"  {engine} x{copies}", file=sys.stderr, flush=True)
            m = measure(engine, copies, 100 if big else 300, 1 if big else ctx.repeat)
            if m is None:
                continue
            case = f"{m['chunks'] / 1e3:.0f}K chunks, {m['mb']:.0f} MB"
            results.append(Result("bm25-build", case, engine, m["build_s"], "s", False))
            results.append(Result("bm25-query p50 k=10", case, engine, m["p50_ms"], "ms", False))
            per_m = 1e6 / m["chunks"]
            results.append(
                Result(
                    "bm25-peak-rss per 1M chunks",
                    case,
                    engine,
                    m["peak_rss_mb"] * per_m,
                    "MB",
                    False,
                )
            )
            if "size_bytes" in m:
                results.append(
                    Result(
                        "bm25-index-size per 1M chunks",
                        case,
                        engine,
                        m["size_bytes"] * per_m / 1e6,
                        "MB",
                        False,
                    )
                )
    return results


if __name__ == "__main__":
    print(json.dumps(run_engine(sys.argv[1], int(sys.argv[2]), 50, 1)))
