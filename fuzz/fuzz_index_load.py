"""Fuzz harness: ``Index.load`` of a damaged index folder.

A small index (BM25 and dense vectors, flat or HNSW) is saved once; each input damages one
file of the folder (flips, overwrites, truncates, extends or deletes it) and loads it, with
and without checksum verification. The contract:

- with ``verify=True`` a changed file is refused (a ctxengine error: FormatError,
  NotFoundError), never loaded;
- with ``verify=False`` the load either refuses with a ctxengine error or gives an index whose
  searches (BM25, dense, hybrid) either refuse with a ctxengine error or return well-formed
  hits (finite scores, ordered offsets); an undamaged index's hits are the
  text at their offsets (a damaged one loaded without verification may show wrong text: that
  is what skipping the checksums trusts);
- never a crash, a hang, or another exception (IndexError, KeyError, numpy's errors, ...).

Input: option byte (bit 0: verify; bit 1: HNSW; bits 2-4: the kind of damage), a byte naming
the file, two bytes of position, then the bytes to write. Run it with
``scripts/fuzz.sh SECONDS index_load``; the test suite replays fuzz/corpus/index_load.
"""

from __future__ import annotations

import itertools
import math
import shutil
import tempfile
from functools import cache
from pathlib import Path

import numpy as np

import ctxengine
from ctxengine.errors import Error

TEXTS = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    "Packing chooses the best chunks for a token budget.\n\nBM25 scores terms; dense vectors "
    "score meaning. Hybrid search fuses both rankings.",
    "東京は日本の首都です。大阪は第二の都市です。",
    "def search(index, query):\n    return index.search(query, k=5)\n",
]
QUERIES = ["quick fox", "token budget hybrid", "首都", "search index"]


def toy_embedder(texts: list[str]) -> np.ndarray:
    """A deterministic 16-dimensional bag of byte bigrams (no model needed)."""
    out = np.zeros((len(texts), 16), dtype=np.float32)
    for i, t in enumerate(texts):
        b = t.encode()
        for a, c in itertools.pairwise(b):
            out[i, (a * 31 + c) % 16] += 1.0
        out[i, 0] += 1.0
    return out


@cache
def saved(hnsw: bool) -> dict[str, bytes]:
    """The files of a saved index, by path relative to its folder."""
    index = ctxengine.Index(
        max_tokens=24, embedder=toy_embedder, dense_index="hnsw" if hnsw else "flat"
    )
    for i, text in enumerate(TEXTS):
        index.add(text, doc_id=f"doc{i}", metadata={"n": i})
    with tempfile.TemporaryDirectory() as tmp:
        index.save(Path(tmp) / "ix")
        root = Path(tmp) / "ix"
        return {
            str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }


@cache
def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="ctxengine-fuzz-index-"))


def damage(files: dict[str, bytes], data: bytes) -> tuple[str, bool]:
    """Applies the damage the input describes; returns the file and whether anything changed."""
    opt, which = data[0], data[1] if len(data) > 1 else 0
    pos = int.from_bytes(data[2:4].ljust(2, b"\0"), "little")
    payload = data[4:] or b"\0"
    name = sorted(files)[which % len(files)]
    old = files[name]
    kind = (opt >> 2) % 6
    if kind == 0:  # flip bits at positions spread by the payload
        new = bytearray(old)
        for k, x in enumerate(payload[:16]):
            if new:
                new[(pos + k * 257) % len(new)] ^= x or 1
        new_bytes = bytes(new)
    elif kind == 1:  # overwrite at pos
        p = pos % (len(old) + 1)
        new_bytes = old[:p] + payload + old[p + len(payload) :]
    elif kind == 2:  # truncate
        new_bytes = old[: pos % (len(old) + 1)]
    elif kind == 3:  # extend
        new_bytes = old + payload
    elif kind == 4:  # insert at pos
        p = pos % (len(old) + 1)
        new_bytes = old[:p] + payload + old[p:]
    else:  # delete the file
        del files[name]
        return name, True
    files[name] = new_bytes
    if name == "CURRENT":  # read as two whitespace-separated fields
        return name, new_bytes.split() != old.split()
    return name, new_bytes != old


def check(data: bytes) -> None:
    if not data:
        return
    verify, hnsw = bool(data[0] & 1), bool(data[0] & 2)
    files = dict(saved(hnsw))
    name, changed = damage(files, data)
    root = scratch() / "ix"
    shutil.rmtree(root, ignore_errors=True)
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    try:
        index = ctxengine.Index.load(root, embedder=toy_embedder, verify=verify)
    except Error:
        return
    assert not (verify and changed), f"a damaged {name} loaded with verify=True"
    for query in QUERIES:
        for mode in ("bm25", "dense", "hybrid"):
            try:
                hits = index.search(query, k=3, mode=mode)
            except Error:
                continue
            for hit in hits:
                assert math.isfinite(hit.score), (mode, hit)
                assert 0 <= hit.start <= hit.end, (mode, hit)
                assert isinstance(hit.doc_id, str) and isinstance(hit.text, str), (mode, hit)
                if not changed:  # verify=False trusts the content of what it did not read
                    assert hit.doc_id in index.doc_ids(), (mode, hit)
                    assert hit.text == index.document(hit.doc_id, hit.start, hit.end), (mode, hit)


if __name__ == "__main__":
    from atheris_main import run

    run(check)
