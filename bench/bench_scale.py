"""Scale-out: ShardedIndex ingest and search, in-process and on Ray, against one Index.

- Ingest: the Python docs (497 files, 11 MB) through the Ray Data pipeline with 1 and 2
  workers (read, chunk, count, then index on 2 shard actors), and the same files into one Index
  in-process (on all cores) as the reference; with the built-in MiniLM embedder on a few files
  (embedding dominates, so it is measured on a small set). Files/s, MB/s, chunks/s and the
  2-worker scaling factor.
- Search: the Python docs cut into 64-token chunks and repeated (sentence-shuffled copies, as in
  bench_pack) to 1M chunks (100K with --quick), split 1, 2, 4 and 8 ways; BM25 k=10 latency p50
  and p99 over natural questions and words drawn from the text, of one Index and of the sharded
  index in-process and on Ray (a local 2-CPU cluster), and every shard's own service time (what
  the capacity model in docs/scale.md is built from). Dense: exact flat search time per 1M
  384-d vectors (random unit vectors; FAISS IndexFlatIP, one query, one thread).
Each part runs in a child process (memory is measured per part, and a Ray cluster started
for it is stopped with it). Built indexes are cached under /tmp/ctxengine-bench.
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import DOCS_DIR, Context, Result, python_docs

HERE = Path(__file__).resolve().parent
CACHE = Path("/tmp/ctxengine-bench")
CHUNK_TOKENS = 64
SPLITS = (1, 2, 4, 8)


# ---- corpus -------------------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def copy_of(docs: list[str], copy: int) -> list[str]:
    """Copy `copy` of the docs: the first as written, later ones with each document's sentences
    in a seeded order (the same words and term statistics, distinct chunks)."""
    if copy == 0:
        return docs
    out = []
    for i, doc in enumerate(docs):
        sentences = _SENTENCE.split(doc)
        np.random.default_rng(copy * 10_000 + i).shuffle(sentences)
        out.append(" ".join(sentences))
    return out


def queries(n: int) -> list[str]:
    """Natural questions (bench_pack's) and 2-4 words drawn from the text (seeded)."""
    from bench_pack import QUESTIONS

    rng = np.random.default_rng(0)
    paras = [p for t in python_docs()[:200] for p in t.split("\n\n") if p.strip()]
    out = list(QUESTIONS)
    while len(out) < n:
        words = re.findall(r"[A-Za-z]{4,}", paras[int(rng.integers(len(paras)))])
        if len(words) >= 2:
            out.append(" ".join(rng.choice(words, size=min(len(words), int(rng.integers(2, 5))))))
    return out[:n]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# ---- child: build the indexes -------------------------------------------------------------


def build(n_chunks: int) -> dict[str, Any]:
    """One Index and a sharded index per split, each over the same copies of the docs, saved
    under CACHE (kept for later runs). Returns build figures."""
    import ctxengine
    from ctxengine.distributed import ShardedIndex

    docs = python_docs()
    out: dict[str, Any] = {}
    one_path = CACHE / f"scale-{n_chunks}-one"
    copies = None
    if not (one_path / "CURRENT").is_file():
        index = ctxengine.Index(max_tokens=CHUNK_TOKENS)
        start, copy, mb = time.perf_counter(), 0, 0.0
        while index.n_chunks < n_chunks:
            texts = copy_of(docs, copy)
            mb += sum(len(t.encode()) for t in texts) / 1e6
            index.add_many(texts, [f"{copy}/{i}" for i in range(len(docs))])
            copy += 1
        index.search("warm up", 1)  # builds BM25
        out["one_build_s"] = time.perf_counter() - start
        out["one_rss_mb"] = _rss_mb()
        out["mb"] = mb
        index.save(one_path)
        del index
        gc.collect()
    one = ctxengine.Index.load(one_path, verify=False)
    copies = len(one) // len(docs)
    out["copies"] = copies
    out["chunks"] = one.n_chunks
    del one
    for n in SPLITS:
        path = CACHE / f"scale-{n_chunks}-shards-{n}"
        if (path / "sharded.json").is_file():
            continue
        index = ShardedIndex(n, max_tokens=CHUNK_TOKENS)
        start = time.perf_counter()
        for copy in range(copies):
            index.add_many(copy_of(docs, copy), [f"{copy}/{i}" for i in range(len(docs))])
        index.search("warm up", 1)
        out[f"sharded_{n}_build_s"] = time.perf_counter() - start
        index.save(path)
        del index
        gc.collect()
    return out


# ---- child: search latency ----------------------------------------------------------------


def _latencies(fn: Any, qs: list[str], warmup: int = 10, cpu: bool = False) -> list[float]:
    """Wall time of fn(q) per query (ms), or with `cpu` this thread's CPU time: the service time
    a dedicated core would see, without the waits of a machine shared with other work."""
    clock = time.thread_time if cpu else time.perf_counter
    for q in qs[:warmup]:
        fn(q)
    times = []
    for q in qs:
        t = clock()
        fn(q)
        times.append((clock() - t) * 1e3)
    return times


def _p(times: list[float], q: float) -> float:
    return float(np.percentile(times, q))


def search(n_chunks: int, n_queries: int, backend: str) -> dict[str, Any]:
    """Latency (ms) of one Index and of each split on `backend`, and per-shard service times."""
    import ctxengine
    from ctxengine.distributed import ShardedIndex

    qs = queries(n_queries)
    out: dict[str, Any] = {"queries": len(qs)}
    if backend == "local":
        base = _rss_mb()
        one = ctxengine.Index.load(CACHE / f"scale-{n_chunks}-one", verify=False)
        times = _latencies(lambda q: one.search(q, 10), qs)
        cpu = _latencies(lambda q: one.search(q, 10), qs, cpu=True)
        out["one"] = {"p50": _p(times, 50), "p99": _p(times, 99), "cpu_p50": _p(cpu, 50)}
        out["one_loaded_rss_mb"] = _rss_mb() - base
        out["one_chunks"] = one.n_chunks
        out["one_saved_mb"] = _dir_mb(CACHE / f"scale-{n_chunks}-one")
        del one
        gc.collect()
    else:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    for n in SPLITS:
        path = CACHE / f"scale-{n_chunks}-shards-{n}"
        start = time.perf_counter()
        index = ShardedIndex.load(path, backend=backend, verify=False)  # type: ignore[arg-type]
        load_s = time.perf_counter() - start
        times = _latencies(lambda q, index=index: index.search(q, 10), qs)
        row: dict[str, Any] = {
            "p50": _p(times, 50),
            "p99": _p(times, 99),
            "load_s": load_s,
            "shard_sizes": [c for _, c in index.shard_sizes()],
        }
        if backend == "local":
            # Each shard's own service time for each query (the search a shard runs, with the
            # corpus statistics given), from which the capacity model is built.
            stats = {q: index._stats.for_queries(index._backend, index._version, [q]) for q in qs}

            def one_shard(q: str, shard: Any, stats: dict[str, Any] = stats) -> Any:
                return shard.search(
                    q, 10, lists=("bm25",), vector=None, filter=None, hits=True, stats=stats[q]
                )

            shards = [shard for _, shard in sorted(index._backend.shards.items())]
            row["per_shard"] = [
                _latencies(lambda q, shard=shard: one_shard(q, shard), qs) for shard in shards
            ]
            row["per_shard_cpu"] = [
                _latencies(lambda q, shard=shard: one_shard(q, shard), qs, cpu=True)
                for shard in shards
            ]
            row["saved_mb"] = _dir_mb(path)
        out[str(n)] = row
        index.close()
        del index
        gc.collect()
    if backend == "ray":
        import ray

        ray.shutdown()
    return out


def dense_flat_ms(n: int = 250_000, dim: int = 384, repeat: int = 30) -> float:
    """Exact flat inner-product search time of one query over `n` random unit vectors
    (FAISS IndexFlatIP, one thread), per 1M vectors."""
    import faiss

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    v = rng.standard_normal((n, dim), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(dim)
    index.add(v)
    q = v[:1].copy()
    times = _latencies(lambda _: index.search(q, 10), list(range(repeat)), warmup=3)
    return statistics.median(times) * 1e6 / n


# ---- child: ingest ------------------------------------------------------------------------


def _corpus_paths(copies: int, n_files: int | None, similar: bool = False) -> list[str]:
    """The docs' files (the first `n_files`; with `similar`, of those between 4 and 6 KB, so
    that workers get equal shares), `copies` times under distinct paths (symlinked folders),
    so that every copy is a new document."""
    files = sorted(DOCS_DIR.rglob("*.rst.txt"))
    if similar:
        files = [f for f in files if 4000 <= f.stat().st_size <= 6000]
    files = files[:n_files]
    root = CACHE / "ingest-copies"
    out = []
    for c in range(copies):
        link = root / f"copy{c}"
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(DOCS_DIR)
        out += [str(link / f.relative_to(DOCS_DIR)) for f in files]
    return out


def ingest(
    copies: int, n_files: int | None, embed: bool, baseline: bool, repeat: int = 3
) -> dict[str, Any]:
    """Ingest `copies` copies of the docs' files (the first `n_files`) through the Ray pipeline
    with 1 and 2 workers into 2 shard actors (one Ray cluster of 2 CPUs); with `baseline`, into
    one Index in-process first. Where the time went comes from ShardedIndex.last_ingest."""
    import dataclasses
    import tempfile
    import warnings

    import ray

    import ctxengine
    from ctxengine.distributed import ShardedIndex

    files = _corpus_paths(copies, n_files, similar=embed)
    mb = sum(os.path.getsize(f) for f in files) / 1e6
    embedder = "all-MiniLM-L6-v2" if embed else None
    out: dict[str, Any] = {"files": len(files), "mb": mb}
    warnings.simplefilter("ignore")
    if baseline:
        start = time.perf_counter()
        one = ctxengine.Index(max_tokens=256, embedder=embedder)
        one.add_files(files, progress=False)
        out["one_add_s"] = time.perf_counter() - start
        start = time.perf_counter()
        one.search("warm up", 1)  # builds BM25
        out["one_build_s"] = time.perf_counter() - start
        out["one_s"] = out["one_add_s"] + out["one_build_s"]
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            one.save(Path(tmp) / "ix")
            out["one_saved_mb"] = _dir_mb(Path(tmp) / "ix")
        out["chunks"] = one.n_chunks
        del one
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)

    def run(paths: list[str], workers: int) -> dict[str, Any]:
        index = ShardedIndex(2, backend="ray", max_tokens=256, embedder=embedder)
        index.add_files(paths, progress=False, workers=workers)
        start = time.perf_counter()
        index.search("warm up", 1)  # each shard builds its BM25 (in parallel)
        row = dataclasses.asdict(index.last_ingest)
        row["build_s"] = time.perf_counter() - start
        row["wall_s"] = row["seconds"] + row["build_s"]
        out["chunks"] = index.n_chunks
        index.close()
        return row

    try:
        run(files[:1], 2)  # warm-up: Ray Data's first use in a process imports and starts a lot
        for workers in (1, 2):
            # The fixed cost (workers, tokenizer, actors) from one file; then the whole set;
            # the run of median wall time of `repeat`, alternating 1 and 2 workers.
            out[f"start_{workers}_s"] = statistics.median(
                run(files[:1], workers)["wall_s"] for _ in range(repeat)
            )
        runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
        for _ in range(repeat):
            for workers in (1, 2):
                runs[workers].append(run(files, workers))
        for workers, rows in runs.items():
            rows.sort(key=lambda r: r["wall_s"])
            out[f"ray_{workers}"] = rows[len(rows) // 2]
            out[f"ray_{workers}_walls"] = [r["wall_s"] for r in rows]
    finally:
        ray.shutdown()
    return out


# ---- the capacity model -------------------------------------------------------------------


def capacity_model(
    search: dict[str, Any],
    on_ray: dict[str, Any],
    dense_ms_per_m: float,
    ing: dict[str, Any],
    emb: dict[str, Any],
) -> dict[str, Any]:
    """Shards, memory, fan-out latency, ingest time and what 1,000 QPS takes, for 100M and 1B
    chunks, from the measured per-shard figures (docs/scale.md explains each step)."""
    sizes, p50s, p99s, means = [], [], [], []
    for n in SPLITS:
        row = search[str(n)]
        for size, times in zip(row["shard_sizes"], row["per_shard_cpu"], strict=True):
            sizes.append(size)
            p50s.append(statistics.median(times))
            p99s.append(float(np.percentile(times, 99)))
            means.append(statistics.fmean(times))
    # A shard's service time (CPU) ~ a * chunks^alpha: least squares in log-log over the 15
    # measured shards (130K to 1M chunks). Beyond 1M this is an extrapolation.
    fit = {
        name: np.polyfit(np.log(sizes), np.log(values), 1)
        for name, values in (("p50", p50s), ("p99", p99s), ("mean", means))
    }

    def at(name: str, size: float) -> float:
        alpha, log_a = fit[name]
        return float(math.exp(log_a) * size**alpha)

    bytes_per_chunk = search["one_saved_mb"] * 1e6 / search["one_chunks"]
    # A query waits for its slowest shard: the median over queries of (slowest shard / median
    # shard) on the 8-way split, in CPU time.
    eight = np.array(search["8"]["per_shard_cpu"])  # shards x queries
    spread = float(np.median(eight.max(axis=0) / np.median(eight, axis=0)))
    # One Ray round trip (actor call, serialisation, merge): the 1-shard index on Ray against
    # the same in-process.
    rpc_ms = on_ray["1"]["p50"] - search["1"]["p50"]
    # Ingest (256-token chunks): a worker prepares `rate` chunks per CPU second; the coordinator
    # spends `commit` seconds per chunk sending prepared batches to the shards (a serial part);
    # each shard builds its BM25 index at `build` seconds per chunk (shards in parallel).
    steady = {w: ing["chunks"] / (ing[f"ray_{w}"]["wall_s"] - ing[f"start_{w}_s"]) for w in (1, 2)}
    rate = steady[1]  # chunks a second with one worker, the pipeline's own overheads included
    # The coordinator's CPU per chunk (receiving prepared batches, numbering, routing, sending
    # them on): a serial part no number of workers shortens.
    commit = ing["ray_2"]["coordinator_cpu_s"] / ing["chunks"]
    build = ing["one_build_s"] / ing["chunks"]
    embed_rate = emb["chunks"] / emb["ray_2"]["prepare_cpu_s"]
    model: dict[str, Any] = {
        "fit": {k: [float(v[0]), float(math.exp(v[1]))] for k, v in fit.items()},
        "bytes_per_chunk_saved": bytes_per_chunk,
        "bytes_per_chunk_saved_256": ing["one_saved_mb"] * 1e6 / ing["chunks"],
        "slowest_shard_spread": spread,
        "rpc_ms": rpc_ms,
        "ingest_steady_chunks_per_s": steady,
        "ingest_worker_chunks_per_cpu_s": ing["chunks"] / ing["ray_2"]["prepare_cpu_s"],
        "ingest_embed_chunks_per_cpu_s": embed_rate,
        "ingest_coordinator_us_per_chunk": commit * 1e6,
        "bm25_build_us_per_chunk": build * 1e6,
        "dense_flat_ms_per_1m": dense_ms_per_m,
        "targets": {},
    }
    for total in (100_000_000, 1_000_000_000):
        for shard_size in (10_000_000, 25_000_000):
            shards = math.ceil(total / shard_size)
            mean = at("mean", shard_size)
            # 1,000 QPS: every shard sees every query; a replica (one core) serves 1000 / mean
            # queries a second; kept 60% busy so that queueing does not blow up the tail.
            replicas = math.ceil(1000 * mean / 1000 / 0.6)
            model["targets"][f"{total / 1e6:.0f}M chunks, {shard_size / 1e6:.0f}M a shard"] = {
                "shards": shards,
                "disk_and_memory_gb_per_shard": shard_size * bytes_per_chunk / 1e9,
                "shard_p50_ms": at("p50", shard_size),
                "shard_p99_ms": at("p99", shard_size),
                "shard_mean_ms": mean,
                "fanout_p50_ms": at("p50", shard_size) * spread + rpc_ms,
                "fanout_p99_ms": at("p99", shard_size) * spread + rpc_ms,
                "dense_flat_ms_per_shard": dense_ms_per_m * shard_size / 1e6,
                "replicas_per_shard_for_1000_qps": replicas,
                "cores_for_1000_qps": replicas * shards,
                # Workers in parallel, the coordinator in series with them at best (so the
                # slower of the two), then every shard's BM25 build in parallel.
                "ingest_hours": {
                    w: (max(total / (rate * w), total * commit) + shard_size * build) / 3600
                    for w in (1, 16, 64, 256)
                },
                "ingest_hours_with_embed": {
                    w: (max(total / (embed_rate * w), total * commit) + shard_size * build) / 3600
                    for w in (1, 16, 64, 256)
                },
            }
    return model


# ---- driver -------------------------------------------------------------------------------


def _child(call: str, timeout_s: float = 1800) -> Any:
    code = f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import bench_scale as b; "
    code += f"print(json.dumps(b.{call}))"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        # A Ray start can hang on a loaded machine (seen once: gcs_server up, workers defunct).
        raise SystemExit(
            f"bench_scale: {call} did not finish in {timeout_s:.0f} s; stop leftover Ray "
            "processes (ray stop) and run it again"
        ) from None
    if proc.returncode != 0:
        raise SystemExit(f"bench_scale: {call} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ingest_results(ing: dict[str, Any], case: str) -> list[Result]:
    """Throughput of the whole run (wall, fixed start and BM25 build included), the workers' own
    rate (chunks per CPU second spent reading, chunking, counting (and embedding), times the
    workers: what dedicated cores do), and the coordinator's share (its seconds committing the
    prepared batches to the shards, per chunk)."""
    out = []
    if "one_s" in ing:
        out.append(Result("scale-ingest", case, "one Index", ing["chunks"] / ing["one_s"],
                          "chunks/s", notes="in-process, all cores"))  # fmt: skip
    for w in (1, 2):
        r = ing[f"ray_{w}"]
        out.append(Result("scale-ingest", case, f"ctxengine Ray {w} worker(s)",
                          ing["chunks"] / r["wall_s"], "chunks/s",
                          notes="wall, with the BM25 build"))  # fmt: skip
        out.append(Result("scale-ingest worker rate", case, f"ctxengine Ray {w} worker(s)",
                          ing["chunks"] / r["prepare_cpu_s"] * w, "chunks/s",
                          notes="per CPU second of a worker, x workers"))  # fmt: skip
        out.append(Result("scale-ingest coordinator", case, f"ctxengine Ray {w} worker(s)",
                          r["coordinator_cpu_s"] / ing["chunks"] * 1e6, "us/chunk", False,
                          notes="CPU of the coordinating process"))  # fmt: skip
    one, two = ing["ray_1"], ing["ray_2"]
    out.append(Result("scale-ingest 2-worker scaling", case, "ctxengine",
                      one["wall_s"] / two["wall_s"], "x",
                      notes="wall"))  # fmt: skip
    return out


def run(ctx: Context) -> list[Result]:
    n_chunks = 100_000 if ctx.quick else 1_000_000
    n_queries = 100 if ctx.quick else 200
    n_files = 60 if ctx.quick else None
    results: list[Result] = []
    print("  ingest (Ray Data pipeline, 1 and 2 workers)", file=sys.stderr, flush=True)
    ing = _child(f"ingest({1 if ctx.quick else 4}, {n_files}, False, True)")
    case = f"{ing['files']} files, {ing['mb']:.0f} MB, {ing['chunks']} chunks"
    results += _ingest_results(ing, case)
    for w in (1, 2):
        r = ing[f"ray_{w}"]
        steady = ing["chunks"] / (r["wall_s"] - ing[f"start_{w}_s"])
        results.append(Result("scale-ingest steady", case, f"ctxengine Ray {w} worker(s)",
                              steady, "chunks/s", notes="wall less the fixed start"))  # fmt: skip
    results.append(Result("scale-ingest fixed start", "1 file", "ctxengine Ray 1 worker(s)",
                          ing["start_1_s"], "s", False))  # fmt: skip
    emb = _child(f"ingest(1, {4 if ctx.quick else 16}, True, False)")
    case = f"{emb['files']} files, {emb['chunks']} chunks, MiniLM (NumPy, 1 thread a worker)"
    for r in _ingest_results(emb, case):
        if r.bench != "scale-ingest coordinator":
            r.bench = r.bench.replace("scale-ingest", "scale-ingest+embed")
            results.append(r)
    print(f"  build {n_chunks} chunks, split {SPLITS}", file=sys.stderr, flush=True)
    built = _child(f"build({n_chunks})")
    print("  search (in-process)", file=sys.stderr, flush=True)
    local = _child(f"search({n_chunks}, {n_queries}, 'local')")
    print("  search (Ray)", file=sys.stderr, flush=True)
    on_ray = _child(f"search({n_chunks}, {n_queries}, 'ray')")
    dense = _child("dense_flat_ms()")
    chunks = local["one_chunks"]
    for n in SPLITS:
        case = f"{chunks / 1e6:.2f}M chunks, {n} shard(s)"
        for q in ("p50", "p99"):
            bench = f"scale-search {q} k=10"
            results.append(Result(bench, case, "one Index", local["one"][q], "ms", False))
            results.append(Result(bench, case, "ctxengine", local[str(n)][q], "ms", False,
                                  notes="in-process"))  # fmt: skip
            results.append(Result(bench + " Ray", case, "one Index", local["one"][q], "ms", False))
            results.append(Result(bench + " Ray", case, "ctxengine", on_ray[str(n)][q], "ms",
                                  False, notes="Ray, 2 CPUs"))  # fmt: skip
        cpu = [statistics.median(t) for t in local[str(n)]["per_shard_cpu"]]
        results.append(Result("scale-shard cpu p50 k=10", case, "ctxengine",
                              statistics.median(cpu), "ms", False,
                              notes="median over shards"))  # fmt: skip
    results.append(Result("scale-search cpu p50 k=10", f"{chunks / 1e6:.2f}M chunks", "one Index",
                          local["one"]["cpu_p50"], "ms", False))  # fmt: skip
    results.append(Result("scale-dense flat per 1M vectors", "384-d, 1 query, 1 thread", "faiss",
                          dense, "ms", False))  # fmt: skip
    model = capacity_model(local, on_ray, dense, ing, emb)
    results[-1].extra = {
        "capacity_model": model,
        "build": built,
        "ray_load_s": {n: on_ray[str(n)]["load_s"] for n in SPLITS},
        "ingest": ing,
        "ingest_embed": emb,
    }
    print(json.dumps(model, indent=1), file=sys.stderr)
    return results
