"""BM25 on real questions: ctxengine against bm25s (numba backend) and tantivy.

Corpus: the Python 3.11 docs chunked by ctxengine.chunk_many (cl100k, by="recursive") into
512-token chunks (7.0K chunks: "5K") and 128-token chunks repeated 3 times (85K: "80K") and 36
times (1.02M: "1M"). Queries: the 372 hand-written questions of bench/data (8-15 words, as users
type them; bench/questions.py), one at a time, k=10, as a user calls each library: ctxengine
``BM25.search(question)`` (one thread, its default), bm25s
``retrieve(bm25s.tokenize(question))`` (one thread; its tokenizing included, its default English
stop words), tantivy ``searcher.search(index.parse_query(...))``
(the question with punctuation replaced by spaces: its query parser rejects some). All engines of a
scale live in one child process and are timed in interleaved order, question by question (the
engine that goes first rotates), so that load from other processes falls on all of them alike;
p50 and p99 over two passes of all questions after one warm-up pass.

Recall@10 (a question is answered when a top-10 chunk comes from a document that answers it)
is measured at "5K" and on the 128-token chunks once (28K).

Add-then-search at 1M: one new chunk is added to the 1.02M-chunk index and a question searched
right away, 300 times: ctxengine's memory segment against tantivy's add, commit and reload
(bm25s cannot add documents: it rebuilds).

Run: ``python bench/run.py --only bm25`` or ``python bench/bench_bm25.py [SCALE ...]``.
"""

from __future__ import annotations

import gc
import json
import pickle
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from common import Context, Result, peer
from questions import documents, load_questions, relevant_doc

HERE = Path(__file__).resolve().parent
SCALES = {"5K": (512, 1), "80K": (128, 3), "1M": (128, 36)}
CTX_OPTIONS: dict[str, Any] = {}  # ctxengine.BM25's defaults


def chunks(size: int) -> list[tuple[str, str]]:
    """(document id, chunk text) of the Python docs in `size`-token chunks (cached on disk)."""
    cache = Path(f"/tmp/ctxengine-bench-chunks-{size}.pkl")
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    import ctxengine

    docs = documents()
    ids = list(docs)
    out = []
    for d, c in zip(ids, ctxengine.chunk_many([docs[i] for i in ids], size), strict=True):
        out += [(d, str(t)) for t in c if str(t).strip()]
    cache.write_bytes(pickle.dumps(out))
    return out


_PUNCT = re.compile(r"[^\w\s]")


class Engine:
    name = ""

    def search(self, q: str) -> list[int]:
        raise NotImplementedError


class Ctx(Engine):
    name = "ctxengine"

    def __init__(self, texts: list[str], **options: Any) -> None:
        import ctxengine

        self.index = ctxengine.BM25(texts, **options)

    def search(self, q: str) -> list[int]:
        # One thread, as bm25s below (its numba backend parallelises over queries, never within
        # one); it is also BM25.search's default.
        return self.index.search(q, 10, threads=1)[1].tolist()


class Bm25s(Engine):
    name = "bm25s numba"

    def __init__(self, texts: list[str]) -> None:
        import bm25s

        self.bm25s = bm25s
        self.retriever = bm25s.BM25(backend="numba")
        self.retriever.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)

    def search(self, q: str) -> list[int]:
        tokens = self.bm25s.tokenize(q, show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        ids, _ = self.retriever.retrieve(tokens, k=10, show_progress=False, n_threads=1)
        return ids[0].tolist()


class Tantivy(Engine):
    name = "tantivy"

    def __init__(self, texts: list[str]) -> None:
        import tantivy

        self.tantivy = tantivy
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False)
        builder.add_integer_field("id", stored=True, fast=True)
        self.index = tantivy.Index(builder.build())
        self.writer = self.index.writer(heap_size=512_000_000, num_threads=2)
        for i, t in enumerate(texts):
            self.writer.add_document(tantivy.Document(body=t, id=i))
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.writer = self.index.writer(heap_size=64_000_000, num_threads=1)
        self.index.reload()
        self.searcher = self.index.searcher()
        self.n = len(texts)

    def search(self, q: str) -> list[int]:
        query = self.index.parse_query(_PUNCT.sub(" ", q), ["body"])
        hits = self.searcher.search(query, 10).hits
        return [self.searcher.doc(address)["id"][0] for _, address in hits]

    def add(self, text: str) -> None:
        self.writer.add_document(self.tantivy.Document(body=text, id=self.n))
        self.n += 1
        self.writer.commit()
        self.index.reload()
        self.searcher = self.index.searcher()


def _percentiles(times: list[float]) -> tuple[float, float]:
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def run_scale(label: str, engines: list[str], passes: int = 2) -> dict[str, Any]:
    """Builds every engine over one scale's corpus in this process and times them interleaved."""
    size, copies = SCALES[label]
    base = chunks(size)
    texts = [t for _, t in base] * copies
    questions = [q.text for q in load_questions()]
    out: dict[str, Any] = {"chunks": len(texts), "engines": {}}
    built: list[Engine] = []
    for name in engines:
        gc.collect()
        start = time.perf_counter()
        engine: Engine
        if name == "ctxengine":
            engine = Ctx(texts, **CTX_OPTIONS)
        elif name == "bm25s numba":
            engine = Bm25s(texts)
        else:
            engine = Tantivy(texts)
        out["engines"][name] = {"build_s": time.perf_counter() - start}
        built.append(engine)
    times: dict[str, list[float]] = {e.name: [] for e in built}
    for p in range(passes + 1):
        for i, q in enumerate(questions):
            for j in range(len(built)):
                e = built[(i + j + p) % len(built)]
                t = time.perf_counter()
                e.search(q)
                if p > 0:
                    times[e.name].append(time.perf_counter() - t)
    for e in built:
        p50, p99 = _percentiles(times[e.name])
        out["engines"][e.name].update(p50_ms=p50, p99_ms=p99)
    if copies == 1:
        qs = load_questions()
        for e in built:
            found = sum(any(relevant_doc(q, base[i][0]) for i in e.search(q.text)) for q in qs)
            out["engines"][e.name]["recall@10"] = found / len(qs)
    return out


def run_add_then_search(label: str = "1M", n: int = 300) -> dict[str, Any]:
    """Add one chunk to the full index, then search a question; p50/p99 of the pair. For
    ctxengine both the BM25 core (``BM25.add`` then ``search``) and ``Index`` (``add`` of a
    new document: chunking, the chunk table, the memory segment; then ``search`` with hits)."""
    import ctxengine

    size, copies = SCALES[label]
    base = [t for _, t in chunks(size)]
    texts = base * copies
    questions = [q.text for q in load_questions()]
    new = [f"{base[i % len(base)]} appended note {i}" for i in range(n + 20)]
    out: dict[str, Any] = {"chunks": len(texts)}
    bm25 = ctxengine.BM25(texts, **CTX_OPTIONS)
    lat = []
    for i, text in enumerate(new):
        t = time.perf_counter()
        bm25.add([text])
        bm25.search(questions[i % len(questions)], 10)
        if i >= 20:
            lat.append(time.perf_counter() - t)
    out["ctxengine BM25"] = dict(zip(("p50_ms", "p99_ms"), _percentiles(lat), strict=True))
    del bm25
    gc.collect()
    # The Index over the same chunks: one document per chunk of the docs, 36 times over.
    docs = documents()
    index = ctxengine.Index(max_tokens=size)
    for c in range(copies):
        index.add_many(list(docs.values()), [f"{d}#{c}" for d in docs])
    out["index_chunks"] = index.n_chunks
    lat = []
    for i, text in enumerate(new):
        t = time.perf_counter()
        index.add(text, doc_id=f"new-{i}")
        index.search(questions[i % len(questions)], k=10)
        if i >= 20:
            lat.append(time.perf_counter() - t)
    out["ctxengine Index"] = dict(zip(("p50_ms", "p99_ms"), _percentiles(lat), strict=True))
    del index
    gc.collect()
    if peer("tantivy") is not None:
        engine = Tantivy(texts)
        lat = []
        for i, text in enumerate(new[:120]):
            t = time.perf_counter()
            engine.add(text)
            engine.search(questions[i % len(questions)])
            if i >= 20:
                lat.append(time.perf_counter() - t)
        out["tantivy"] = dict(zip(("p50_ms", "p99_ms"), _percentiles(lat), strict=True))
    return out


def _child(fn: str, *args: Any) -> Any:
    code = (
        f"import sys, json; sys.path.insert(0, {str(HERE)!r}); import bench_bm25; "
        f"print(json.dumps(bench_bm25.{fn}(*{args!r})))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"bench_bm25: {fn}{args} failed: {proc.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available_engines() -> list[str]:
    engines = ["ctxengine"]
    if peer("bm25s") is not None and peer("numba") is not None:
        engines.append("bm25s numba")
    if peer("tantivy") is not None:
        engines.append("tantivy")
    return engines


def run(ctx: Context) -> list[Result]:
    results = []
    labels = ["5K"] if ctx.quick else list(SCALES)
    for label in labels:
        print(f"  questions at {label}", file=sys.stderr, flush=True)
        m = _child("run_scale", label, available_engines())
        if m is None:
            continue
        case = f"{label} ({m['chunks'] / 1e3:.0f}K chunks), 372 questions"
        for name, e in m["engines"].items():
            results.append(Result("bm25 question p50 k=10", case, name, e["p50_ms"], "ms", False))
            results.append(Result("bm25 question p99 k=10", case, name, e["p99_ms"], "ms", False))
            results.append(Result("bm25 build", case, name, e["build_s"], "s", False))
            if "recall@10" in e:
                results.append(Result("bm25 recall@10", case, name, e["recall@10"], "", True))
    if not ctx.quick:
        print("  add then search at 1M", file=sys.stderr, flush=True)
        m = _child("run_add_then_search", "1M")
        if m is not None:
            case = f"1M ({m['chunks'] / 1e3:.0f}K chunks): add one chunk, then search"
            for name in ("ctxengine BM25", "ctxengine Index", "tantivy"):
                if name in m:
                    for p in ("p50", "p99"):
                        results.append(
                            Result(
                                f"bm25 add+search {p}", case, name, m[name][f"{p}_ms"], "ms", False
                            )
                        )
    return results


if __name__ == "__main__":
    for label in sys.argv[1:] or [*SCALES, "add"]:
        if label == "add":
            print("add+search", json.dumps(run_add_then_search("1M")), flush=True)
        else:
            print(label, json.dumps(run_scale(label, available_engines())), flush=True)
