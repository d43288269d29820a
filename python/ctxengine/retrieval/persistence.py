"""Saving an index to a folder and loading it back (the folder format is in store.py).

Arrays are memory-mapped on load, so loading is fast and processes share pages; every file is
checked against the manifest's sha256 unless the caller opts out.
"""

from __future__ import annotations

import json
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._native import core
from ..errors import FormatError, InvalidInputError, NotFoundError
from ..tokenizers import resolve_tokenizer
from . import dense, store
from .embed import Embedder
from .records import BEND, BSTART, DOC, END, START, TOKENS, ChunkTable

__all__ = ["load_index", "save_index"]


def save_index(index: Any, path: str | os.PathLike[str]) -> None:
    """Write `index` (an :class:`~ctxengine.Index`) to folder `path`, replacing an index there
    atomically."""
    records, lexical, emb = index._records, index._lexical, index._embeddings
    lexical.ensure(records)
    files: dict[str, Any] = {}
    alive = np.array(records.alive, dtype=bool)
    lengths = np.array(
        [len(b) if a else 0 for b, a in zip(records.data, records.alive, strict=True)],
        dtype=np.int64,
    )
    files["text.bin"] = [records.data[i] for i in np.flatnonzero(alive & (lengths > 0)).tolist()]
    files["doc_text_end.npy"] = np.cumsum(lengths)
    files["doc_alive.npy"] = alive
    files["doc_chunks.npy"] = np.array(records.chunk_range, dtype=np.int64).reshape(-1, 2)
    files["docs.json"] = json.dumps(
        {"ids": records.ids, "metadata": records.meta}, ensure_ascii=False
    ).encode()
    files["chunks.npy"] = records.chunks.get()
    files.update(lexical.arrays())
    if emb.embedder is not None:
        files["vectors.npy"] = emb.vectors()
        if emb.kind != "flat" and records.live_chunks().size:
            emb.ensure(records)
            files["dense.faiss"] = dense.serialize(emb.faiss)
            files["dense_chunks.npy"] = emb.faiss_chunks
    manifest = {
        "ctxengine": core.__version__,
        "options": index._options,
        "embedder": emb.name,
        "dim": emb.dim,
        "next_auto": records.next_auto,
        "counts": {"documents": len(index), "chunks": int(records.chunks.size)},
    }
    store.save_index(path, manifest, files)


def load_index(
    cls: type[Any],
    path: str | os.PathLike[str],
    *,
    tokenizer: Any,
    embedder: Embedder | str | None,
    verify: bool,
    gpu: bool | None,
) -> Any:
    """An index of class `cls` (:class:`~ctxengine.Index` or a subclass) from folder `path`
    (see :meth:`Index.load`)."""
    opened = store.open_index(path, verify=verify)
    m = opened.manifest
    try:
        o = m["options"]
        if tokenizer is None:
            if not isinstance(o["tokenizer"], str):
                raise InvalidInputError(
                    "this index was built with an unnamed tokenizer: pass tokenizer= to load it"
                )
            try:
                tokenizer = resolve_tokenizer(o["tokenizer"])
            except NotFoundError as exc:
                raise NotFoundError(
                    f"this index was built with tokenizer {o['tokenizer']!r}, which cannot be "
                    f"loaded by name here ({exc}); pass tokenizer= to load it"
                ) from exc
        index = cls(
            tokenizer=tokenizer,
            max_tokens=o["max_tokens"],
            overlap=o["overlap"],
            by=o["by"],
            dense_index=o["dense_index"],
            gpu=gpu,
            **o["analyzer"],
            **o["bm25"],
        )
        records, emb = index._records, index._embeddings
        name = m["embedder"]
        if embedder is not None and not opened.has("vectors.npy"):
            raise InvalidInputError(
                f"the index at {path} was built without an embedder, so it has no vectors: "
                "rebuild it with one to search it densely"
            )
        if embedder is not None:
            emb.set_embedder(embedder)
        elif name is not None:
            emb.set_embedder(name)
        elif opened.has("vectors.npy"):
            raise InvalidInputError(
                "this index was built with an unnamed embedder: pass embedder= to load it"
            )
        emb.dim = m["dim"]
        records.next_auto = int(m["next_auto"])
        docs = json.loads(opened.path("docs.json").read_bytes())
        records.ids = list(docs["ids"])
        records.meta = list(docs["metadata"])
        alive = opened.array("doc_alive.npy")
        ends = opened.array("doc_text_end.npy")
        chunk_range = opened.array("doc_chunks.npy")
        n_docs = len(records.ids)
        if not (len(records.meta) == len(alive) == len(ends) == len(chunk_range) == n_docs):
            raise FormatError("document tables of different lengths")
        records.alive = [bool(a) for a in alive]
        records.chunk_range = [(int(s), int(e)) for s, e in chunk_range]
        records.pos = {d: i for i, d in enumerate(records.ids) if records.alive[i]}
        text = _map_file(opened.path("text.bin"))
        if len(ends) and int(ends[-1]) != len(text):
            raise FormatError("text.bin does not match the document table")
        starts = np.concatenate([[0], ends[:-1]]) if n_docs else ends
        records.data = [text[int(s) : int(e)] for s, e in zip(starts, ends, strict=True)]
        width = len(ChunkTable.names)
        if m["version"] >= 2:
            table = opened.array("chunks.npy")
        else:  # format 1: one file per column
            columns = [opened.array(f"chunk_{n}.npy") for n in ChunkTable.names]
            if len({len(c) for c in columns}) > 1:
                raise FormatError("chunk tables of different lengths")
            table = np.stack(columns, axis=1) if len(columns[0]) else columns[0]
            table = table.reshape(-1, width)
        if table.dtype != np.int64 or table.ndim != 2 or table.shape[1] != width:
            raise FormatError("the chunk table has the wrong shape or type")
        _check_tables(ends, alive, chunk_range, table)
        if len(table):
            records.chunks.append(table)
        bm25 = {
            n[5:-4]: opened.array(n)
            for n in m["files"]
            if n.startswith("bm25_") and n != "bm25_chunks.npy"
        }
        bm25_chunks = opened.array("bm25_chunks.npy")
        _check_ids(bm25_chunks, len(table), "bm25_chunks.npy")
        if index._lexical.load(bm25, bm25_chunks) != len(bm25_chunks):
            raise FormatError("the BM25 index does not match its chunk table")
        if opened.has("vectors.npy"):
            vectors = opened.array("vectors.npy")
            # An index that has embedded nothing yet (no chunks: empty, or only empty
            # documents, as a shard of a sharded index can be) knows no dimension: it saves
            # dim None and a (0, 0) array, and must load as it was saved.
            if (
                vectors.ndim != 2
                or vectors.shape[0] != records.chunks.size
                or vectors.shape[1] != (emb.dim or 0)
                or (emb.dim is None and vectors.shape[0])
            ):
                raise FormatError("the vectors do not match the chunk table")
            emb.parts = [vectors] if len(vectors) else []  # a (0, 0) part cannot be appended to
            emb.dirty = True
        if opened.has("dense.faiss"):
            emb.faiss = dense.deserialize(opened.path("dense.faiss"), gpu=gpu)
            emb.faiss_chunks = np.asarray(opened.array("dense_chunks.npy"))
            _check_ids(emb.faiss_chunks, len(table), "dense_chunks.npy")
            if emb.faiss.index.ntotal != emb.faiss_chunks.size or emb.faiss.index.d != emb.dim:
                raise FormatError("dense.faiss does not match its chunk table")
            emb.identity = emb.faiss_chunks.size == records.chunks.size
            emb.dirty = False
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        if isinstance(exc, (FormatError, InvalidInputError, NotFoundError)):
            raise
        raise FormatError(f"the index at {path} is malformed ({exc!r}); rebuild it") from exc
    return index


def _check_tables(
    ends: np.ndarray, alive: np.ndarray, chunk_range: np.ndarray, table: np.ndarray
) -> None:
    """The document and chunk tables agree with each other and with text.bin: every offset a
    search will use lies where it must. Checksums catch damage only with verify=True; this
    catches the damage that would otherwise surface as an IndexError or garbage offsets, at
    the cost of one pass over the chunk table (not the text)."""
    n_docs, n_chunks = len(ends), len(table)
    if ends.dtype.kind not in "iu" or ends.ndim != 1 or alive.dtype != np.bool_:
        raise FormatError("the document table has the wrong type")
    lengths = np.diff(ends, prepend=0) if n_docs else ends
    if n_docs and (lengths < 0).any():
        raise FormatError("doc_text_end.npy is not in order")
    if chunk_range.shape != (n_docs, 2) or chunk_range.dtype.kind not in "iu":
        raise FormatError("doc_chunks.npy has the wrong shape")
    if n_docs and (
        (chunk_range[:, 0] < 0).any()
        or (chunk_range[:, 0] > chunk_range[:, 1]).any()
        or (chunk_range[:, 1] > n_chunks).any()
    ):
        raise FormatError("doc_chunks.npy names chunks that do not exist")
    if not n_chunks:
        return
    doc = table[:, DOC]
    if (doc < 0).any() or (doc >= n_docs).any():
        raise FormatError("chunks.npy names documents that do not exist")
    live = table[alive[doc]]  # a removed document's text is gone; its rows are never read
    doc, start, end = live[:, DOC], live[:, START], live[:, END]
    bstart, bend, tokens = live[:, BSTART], live[:, BEND], live[:, TOKENS]
    if (
        (start < 0).any()
        or (start > end).any()
        or (bstart < 0).any()
        or (bstart > bend).any()
        or (bend > lengths[doc]).any()
        or (end > bend).any()  # a str offset never exceeds its UTF-8 offset
        or (tokens < 0).any()
    ):
        raise FormatError("chunks.npy has offsets outside their documents")


def _check_ids(ids: np.ndarray, n_chunks: int, name: str) -> None:
    if (
        ids.ndim != 1
        or ids.dtype.kind not in "iu"
        or (ids.size and (int(ids.min()) < 0 or int(ids.max()) >= n_chunks))
    ):
        raise FormatError(f"{name} names chunks that do not exist")


def _map_file(path: Path) -> memoryview:
    if path.stat().st_size == 0:
        return memoryview(b"")
    with path.open("rb") as f:
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
