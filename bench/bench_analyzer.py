"""Analyzer settings measured by answer quality on real questions (docs/retrieval.md, "Analyzer
defaults"): recall@10 and MRR@10 of ctxengine's BM25 over the Python docs in 512- and
128-token chunks, for the 372 questions of bench/data, under each analyzer setting and two
(k1, b) pairs. A question is answered at 10 when one of its top 10 chunks comes from a document
that answers it (bench/questions.py); MRR takes the rank of the first such chunk (0 past 10).
Recall depends on the code, not on the machine.

Run: ``python bench/bench_analyzer.py`` (prints one JSON line per setting) or
``python bench/run.py --only analyzer``.
"""

from __future__ import annotations

import json
from typing import Any

from bench_bm25 import chunks
from common import Context, Result
from questions import load_questions, relevant_doc

# (label, options) as in the docs' table; every option not named takes ctxengine's default.
SETTINGS: list[tuple[str, dict[str, Any]]] = [
    ("every word", {"stop_words": False, "min_chars": 1}),
    ("stop words", {"stop_words": True, "min_chars": 1}),
    ("stem", {"stop_words": False, "stem": True, "min_chars": 1}),
    ("stop words + stem", {"stop_words": True, "stem": True, "min_chars": 1}),
    ("stop words + min_chars=2 (the default)", {}),
    ("min_chars=2 only", {"stop_words": False}),
    ("stop words + stem + min_chars=2", {"stem": True}),
    ("the default, k1 = 1.2", {"k1": 1.2}),
    ("the default, k1 = 0.9, b = 0.4", {"k1": 0.9, "b": 0.4}),
]


def measure(options: dict[str, Any], size: int) -> tuple[float, float]:
    """(recall@10, MRR@10) over the questions at one chunk size."""
    import ctxengine

    base = chunks(size)
    bm25 = ctxengine.BM25([t for _, t in base], **options)
    questions = load_questions()
    found = rr = 0.0
    for q in questions:
        ids = bm25.search(q.text, 10)[1].tolist()
        ranks = [r for r, i in enumerate(ids) if relevant_doc(q, base[i][0])]
        found += bool(ranks)
        rr += 1 / (ranks[0] + 1) if ranks else 0.0
    return found / len(questions), rr / len(questions)


def run(ctx: Context) -> list[Result]:
    results = []
    for label, options in SETTINGS[:1] + SETTINGS[4:5] if ctx.quick else SETTINGS:
        for size in (512, 128):
            recall, mrr = measure(options, size)
            case = f"{size}-token chunks, 372 questions"
            results.append(Result("bm25 recall@10", case, label, recall, "", True))
            results.append(Result("bm25 MRR@10", case, label, mrr, "", True))
    return results


if __name__ == "__main__":
    for label, options in SETTINGS:
        row = {str(size): [round(v, 3) for v in measure(options, size)] for size in (512, 128)}
        print(json.dumps({"setting": label, "recall@10, MRR": row}), flush=True)
