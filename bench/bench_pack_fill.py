"""Does pack fill the budget from an index of many short documents? ctxengine.pack over the
Python docs cut into chat-turn-sized documents (sentences, at most 40 cl100k tokens: about 30
on average), for the 372 questions of bench/data, budget 4,000 tokens: tokens used, sources,
whether a source from a document that answers the question made it in (recall), and the share
of packed tokens that come from such documents (precision), for several relevance floors
(packing/_candidates.py, MIN_RELATIVE_SCORE: hits below this share of the best score are not
candidates) and for a fixed k=24 (what pack asked for before it used the index's mean chunk
size).

Run: ``python bench/bench_pack_fill.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

from common import Context, Result
from questions import documents, load_questions

BUDGET = 4000


def turns() -> tuple[list[str], list[str]]:
    import ctxengine

    docs = documents()
    ids = list(docs)
    texts, names = [], []
    cut = ctxengine.chunk_many([docs[i] for i in ids], 40, by="sentences")
    for d, chunks in zip(ids, cut, strict=True):
        for j, t in enumerate(chunks):
            if str(t).strip():
                texts.append(str(t))
                names.append(f"{d}#{j}")
    return texts, names


def measure(floors: list[float]) -> dict:
    import ctxengine
    from ctxengine.packing import _candidates

    texts, names = turns()
    index = ctxengine.Index(max_tokens=256)
    index.add_many(texts, names)
    qs = load_questions()
    out = {"documents": len(texts), "mean_tokens": index.mean_chunk_tokens, "runs": {}}
    for floor in [*floors, "k=24"]:
        used, sources, recall, precision, seconds = [], [], [], [], []
        for q in qs:
            t = time.perf_counter()
            if floor == "k=24":
                packed = ctxengine.pack(q.text, index, BUDGET, k=24)
            else:
                _candidates.MIN_RELATIVE_SCORE = floor
                packed = ctxengine.pack(q.text, index, BUDGET)
            seconds.append(time.perf_counter() - t)
            used.append(packed.tokens)
            sources.append(len(packed.sources))
            good = [s for s in packed.sources if s.doc_id.split("#")[0] in q.docs]
            recall.append(bool(good))
            total = sum(len(s.text) for s in packed.sources) or 1
            precision.append(sum(len(s.text) for s in good) / total)
        out["runs"][str(floor)] = {
            "tokens_p50": statistics.median(used),
            "tokens_mean": float(np.mean(used)),
            "sources_p50": statistics.median(sources),
            "recall": float(np.mean(recall)),
            "precision": float(np.mean(precision)),
            "ms_p50": statistics.median(seconds) * 1e3,
        }
    return out


def run(ctx: Context) -> list[Result]:
    m = measure([0.0, 0.25])
    case = f"{m['documents'] / 1e3:.0f}K turns of {m['mean_tokens']:.0f} tokens, budget {BUDGET}"
    results = []
    for floor, r in m["runs"].items():
        name = f"ctxengine floor {floor}" if floor != "k=24" else "ctxengine k=24"
        results.append(Result("pack fill: tokens used p50", case, name, r["tokens_p50"], "tokens"))
        results.append(Result("pack fill: recall", case, name, r["recall"], ""))
    return results


if __name__ == "__main__":
    floors = [float(x) for x in sys.argv[1:]] or [0.0, 0.1, 0.2, 0.25, 0.3, 0.4]
    print(json.dumps(measure(floors), indent=1))
