"""Saving an index to a folder and loading it back (the folder format is in store.py).

An index folder is data, not instructions. Loading reads the manifest's options as values to
check, names only built-in tokenizers and embedders (anything else must be passed by the
caller: a saved index never makes ctxengine load a model, read another path, import a module or
download anything), and checks every table before use: dtypes and shapes, value ranges,
cross-references between tables (document ranges, chunk rows, byte offsets on UTF-8
boundaries, BM25 keys against the live chunks), and, with `verify` (the default), every file's
sha256, every BM25 posting against its segment and every vector for NaN. The FAISS file is
checksummed always and its graph or lists checked against the vectors after FAISS reads it. A
damaged or hostile folder raises FormatError (or InvalidInputError where the caller must pass
something); arrays are memory-mapped, so processes share pages.
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
from ..tokenizers.tiktoken_files import KNOWN as KNOWN_TOKENIZERS
from . import dense, store
from .embed import MINILM, Embedder
from .records import BEND, BSTART, DOC, END, START, TOKENS, ChunkTable

__all__ = ["load_index", "save_index"]

_BUILT_IN_EMBEDDERS = (MINILM, "minilm", f"sentence-transformers/{MINILM}")


def save_index(index: Any, path: str | os.PathLike[str]) -> None:
    """Write `index` (an :class:`~ctxengine.Index`) to folder `path`, replacing an index there
    atomically."""
    records, lexical, emb = index._records, index._lexical, index._embeddings
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
    bm25, n_segments = lexical.files()
    files.update(bm25)
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
        "bm25_segments": n_segments,
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
    try:
        return _load(cls, opened, path, tokenizer, embedder, verify, gpu)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        if isinstance(exc, (FormatError, InvalidInputError, NotFoundError)):
            raise
        raise FormatError(f"the index at {path} is malformed ({exc!r}); rebuild it") from exc
    finally:
        opened.close()


def _load(
    cls: type[Any],
    opened: store.Opened,
    path: Any,
    tokenizer: Any,
    embedder: Embedder | str | None,
    verify: bool,
    gpu: bool | None,
) -> Any:
    m = opened.manifest
    o = _options(m.get("options"))
    if tokenizer is None:
        name = o["tokenizer"]
        if not isinstance(name, str):
            raise InvalidInputError(
                "this index was built with an unnamed tokenizer: pass tokenizer= to load it"
            )
        if name not in KNOWN_TOKENIZERS:
            raise NotFoundError(
                f"this index names tokenizer {name!r}, which is not built in; a saved index "
                "loads only built-in tokenizers by name: pass tokenizer= to load it"
            )
        try:
            tokenizer = resolve_tokenizer(name)
        except NotFoundError as exc:
            raise NotFoundError(
                f"this index was built with tokenizer {name!r}, which cannot be loaded here "
                f"({exc}); pass tokenizer= to load it"
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
    name = m.get("embedder")
    dim = m.get("dim")
    if name is not None and not isinstance(name, str):
        raise FormatError("the manifest's embedder is not a name")
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 1):
        raise FormatError("the manifest's vector dimension is not a positive integer")
    has_vectors = opened.has("vectors.npy")
    if embedder is not None and not has_vectors:
        raise InvalidInputError(
            f"the index at {path} was built without an embedder, so it has no vectors: "
            "rebuild it with one to search it densely"
        )
    if embedder is not None:
        emb.set_embedder(embedder)
    elif name is not None:
        if name not in _BUILT_IN_EMBEDDERS:
            raise InvalidInputError(
                f"this index was built with embedder {name!r}; a saved index loads only the "
                f"built-in {MINILM!r} by itself (anything else could download a model or import "
                "code): pass embedder= to load it"
            )
        emb.set_embedder(name)
    elif has_vectors:
        raise InvalidInputError(
            "this index was built with an unnamed embedder: pass embedder= to load it"
        )
    emb.dim = dim
    next_auto = m.get("next_auto")
    if not isinstance(next_auto, int) or isinstance(next_auto, bool) or next_auto < 0:
        raise FormatError("the manifest's next_auto is not an integer >= 0")
    records.next_auto = next_auto

    # Documents.
    raw = opened.path("docs.json").read_bytes()
    docs = json.loads(raw)
    ids, meta = docs["ids"], docs["metadata"]
    if not isinstance(ids, list) or not all(isinstance(d, str) and d for d in ids):
        raise FormatError("docs.json: document ids must be a list of non-empty strings")
    if len(set(ids)) != len(ids):
        raise FormatError("docs.json: document ids repeat")
    if not isinstance(meta, list) or not all(isinstance(x, dict) for x in meta):
        raise FormatError("docs.json: metadata must be a list of objects")
    n_docs = len(ids)
    alive = opened.array("doc_alive.npy", np.bool_, 1)
    ends = opened.array("doc_text_end.npy", np.int64, 1)
    chunk_range = opened.array("doc_chunks.npy", np.int64, 2)
    if not (len(meta) == len(alive) == len(ends) == len(chunk_range) == n_docs):
        raise FormatError("document tables of different lengths")
    text = _map_file(opened.path("text.bin"))
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64) if n_docs else ends
    if n_docs and (int(ends[-1]) != len(text) or (ends < starts).any() or int(starts[0]) != 0):
        raise FormatError("text.bin does not match the document table")
    if ((ends > starts) & ~alive).any():
        raise FormatError("removed documents still hold text")

    # Chunks.
    width = len(ChunkTable.names)
    if m["version"] >= 2:
        table = opened.array("chunks.npy", np.int64, 2)
    else:  # format 1: one file per column
        columns = [opened.array(f"chunk_{n}.npy", np.int64, 1) for n in ChunkTable.names]
        if len({len(c) for c in columns}) > 1:
            raise FormatError("chunk tables of different lengths")
        table = np.stack(columns, axis=1) if len(columns[0]) else columns[0]
        table = table.reshape(-1, width)
    if table.shape[1:] != (width,):
        raise FormatError("the chunk table has the wrong shape")
    _check_chunks(table, chunk_range, alive, starts, ends, text)

    records.ids = list(ids)
    records.meta = list(meta)
    records.alive = [bool(a) for a in alive]
    records.chunk_range = [(int(s), int(e)) for s, e in chunk_range]
    records.pos = {d: i for i, d in enumerate(records.ids) if records.alive[i]}
    records.data = [text[int(s) : int(e)] for s, e in zip(starts, ends, strict=True)]
    records.chunks.load(table)
    live = records.live_chunks()
    records.live_tokens = int(table[live, TOKENS].sum()) if live.size else 0

    # BM25.
    if m["version"] >= 3:
        n_segments = m.get("bm25_segments")
        if not isinstance(n_segments, int) or isinstance(n_segments, bool) or n_segments < 0:
            raise FormatError("the manifest's BM25 segment count is not an integer >= 0")
        index._lexical.load(opened, n_segments, verify=verify)
        keys = []
        for arrays, deleted, _ in index._lexical.mapped:
            k = np.asarray(arrays["doc_keys"])
            keep = np.ones(len(k), dtype=bool)
            keep[np.asarray(deleted, dtype=np.int64)] = False
            keys.append(k[keep])
        held = np.concatenate(keys) if keys else np.empty(0, np.int64)
        if not np.array_equal(held, live):
            raise FormatError("the BM25 index does not hold exactly the live chunks")
    else:  # formats 1 and 2 kept one BM25 index in another layout: index the text again
        index._lexical.rebuild(records)

    # Vectors and FAISS.
    if has_vectors:
        vectors = opened.array("vectors.npy", np.float32, 2)
        # An index that has embedded nothing yet (no chunks: empty, or only empty documents,
        # as a shard of a sharded index can be) knows no dimension: it saves dim None and a
        # (0, 0) array, and must load as it was saved.
        if vectors.shape != (records.chunks.size, emb.dim or 0) or (
            emb.dim is None and vectors.shape[0]
        ):
            raise FormatError("the vectors do not match the chunk table")
        if verify:
            for b in range(0, len(vectors), 1 << 16):
                if not np.isfinite(vectors[b : b + (1 << 16)]).all():
                    raise FormatError("vectors.npy holds NaN or infinite values")
        emb.parts = [vectors] if len(vectors) else []  # a (0, 0) part cannot be appended to
        emb.dirty = True
    elif opened.has("dense.faiss"):
        raise FormatError("the index has a FAISS file but no vectors")
    if opened.has("dense.faiss"):
        if not opened.sha256_ok("dense.faiss"):  # always: FAISS's reader trusts its input
            raise FormatError("dense.faiss fails its checksum: the index is corrupt; rebuild it")
        rows = opened.array("dense_chunks.npy", np.int64, 1)
        if len(rows) and (
            int(rows[0]) < 0 or int(rows[-1]) >= records.chunks.size or (np.diff(rows) <= 0).any()
        ):
            raise FormatError("dense_chunks.npy holds chunk ids out of range or order")
        emb.faiss = dense.deserialize(
            opened.path("dense.faiss"),
            kind=o["dense_index"],
            dim=int(emb.dim or 0),
            ntotal=len(rows),
            gpu=gpu,
        )
        emb.faiss_chunks = np.asarray(rows)
        emb.identity = emb.faiss_chunks.size == records.chunks.size
        emb.dirty = not np.array_equal(emb.faiss_chunks, live)
    return index


def _options(o: Any) -> dict[str, Any]:
    """The manifest's options, each of the type and range Index accepts (values the manifest
    holds are data: they are checked here, never executed or followed)."""
    if not isinstance(o, dict):
        raise FormatError("the manifest has no options")
    analyzer, bm25 = o.get("analyzer"), o.get("bm25")
    if not isinstance(analyzer, dict) or not isinstance(bm25, dict):
        raise FormatError("the manifest's analyzer or BM25 options are missing")
    if set(analyzer) - {"stop_words", "stem", "cjk", "min_chars"} or set(bm25) - {
        "k1",
        "b",
        "variant",
    }:
        raise FormatError("the manifest has unknown analyzer or BM25 options")
    for key in ("stop_words", "stem"):
        if not isinstance(analyzer.get(key), bool):
            raise FormatError(f"the manifest's analyzer option {key} is not a boolean")
    for key in ("k1", "b"):
        if not isinstance(bm25.get(key), (int, float)) or isinstance(bm25.get(key), bool):
            raise FormatError(f"the manifest's BM25 option {key} is not a number")
    tok = o.get("tokenizer")
    if tok is not None and not isinstance(tok, str):
        raise FormatError("the manifest's tokenizer is not a name")
    for key in ("max_tokens", "overlap"):
        if not isinstance(o.get(key), int) or isinstance(o.get(key), bool):
            raise FormatError(f"the manifest's {key} is not an integer")
    for key in ("by", "dense_index"):
        if not isinstance(o.get(key), str):
            raise FormatError(f"the manifest's {key} is not a name")
    # Indexes saved before min_chars existed kept one-character words.
    return {**o, "analyzer": {"min_chars": 1, **analyzer}}


def _check_chunks(
    table: np.ndarray,
    ranges: np.ndarray,
    alive: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    text: memoryview,
) -> None:
    """Every chunk row in range and consistent with its document (byte offsets inside its text
    and on UTF-8 character boundaries, str offsets no further than byte offsets)."""
    n = len(table)
    if len(ranges) and (
        int(ranges[0, 0]) != 0
        or int(ranges[-1, 1]) != n
        or (ranges[:, 1] < ranges[:, 0]).any()
        or (ranges[1:, 0] != ranges[:-1, 1]).any()
    ):
        raise FormatError(
            "chunks.npy and doc_chunks.npy: the documents' chunk ranges do not cover the chunk "
            "table in order"
        )
    if not len(ranges) and n:
        raise FormatError("chunks.npy: chunks without documents")
    if not n:
        return
    doc = table[:, DOC]
    owner = np.repeat(np.arange(len(ranges), dtype=np.int64), ranges[:, 1] - ranges[:, 0])
    if not np.array_equal(doc, owner):
        raise FormatError("chunks.npy: chunk rows name the wrong documents")
    s, e, bs, be, tok = (table[:, c] for c in (START, END, BSTART, BEND, TOKENS))
    if (s < 0).any() or (e < s).any() or (bs < 0).any() or (be < bs).any() or (tok < 0).any():
        raise FormatError("chunks.npy: chunk offsets or token counts out of range")
    if (s > bs).any() or (e - s > be - bs).any():
        raise FormatError("chunks.npy: chunk str offsets do not fit their byte offsets")
    live = alive[doc]
    size = (ends - starts)[doc]
    if (be[live] > size[live]).any():
        raise FormatError("chunks.npy: chunk byte offsets past their document's text")
    data = np.frombuffer(text, dtype=np.uint8) if len(text) else np.empty(0, np.uint8)
    for col in (bs, be):
        at = (starts[doc] + col)[live & (col < size)]
        if len(at) and ((data[at] & 0xC0) == 0x80).any():
            raise FormatError("chunks.npy: chunk byte offsets inside a UTF-8 character")


def _map_file(path: Path) -> memoryview:
    if path.stat().st_size == 0:
        return memoryview(b"")
    with path.open("rb") as f:
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
