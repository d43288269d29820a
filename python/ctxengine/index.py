"""`ctxengine.Index`: documents in, chunks out; lexical (BM25), dense (FAISS) or hybrid search.

Documents are chunked to a token budget in the index's tokenizer; every chunk keeps its str
offsets in its document and its exact token count. BM25 runs in C++ (``csrc/index``) with
block-max WAND; dense search embeds chunks with an embedder (see :mod:`ctxengine.embed`) and
searches them with FAISS; hybrid search fuses both lists. Metadata filters are applied inside
each search, so a filtered search returns the true top k among the matching documents.

Adds and removes are cheap bookkeeping; the next search rebuilds what changed (the BM25 index
over all live chunks, since its statistics change; the FAISS index only from the new vectors
when nothing was removed). Batch your adds. An index is not safe for concurrent writes.

>>> index = Index(max_tokens=64)
>>> index.add("The quick brown fox jumps over the lazy dog.", doc_id="fox")
'fox'
>>> index.add("Pack my box with five dozen liquor jugs.", doc_id="box", metadata={"lang": "en"})
'box'
>>> [hit.doc_id for hit in index.search("lazy fox", k=5)]
['fox']
>>> index.search("liquor", filter={"lang": "en"})[0].text
'Pack my box with five dozen liquor jugs.'
"""

from __future__ import annotations

import bisect
import contextlib
import glob
import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from . import _dense, _store
from ._native import core
from ._progress import progress_bar
from ._textsplit import chunk_spans_many, resolve_tokenizer, tokenizer_name
from .bm25 import analyzer_options, bm25_params, check_k
from .embed import Embedder, embedder_name, get_embedder
from .errors import (
    FormatError,
    InvalidInputError,
    NotFoundError,
    UnsupportedError,
)
from .fusion import mmr, reciprocal_rank_fusion, weighted_fusion

__all__ = ["AddFilesResult", "Chunk", "Hit", "Index", "SkippedFilesWarning"]

Mode = Literal["bm25", "dense", "hybrid"]
Filter = Mapping[str, Any] | Callable[[Mapping[str, Any]], bool]

_ix = core.index


# Chunk and Hit are plain slotted dataclasses, not frozen ones: a search builds one per hit, and
# a frozen dataclass's __init__ costs five times as much (each field set via object.__setattr__).
@dataclass(slots=True)
class Chunk:
    """A chunk of a document: ``document(doc_id)[start:end] == text``; `tokens` is exact."""

    doc_id: str
    chunk_id: int
    text: str
    start: int
    end: int
    tokens: int
    metadata: Mapping[str, Any]


@dataclass(slots=True)
class Hit(Chunk):
    """A search result: a :class:`Chunk` and its score (higher is better; scale depends on mode)."""

    score: float


@dataclass
class AddFilesResult:
    """What :meth:`Index.add_files` did: documents added and files skipped (path, reason)."""

    added: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class SkippedFilesWarning(UserWarning):
    """Some files given to :meth:`Index.add_files` were binary or unreadable and were skipped."""


# The chunk table's columns.
_DOC, _START, _END, _BSTART, _BEND, _TOKENS = range(6)


class _Table:
    """The per-chunk table: one int64 row per chunk, growing in batches, concatenated on demand.

    Columns: the document's position, the chunk's str offsets, its UTF-8 byte offsets and its
    token count. One row per chunk means a search gathers its hits' fields in one NumPy call.
    """

    names = ("doc", "start", "end", "bstart", "bend", "tokens")

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self._cache: np.ndarray | None = None
        self.size = 0

    def append(self, rows: np.ndarray) -> None:
        self.parts.append(rows)
        self.size += len(rows)
        self._cache = None

    def get(self) -> np.ndarray:
        if self._cache is None:
            if len(self.parts) == 1:
                self._cache = self.parts[0]
            elif self.parts:
                self._cache = np.concatenate(self.parts)
            else:
                self._cache = np.empty((0, len(self.names)), dtype=np.int64)
            self.parts = [self._cache] if self.size else []
        return self._cache

    def column(self, name: str) -> np.ndarray:
        return self.get()[:, self.names.index(name)]


class Index:
    """A searchable collection of chunked documents.

    Options are keyword-only. `tokenizer` counts chunk tokens (a name such as ``"cl100k_base"``
    or a tokenizer object); `max_tokens`, `overlap` and `by` are passed to ``ctxengine.chunk``.
    `embedder` (a callable ``list[str] -> (n, dim)`` array, or a name for
    :func:`ctxengine.embed.get_embedder` such as ``"all-MiniLM-L6-v2"``) enables dense and
    hybrid search. `dense_index` picks the FAISS index: ``"flat"`` (exact inner product, the
    default), ``"hnsw"`` or ``"ivf"`` (approximate, for large indexes); `gpu` moves it to a GPU
    when GPU FAISS and a GPU are present (``None``: when available). BM25 options: `k1`, `b`,
    `variant`, and the analyzer's `stop_words`, `stem` and `cjk`.
    """

    def __init__(
        self,
        *,
        tokenizer: Any = "cl100k_base",
        max_tokens: int = 256,
        overlap: int = 0,
        by: str = "recursive",
        embedder: Embedder | str | None = None,
        dense_index: Literal["flat", "hnsw", "ivf"] = "flat",
        gpu: bool | None = None,
        k1: float = 1.5,
        b: float = 0.75,
        variant: Literal["lucene", "robertson", "atire"] = "lucene",
        stop_words: bool = False,
        stem: bool = False,
        cjk: Literal["bigrams", "unigrams"] = "bigrams",
        threads: int | None = None,
    ) -> None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise InvalidInputError(f"max_tokens must be a positive integer, got {max_tokens!r}")
        if (
            isinstance(overlap, bool)
            or not isinstance(overlap, int)
            or not 0 <= overlap < max_tokens
        ):
            raise InvalidInputError(
                f"overlap must be an integer in [0, max_tokens), got {overlap!r}"
            )
        if by not in ("recursive", "tokens", "sentences", "markdown", "code"):
            raise InvalidInputError(
                f"by must be 'recursive', 'tokens', 'sentences', 'markdown' or 'code', got {by!r}"
            )
        if dense_index not in ("flat", "hnsw", "ivf"):
            raise InvalidInputError(
                f"dense_index must be 'flat', 'hnsw' or 'ivf', got {dense_index!r}"
            )
        self._tokenizer = resolve_tokenizer(tokenizer)
        self._options: dict[str, Any] = {
            "tokenizer": tokenizer
            if isinstance(tokenizer, str)
            else tokenizer_name(self._tokenizer),
            "max_tokens": max_tokens,
            "overlap": overlap,
            "by": by,
            "analyzer": {"stop_words": bool(stop_words), "stem": bool(stem), "cjk": cjk},
            "bm25": {"k1": float(k1), "b": float(b), "variant": variant},
            "dense_index": dense_index,
        }
        self._analyzer = analyzer_options(stop_words=stop_words, stem=stem, cjk=cjk)
        self._params = bm25_params(k1=k1, b=b, variant=variant)
        self._gpu = gpu
        self._threads = threads or 0
        self._embedder: Embedder | None = None
        self._embedder_name: str | None = None
        self._dim: int | None = None
        if embedder is not None:
            self._set_embedder(embedder)
        # documents
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._bytes: list[bytes | memoryview] = []
        self._meta: list[dict[str, Any]] = []
        self._alive: list[bool] = []
        self._alive_array: np.ndarray | None = None  # _alive as an array, made on demand
        self._meta_codes: dict[Any, tuple[dict[Any, int], np.ndarray]] = {}  # see _matching
        self._chunk_range: list[tuple[int, int]] = []
        self._next_auto = 0
        # chunks
        self._chunks = _Table()
        self._vector_parts: list[np.ndarray] = []
        # search structures, rebuilt lazily
        self._bm25: Any = None
        self._bm25_chunks = np.empty(0, dtype=np.int64)
        self._bm25_dirty = False
        self._mapped: dict[str, np.ndarray] = {}
        self._faiss: Any = None
        self._faiss_chunks = np.empty(0, dtype=np.int64)
        self._faiss_identity = False  # whether _faiss_chunks is 0, 1, 2, ...
        self._faiss_dirty = False

    # ---- options ---------------------------------------------------------------------------

    @property
    def tokenizer(self) -> Any:
        """The tokenizer that counts chunk tokens (``Hit.tokens``)."""
        return self._tokenizer

    @property
    def max_tokens(self) -> int:
        """The chunk size: no chunk has more tokens than this in :attr:`tokenizer`."""
        return int(self._options["max_tokens"])

    @property
    def overlap(self) -> int:
        """Tokens shared by consecutive chunks of a document (``ctxengine.chunk``'s overlap)."""
        return int(self._options["overlap"])

    @property
    def by(self) -> str:
        """How documents are cut: ``"recursive"``, ``"tokens"``, ``"sentences"``,
        ``"markdown"`` or ``"code"`` (``ctxengine.chunk``'s `by`)."""
        return str(self._options["by"])

    @property
    def embedder(self) -> Embedder | None:
        """The embedder of dense and hybrid search (None: BM25 only)."""
        return self._embedder

    @property
    def n_chunks(self) -> int:
        """Number of chunks of live documents."""
        return sum(e - s for (s, e), a in zip(self._chunk_range, self._alive, strict=True) if a)

    def __len__(self) -> int:
        """Number of documents in the index."""
        return sum(self._alive)

    def __contains__(self, doc_id: object) -> bool:
        return isinstance(doc_id, str) and doc_id in self._pos

    def doc_ids(self) -> list[str]:
        """Ids of the documents in the index, in the order they were added."""
        return [d for d, a in zip(self._ids, self._alive, strict=True) if a]

    def _set_embedder(self, embedder: Embedder | str) -> None:
        if isinstance(embedder, str):
            self._embedder_name = embedder
            embedder = get_embedder(embedder)
        else:
            self._embedder_name = embedder_name(embedder)
        if not callable(embedder):
            raise InvalidInputError("embedder must be callable: list[str] -> (n, dim) array")
        self._embedder = embedder

    # ---- adding and removing ---------------------------------------------------------------

    def add(
        self, text: str, doc_id: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> str:
        """Add one document; returns its id (given, or ``"doc-<n>"``)."""
        return self.add_many(
            [text], None if doc_id is None else [doc_id], None if metadata is None else [metadata]
        )[0]

    def add_many(
        self,
        texts: Sequence[str],
        doc_ids: Sequence[str] | None = None,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        *,
        progress: bool = False,
    ) -> list[str]:
        """Add documents (chunked and, with an embedder, embedded in batches); returns their ids.

        Ids must be new strings; metadata must be JSON-serialisable mappings (they are saved).
        Nothing is added when any argument is invalid.
        """
        texts = list(texts)
        for t in texts:
            if not isinstance(t, str):
                raise InvalidInputError(f"documents must be str, got {type(t).__name__}")
        ids = self._new_ids(texts, doc_ids)
        metas = self._check_metadata(len(texts), metadatas)
        # Per-chunk columns as Python lists, converted once (per-document NumPy arrays cost more
        # than the work for the many small documents of a large corpus).
        cols: dict[str, list[int]] = {n: [] for n in _Table.names}
        ranges: list[tuple[int, int]] = []
        encoded: list[bytes] = []
        chunk_texts: list[str] = []
        first = self._chunks.size
        o = self._options
        all_spans: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        step = 1024  # chunked in batches (all cores where ctxengine.chunk_many exists)
        with progress_bar(total=len(texts), desc="chunking", unit="doc", wanted=progress) as bar:
            for b in range(0, len(texts), step):
                all_spans += chunk_spans_many(
                    texts[b : b + step],
                    max_tokens=o["max_tokens"],
                    overlap=o["overlap"],
                    by=o["by"],
                    tokenizer=self._tokenizer,
                )
                bar.update(min(step, len(texts) - b))
        for i, text in enumerate(texts):
            data = text.encode("utf-8", "surrogatepass")
            starts, ends, tokens = (a.tolist() for a in all_spans[i])
            keep = [
                j
                for j, (s, e) in enumerate(zip(starts, ends, strict=True))
                if not text[s:e].isspace() and s < e
            ]
            if len(keep) != len(starts):
                starts = [starts[j] for j in keep]
                ends = [ends[j] for j in keep]
                tokens = [tokens[j] for j in keep]
            if len(data) == len(text):  # ASCII: byte and str offsets agree
                bstarts, bends = starts, ends
            else:
                offs = _byte_offsets(
                    data, text, np.array(starts, np.int64), np.array(ends, np.int64)
                )
                bstarts, bends = offs[0].tolist(), offs[1].tolist()
            cols["doc"].extend([len(self._ids) + i] * len(starts))
            cols["start"].extend(starts)
            cols["end"].extend(ends)
            cols["bstart"].extend(bstarts)
            cols["bend"].extend(bends)
            cols["tokens"].extend(tokens)
            ranges.append((first, first + len(starts)))
            first += len(starts)
            encoded.append(data)
            if self._embedder is not None:
                chunk_texts.extend(text[s:e] for s, e in zip(starts, ends, strict=True))
        vectors = (
            self._embed(chunk_texts, progress=progress) if self._embedder is not None else None
        )
        # Everything was checked and computed: commit.
        for i, doc_id in enumerate(ids):
            self._pos[doc_id] = len(self._ids)
            self._ids.append(doc_id)
            self._bytes.append(encoded[i])
            self._meta.append(metas[i])
            self._alive.append(True)
            self._chunk_range.append(ranges[i])
        self._alive_array = None
        self._meta_codes.clear()
        if texts:
            self._chunks.append(np.array([cols[n] for n in _Table.names], dtype=np.int64).T.copy())
        if vectors is not None and len(vectors):
            self._vector_parts.append(vectors)
        self._bm25_dirty = True
        if self._embedder is not None:
            self._faiss_dirty = True
        return ids

    def _new_ids(self, texts: list[str], doc_ids: Sequence[str] | None) -> list[str]:
        if doc_ids is None:
            out = []
            for _ in texts:
                while f"doc-{self._next_auto}" in self._pos:
                    self._next_auto += 1
                out.append(f"doc-{self._next_auto}")
                self._next_auto += 1
            return out
        ids = list(doc_ids)
        if len(ids) != len(texts):
            raise InvalidInputError(f"got {len(texts)} documents but {len(ids)} ids")
        seen = set()
        for d in ids:
            if not isinstance(d, str) or not d:
                raise InvalidInputError(f"document ids must be non-empty str, got {d!r}")
            if d in self._pos or d in seen:
                raise InvalidInputError(
                    f"document id {d!r} is already in the index; remove it first"
                )
            seen.add(d)
        return ids

    @staticmethod
    def _check_metadata(
        n: int, metadatas: Sequence[Mapping[str, Any] | None] | None
    ) -> list[dict[str, Any]]:
        if metadatas is None:
            return [{} for _ in range(n)]
        metas = list(metadatas)
        if len(metas) != n:
            raise InvalidInputError(f"got {n} documents but {len(metas)} metadata entries")
        out: list[dict[str, Any]] = []
        for m in metas:
            if m is None:
                out.append({})
                continue
            if not isinstance(m, Mapping):
                raise InvalidInputError(f"metadata must be a mapping, got {type(m).__name__}")
            try:
                out.append(json.loads(json.dumps(dict(m))))
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(
                    f"metadata must be JSON-serialisable (it is saved): {exc}"
                ) from exc
        return out

    def _embed(self, texts: list[str], *, progress: bool = False, batch: int = 256) -> np.ndarray:
        assert self._embedder is not None
        parts = []
        for i in progress_bar(
            range(0, len(texts), batch),
            desc="embedding",
            unit="batch",
            wanted=progress and len(texts) > batch,
        ):
            parts.append(self._embed_batch(texts[i : i + batch]))
        if not parts:
            return np.empty((0, self._dim or 0), dtype=np.float32)
        return np.concatenate(parts)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        assert self._embedder is not None
        out = np.asarray(self._embedder(texts), dtype=np.float32)
        if out.ndim != 2 or out.shape[0] != len(texts):
            raise InvalidInputError(
                f"the embedder returned shape {out.shape} for {len(texts)} texts; "
                "it must return an (n, dim) array"
            )
        if self._dim is None:
            self._dim = int(out.shape[1])
        elif out.shape[1] != self._dim:
            raise InvalidInputError(
                f"dimension mismatch: the embedder returned {out.shape[1]}-d vectors but the "
                f"index holds {self._dim}-d vectors; use the embedder the index was built with"
            )
        return _unit_rows(out)

    def add_files(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        progress: bool = True,
        metadata: Mapping[str, Any] | None = None,
    ) -> AddFilesResult:
        """Add text files: paths, directories (walked recursively, hidden entries skipped) and
        globs (``"docs/**/*.md"``). Each file's id is its path; its metadata has ``path`` plus
        `metadata`. Binary (a NUL byte or not UTF-8) and unreadable files are skipped, counted
        in the result and reported in one :class:`SkippedFilesWarning`; a progress bar shows on
        stderr. A path that does not exist raises NotFoundError before anything is added.
        """
        files = _expand_paths(paths)
        dup = [f for f in files if f in self._pos]
        if dup:
            raise InvalidInputError(f"{dup[0]!r} is already in the index; remove it first")
        result = AddFilesResult()
        texts, ids, metas = [], [], []
        for f in progress_bar(files, desc="reading", unit="file", wanted=progress):
            try:
                raw = Path(f).read_bytes()
            except OSError as exc:
                result.skipped.append((f, f"unreadable: {exc.strerror or exc}"))
                continue
            if b"\x00" in raw[:65536]:
                result.skipped.append((f, "binary"))
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                result.skipped.append((f, "binary (not UTF-8)"))
                continue
            texts.append(text)
            ids.append(f)
            metas.append({**(metadata or {}), "path": f})
        result.added = self.add_many(texts, ids, metas, progress=progress)
        if result.skipped:
            shown = ", ".join(f"{p} ({why})" for p, why in result.skipped[:5])
            more = f" and {len(result.skipped) - 5} more" if len(result.skipped) > 5 else ""
            warnings.warn(
                f"skipped {len(result.skipped)} binary or unreadable file(s): {shown}{more}",
                SkippedFilesWarning,
                stacklevel=2,
            )
        return result

    def remove(self, doc_id: str) -> None:
        """Remove a document and its chunks; later searches never return them."""
        i = self._pos.pop(doc_id, None) if isinstance(doc_id, str) else None
        if i is None:
            raise NotFoundError(f"no document {doc_id!r} in the index")
        self._alive[i] = False
        self._alive_array = None
        self._bytes[i] = b""
        self._bm25_dirty = True
        self._faiss_dirty = True
        self._faiss = None  # FAISS flat/HNSW cannot drop vectors in place: rebuilt on next search

    # ---- reading ---------------------------------------------------------------------------

    def document(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        """A document's text, or ``text[start:end]`` (str offsets, as a hit's ``start`` and
        ``end``; past the end they clamp as slicing does) without decoding the rest: the
        range is found from the nearest chunk boundary, so reading a part of a large document
        costs about the part's size.

        >>> index = Index()
        >>> index.add("naïve café au lait", doc_id="menu")
        'menu'
        >>> index.document("menu", 6, 10)
        'café'
        """
        i = self._doc_index(doc_id)
        for name, value in (("start", start), ("end", end)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0
            ):
                raise InvalidInputError(f"{name} must be an integer >= 0, got {value!r}")
        data = self._bytes[i]
        if start == 0 and end is None:
            return str(data, "utf-8", "surrogatepass")
        begin = self._byte_offset(i, int(start))
        stop = len(data) if end is None else self._byte_offset(i, max(int(start), int(end)))
        return str(data[begin:stop], "utf-8", "surrogatepass")

    def _byte_offset(self, doc: int, pos: int) -> int:
        """The UTF-8 byte offset of str offset `pos` in document `doc` (clamped to its end)."""
        # Anchor: the last chunk boundary at or before `pos`, where both offsets are known.
        at, byte = 0, 0
        first, last = self._chunk_range[doc]
        if last > first:
            rows = self._chunks.get()[first:last]
            for col, bcol in ((_START, _BSTART), (_END, _BEND)):
                # bisect, not np.searchsorted: that copies a strided column, O(chunks) a call.
                j = bisect.bisect_right(rows[:, col], pos) - 1
                if j >= 0 and at < int(rows[j, col]) <= pos:
                    at, byte = int(rows[j, col]), int(rows[j, bcol])
        # Then count code points: every byte that is not a continuation byte (10xxxxxx) starts
        # one, and one takes at most 4 bytes (surrogatepass's lone surrogates take 3).
        data = self._bytes[doc]
        want = pos - at
        span = np.frombuffer(data, np.uint8, count=min(4 * want, len(data) - byte), offset=byte)
        starts = np.flatnonzero((span & 0xC0) != 0x80)
        return byte + int(starts[want]) if want < len(starts) else byte + len(span)

    def metadata(self, doc_id: str) -> Mapping[str, Any]:
        return self._meta[self._doc_index(doc_id)]

    def _doc_index(self, doc_id: str) -> int:
        i = self._pos.get(doc_id) if isinstance(doc_id, str) else None
        if i is None:
            raise NotFoundError(f"no document {doc_id!r} in the index")
        return i

    def _chunk_doc(self, chunk_id: int) -> int:
        if (
            isinstance(chunk_id, bool)
            or not isinstance(chunk_id, (int, np.integer))
            or not 0 <= chunk_id < self._chunks.size
        ):
            raise NotFoundError(f"no chunk {chunk_id!r} in the index")
        doc = int(self._chunks.get()[chunk_id, _DOC])
        if not self._alive[doc]:
            raise NotFoundError(f"chunk {chunk_id} belonged to a removed document")
        return doc

    def chunk(self, chunk_id: int) -> Chunk:
        """A chunk by id, with its text, offsets, exact token count and document metadata."""
        self._chunk_doc(chunk_id)
        return self._records(np.array([chunk_id], dtype=np.int64))[0]

    def chunks(self, chunk_ids: Iterable[int] | np.ndarray) -> list[Chunk]:
        """Many chunks by id at once, in the order given (repeats allowed): the same objects as
        :meth:`chunk`, gathered in one pass. An unknown or removed chunk raises NotFoundError.

        >>> index = Index(max_tokens=4)
        >>> index.add("one two three four five six seven", doc_id="d")
        'd'
        >>> [c.text for c in index.chunks([1, 0])]
        ['five six seven', 'one two three four']
        """
        ids = np.asarray(
            chunk_ids if isinstance(chunk_ids, np.ndarray) else list(chunk_ids)
        ).reshape(-1)
        if ids.size == 0:
            return []
        if ids.dtype.kind not in "iu":
            raise InvalidInputError(f"chunk ids must be integers, got {ids.dtype} values")
        ids = ids.astype(np.int64, copy=False)
        bad = (ids < 0) | (ids >= self._chunks.size)
        if bad.any():
            raise NotFoundError(f"no chunk {int(ids[bad][0])} in the index")
        gone = ~self._alive_mask()[self._chunks.get()[ids, _DOC]]
        if gone.any():
            raise NotFoundError(f"chunk {int(ids[gone][0])} belonged to a removed document")
        return self._records(ids)

    def neighbors(self, chunk_id: int, *, before: int = 1, after: int = 1) -> list[int]:
        """Chunk ids of the same document around `chunk_id` (itself included), in order."""
        if before < 0 or after < 0:
            raise InvalidInputError("before and after must be >= 0")
        doc = self._chunk_doc(chunk_id)
        first, end = self._chunk_range[doc]
        return list(range(max(first, chunk_id - before), min(end, chunk_id + after + 1)))

    def _records(self, ids: np.ndarray, scores: list[float] | None = None) -> list[Any]:
        """Chunks `ids` (live; an int64 array) as Chunk objects, or as Hits with `scores`.

        One gather of the chunk table, then one comprehension: this runs on every search.
        """
        rows = zip(ids.tolist(), self._chunks.get()[ids].tolist(), strict=True)
        names, data, meta = self._ids, self._bytes, self._meta
        if scores is None:
            return [
                Chunk(names[d], i, str(data[d][bs:be], "utf-8", "surrogatepass"), s, e, t, meta[d])
                for i, (d, s, e, bs, be, t) in rows
            ]
        return [
            Hit(names[d], i, str(data[d][bs:be], "utf-8", "surrogatepass"), s, e, t, meta[d], score)
            for (i, (d, s, e, bs, be, t)), score in zip(rows, scores, strict=True)
        ]

    # ---- search ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        mode: Mode = "bm25",
        filter: Filter | None = None,
        fusion: Literal["weighted", "rrf"] = "weighted",
        weights: tuple[float, float] = (1.0, 1.0),
        mmr_lambda: float | None = None,
        candidates: int | None = None,
    ) -> list[Hit]:
        """The `k` best chunks for `query`, best first.

        `mode`: ``"bm25"`` (lexical; only chunks sharing a term with the query are returned, so
        a query of only stop words or unknown words returns ``[]``), ``"dense"`` (cosine
        similarity of embeddings; needs an embedder) or ``"hybrid"`` (both lists, each
        `candidates` long (default ``max(4k, 50)``), fused by min-max normalised scores
        (``"weighted"``, the default; a chunk missing from a list gets 0 from it) or by
        reciprocal rank (``"rrf"``, k = 60), with `weights` for (bm25, dense); see
        :mod:`ctxengine.fusion`). `filter` keeps documents whose metadata matches: a mapping
        of key -> value (or a list/tuple/set of accepted values), or a callable on the
        metadata; it is applied inside the search. `mmr_lambda` re-ranks the candidates by
        maximal marginal relevance (needs an embedder; 1.0 = pure relevance). An empty or
        whitespace-only query raises InvalidInputError.
        """
        if not isinstance(query, str):
            raise InvalidInputError(f"query must be str, got {type(query).__name__}")
        if not query.strip():
            raise InvalidInputError("the query is empty; pass some words to search for")
        k = check_k(k)
        if mode not in ("bm25", "dense", "hybrid"):
            raise InvalidInputError(f"mode must be 'bm25', 'dense' or 'hybrid', got {mode!r}")
        if fusion not in ("rrf", "weighted"):
            raise InvalidInputError(f"fusion must be 'rrf' or 'weighted', got {fusion!r}")
        if (mode != "bm25" or mmr_lambda is not None) and self._embedder is None:
            raise UnsupportedError(
                f"{'mmr' if mode == 'bm25' else mode + ' search'} needs an embedder: "
                "Index(embedder='all-MiniLM-L6-v2') or `ctxengine index --embed MODEL`"
            )
        doc_mask = self._doc_mask(filter)
        fetch = k if mode != "hybrid" and mmr_lambda is None else max(candidates or 0, 4 * k, 50)
        if mode == "bm25":
            ids, scores = self._search_bm25(query, fetch, doc_mask)
        elif mode == "dense":
            ids, scores = self._search_dense(query, fetch, doc_mask)
        else:
            lexical = self._search_bm25(query, fetch, doc_mask)
            dense = self._search_dense(query, fetch, doc_mask)
            if fusion == "rrf":
                ids, scores = reciprocal_rank_fusion([lexical[0], dense[0]], weights=weights)
            else:
                ids, scores = weighted_fusion([lexical, dense], weights)
        if mmr_lambda is not None and len(ids):
            ids, scores = mmr(ids, scores, self._vectors()[ids], k, lambda_=mmr_lambda)
        if len(ids) > k:
            ids, scores = ids[:k], scores[:k]
        return self._hits(ids, scores)

    def _hits(self, ids: np.ndarray, scores: np.ndarray) -> list[Hit]:
        return self._records(ids, scores.tolist())

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        mode: Mode = "bm25",
        filter: Filter | None = None,
        threads: int | None = None,
        **options: Any,
    ) -> list[list[Hit]]:
        """:meth:`search` for many queries: BM25 queries run in parallel in C++ on all cores
        (`threads`; the results do not depend on it); other modes run one by one. Each list
        equals what :meth:`search` returns for that query.

        >>> index = Index()
        >>> _ = index.add_many(["red apples", "green pears"], ["a", "b"])
        >>> [[h.doc_id for h in hits] for hits in index.search_many(["apples", "pears"])]
        [['a'], ['b']]
        """
        queries = list(queries)
        for q in queries:
            if not isinstance(q, str) or not q.strip():
                raise InvalidInputError(f"every query must be a non-empty str, got {q!r}")
        k = check_k(k)
        if mode != "bm25" or options.get("mmr_lambda") is not None:
            return [self.search(q, k, mode=mode, filter=filter, **options) for q in queries]
        if options:
            raise InvalidInputError(f"unknown options for BM25 search: {sorted(options)}")
        self._ensure_bm25()
        doc_mask = self._doc_mask(filter)
        live = None
        if doc_mask is not None:
            live = doc_mask[self._chunks.column("doc")[self._bm25_chunks]].astype(np.uint8)
        scores, rows, counts = self._bm25.search_many(
            [q.encode("utf-8", "surrogatepass") for q in queries], k, live, threads or 0
        )
        return [
            self._hits(self._bm25_chunks[rows[i, :n]], scores[i, :n].astype(np.float64))
            for i, n in enumerate(counts.tolist())
        ]

    def _doc_mask(self, filter: Filter | None) -> np.ndarray | None:
        """The documents a filter keeps (live ones only), as a bool mask over positions."""
        if filter is None:
            return None
        if callable(filter):  # any Python: called on every live document's metadata
            return np.fromiter(
                (a and bool(filter(m)) for a, m in zip(self._alive, self._meta, strict=True)),
                dtype=bool,
                count=len(self._alive),
            )
        if not isinstance(filter, Mapping):
            raise InvalidInputError("filter must be a mapping of metadata values or a callable")
        mask = self._alive_mask().copy()
        for key, value in filter.items():
            accepted = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
            mask &= self._matching(key, list(accepted))
        return mask

    def _matching(self, key: Any, accepted: list[Any]) -> np.ndarray:
        """Documents whose ``metadata[key]`` equals one of `accepted` (Python ``==``).

        Each key used in a filter gets a column of value codes, made in one pass over the
        metadata and kept until documents are added, so a search compares codes in NumPy
        instead of calling Python per document. Unhashable values (lists, dicts) are compared
        one by one.
        """
        column = self._meta_codes.get(key)
        if column is None:
            codes: dict[Any, int] = {}
            values = np.full(len(self._meta), -1, dtype=np.int32)
            for i, meta in enumerate(self._meta):
                got = meta.get(key, _MISSING)
                if got is not _MISSING:
                    with contextlib.suppress(TypeError):  # unhashable: never equals a hashable
                        values[i] = codes.setdefault(got, len(codes))
            column = self._meta_codes[key] = (codes, values)
        codes, values = column
        wanted, loose = [], []
        for v in accepted:
            try:
                if v in codes:
                    wanted.append(codes[v])
            except TypeError:
                loose.append(v)
        mask = np.isin(values, wanted) if wanted else np.zeros(len(values), dtype=bool)
        for v in loose:
            mask |= np.fromiter(
                (m.get(key, _MISSING) == v for m in self._meta), dtype=bool, count=len(self._meta)
            )
        return mask

    def _alive_mask(self) -> np.ndarray:
        if self._alive_array is None:
            self._alive_array = np.fromiter(self._alive, dtype=bool, count=len(self._alive))
        return self._alive_array

    def _live_chunks(self) -> np.ndarray:
        """Ids of the chunks of live documents, ascending (a document's chunks are contiguous)."""
        if self._chunks.size == 0:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self._alive_mask()[self._chunks.column("doc")]).astype(np.int64)

    def _ensure_bm25(self) -> None:
        if self._bm25 is not None and not self._bm25_dirty:
            return
        live = self._live_chunks()
        rows = self._chunks.get()[live]
        docs = rows[:, _DOC]
        # One buffer holding every live document that has chunks; chunk ranges index into it.
        base = {}
        pieces: list[bytes | memoryview] = []
        offset = 0
        for d in dict.fromkeys(docs.tolist()):
            base[d] = offset
            pieces.append(self._bytes[d])
            offset += len(self._bytes[d])
        shift = np.array([base[d] for d in docs.tolist()], dtype=np.int64)
        starts = np.ascontiguousarray(rows[:, _BSTART] + shift)
        ends = np.ascontiguousarray(rows[:, _BEND] + shift)
        self._bm25 = _ix.Bm25Index.build(
            b"".join(pieces), starts, ends, self._analyzer, self._params, self._threads
        )
        self._bm25_chunks = live
        self._bm25_dirty = False

    def _search_bm25(
        self, query: str, k: int, doc_mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        self._ensure_bm25()
        live = None
        if doc_mask is not None:
            live = doc_mask[self._chunks.column("doc")[self._bm25_chunks]].astype(np.uint8)
        scores, rows = self._bm25.search(query.encode("utf-8", "surrogatepass"), k, live)
        return self._bm25_chunks[rows], scores.astype(np.float64)

    def _vectors(self) -> np.ndarray:
        if len(self._vector_parts) > 1:
            self._vector_parts = [np.concatenate(self._vector_parts)]
        if not self._vector_parts:
            return np.empty((0, self._dim or 0), dtype=np.float32)
        return self._vector_parts[0]

    def _ensure_faiss(self) -> None:
        if self._faiss is not None and not self._faiss_dirty:
            return
        vectors = self._vectors()
        live = self._live_chunks()
        if (
            self._faiss is not None
            and live.size >= self._faiss_chunks.size
            and np.array_equal(live[: self._faiss_chunks.size], self._faiss_chunks)
        ):
            new = live[self._faiss_chunks.size :]  # only adds since the last build
            _dense.add(self._faiss, vectors[new])
        else:
            self._faiss = _dense.build(
                vectors[live], self._options["dense_index"], self._dim or 0, gpu=self._gpu
            )
        self._faiss_chunks = live
        self._faiss_identity = live.size == self._chunks.size
        self._faiss_dirty = False

    def _search_dense(
        self, query: str, k: int, doc_mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        self._ensure_faiss()
        if self._faiss_chunks.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        q = self._embed_batch([query])
        allowed = None
        if doc_mask is not None:
            allowed = doc_mask[self._chunks.column("doc")[self._faiss_chunks]]
        n_allowed = -1 if allowed is None else int(np.count_nonzero(allowed))
        if allowed is not None and n_allowed <= _EXACT_FILTERED and self._faiss.kind != "flat":
            return self._exact_subset(q[0], k, allowed)
        scores, rows = _dense.search(self._faiss, q, k, allowed)
        # FAISS pads with -1 after the last row it found (fewer than k).
        if rows.size == 0 or rows[-1] < 0:
            keep = rows >= 0
            if allowed is not None and int(np.count_nonzero(keep)) < min(k, n_allowed):
                # The filter starved the approximate search (FAISS's filtered graph or list
                # search found fewer than k): search the allowed vectors exactly instead.
                return self._exact_subset(q[0], k, allowed)
            rows, scores = rows[keep], scores[keep]
        # Rows are chunk ids while no document was removed since the FAISS index was built.
        return (rows if self._faiss_identity else self._faiss_chunks[rows]), scores

    def _exact_subset(
        self, query: np.ndarray, k: int, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        from .scoring import inner_product_topk

        subset = np.flatnonzero(allowed)
        if subset.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        vectors = np.ascontiguousarray(self._vectors()[self._faiss_chunks[subset]])
        s, r = inner_product_topk(query, vectors, min(k, subset.size))
        return self._faiss_chunks[subset[r]], s.astype(np.float64)

    # ---- persistence -----------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to directory `path` (created if needed), replacing an index there atomically:
        a crash mid-save leaves the previous index loadable."""
        self._ensure_bm25()
        files: dict[str, Any] = {}
        alive = np.array(self._alive, dtype=bool)
        lengths = np.array(
            [len(b) if a else 0 for b, a in zip(self._bytes, self._alive, strict=True)],
            dtype=np.int64,
        )
        files["text.bin"] = [self._bytes[i] for i in np.flatnonzero(alive & (lengths > 0)).tolist()]
        files["doc_text_end.npy"] = np.cumsum(lengths)
        files["doc_alive.npy"] = alive
        files["doc_chunks.npy"] = np.array(self._chunk_range, dtype=np.int64).reshape(-1, 2)
        files["docs.json"] = json.dumps(
            {"ids": self._ids, "metadata": self._meta}, ensure_ascii=False
        ).encode()
        files["chunks.npy"] = self._chunks.get()
        for name, array in self._bm25.arrays().items():
            files[f"bm25_{name}.npy"] = array
        files["bm25_chunks.npy"] = self._bm25_chunks
        if self._embedder is not None:
            files["vectors.npy"] = self._vectors()
            if self._options["dense_index"] != "flat" and self._live_chunks().size:
                self._ensure_faiss()
                files["dense.faiss"] = _dense.serialize(self._faiss)
                files["dense_chunks.npy"] = self._faiss_chunks
        manifest = {
            "ctxengine": core.__version__,
            "options": self._options,
            "embedder": self._embedder_name,
            "dim": self._dim,
            "next_auto": self._next_auto,
            "counts": {"documents": len(self), "chunks": int(self._chunks.size)},
        }
        _store.save_index(path, manifest, files)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        tokenizer: Any = None,
        embedder: Embedder | str | None = None,
        verify: bool = True,
        gpu: bool | None = None,
    ) -> Index:
        """Load an index saved with :meth:`save`. Arrays are memory-mapped, so loading is fast
        and processes share pages. `verify` checks every file's sha256 (set False to skip
        reading everything once). `tokenizer` and `embedder` are needed only when the index
        was built with unnamed objects. Corrupt, truncated, tampered or newer-format indexes
        raise FormatError."""
        opened = _store.open_index(path, verify=verify)
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
            self = cls(
                tokenizer=tokenizer,
                max_tokens=o["max_tokens"],
                overlap=o["overlap"],
                by=o["by"],
                dense_index=o["dense_index"],
                gpu=gpu,
                **o["analyzer"],
                **o["bm25"],
            )
            name = m["embedder"]
            if embedder is not None and not opened.has("vectors.npy"):
                raise InvalidInputError(
                    f"the index at {path} was built without an embedder, so it has no vectors: "
                    "rebuild it with one to search it densely"
                )
            if embedder is not None:
                self._set_embedder(embedder)
            elif name is not None:
                self._set_embedder(name)
            elif opened.has("vectors.npy"):
                raise InvalidInputError(
                    "this index was built with an unnamed embedder: pass embedder= to load it"
                )
            self._dim = m["dim"]
            self._next_auto = int(m["next_auto"])
            docs = json.loads(opened.path("docs.json").read_bytes())
            self._ids = list(docs["ids"])
            self._meta = list(docs["metadata"])
            alive = opened.array("doc_alive.npy")
            ends = opened.array("doc_text_end.npy")
            chunk_range = opened.array("doc_chunks.npy")
            n_docs = len(self._ids)
            if not (len(self._meta) == len(alive) == len(ends) == len(chunk_range) == n_docs):
                raise FormatError("document tables of different lengths")
            self._alive = [bool(a) for a in alive]
            self._chunk_range = [(int(s), int(e)) for s, e in chunk_range]
            self._pos = {d: i for i, d in enumerate(self._ids) if self._alive[i]}
            text = _map_file(opened.path("text.bin"))
            if len(ends) and int(ends[-1]) != len(text):
                raise FormatError("text.bin does not match the document table")
            starts = np.concatenate([[0], ends[:-1]]) if n_docs else ends
            self._bytes = [text[int(s) : int(e)] for s, e in zip(starts, ends, strict=True)]
            if m["version"] >= 2:
                table = opened.array("chunks.npy")
            else:  # format 1: one file per column
                columns = [opened.array(f"chunk_{n}.npy") for n in _Table.names]
                if len({len(c) for c in columns}) > 1:
                    raise FormatError("chunk tables of different lengths")
                table = np.stack(columns, axis=1) if len(columns[0]) else columns[0]
                table = table.reshape(-1, len(_Table.names))
            if table.dtype != np.int64 or table.ndim != 2 or table.shape[1] != len(_Table.names):
                raise FormatError("the chunk table has the wrong shape or type")
            if len(table):
                self._chunks.append(table)
            bm25 = {
                n[5:-4]: opened.array(n)
                for n in m["files"]
                if n.startswith("bm25_") and n != "bm25_chunks.npy"
            }
            self._mapped = bm25  # memory-mapped: pages are shared and read on demand
            self._bm25 = _ix.Bm25Index.from_arrays(bm25, self._analyzer, self._params)
            self._bm25_chunks = np.asarray(opened.array("bm25_chunks.npy"))
            if self._bm25.n_docs != self._bm25_chunks.size:
                raise FormatError("the BM25 index does not match its chunk table")
            if opened.has("vectors.npy"):
                vectors = opened.array("vectors.npy")
                if (
                    vectors.ndim != 2
                    or vectors.shape[0] != self._chunks.size
                    or vectors.shape[1] != self._dim
                ):
                    raise FormatError("the vectors do not match the chunk table")
                self._vector_parts = [vectors]
                self._faiss_dirty = True
            if opened.has("dense.faiss"):
                self._faiss = _dense.deserialize(opened.path("dense.faiss"), gpu=gpu)
                self._faiss_chunks = np.asarray(opened.array("dense_chunks.npy"))
                self._faiss_identity = self._faiss_chunks.size == self._chunks.size
                self._faiss_dirty = False
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, (FormatError, InvalidInputError, NotFoundError)):
                raise
            raise FormatError(f"the index at {path} is malformed ({exc!r}); rebuild it") from exc
        return self


_MISSING = object()
# With an approximate dense index, a filter that keeps at most this many chunks is searched
# exactly over those chunks' vectors (cheap, and FAISS's filtered HNSW/IVF search can miss them).
_EXACT_FILTERED = 4096


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    """`vectors` (float32, 2-D) scaled to unit length, as a new array; zero rows stay
    zero. NaN or infinite values raise InvalidInputError.

    The squared norms are summed first: a NaN or inf among them means a NaN or inf value, or
    squares that overflow float32 (then the values are checked, and the norms taken in float64).
    One row (a query, on every dense search) takes a scalar path: a handful of NumPy calls.
    """
    if len(vectors) == 1:
        square = float(np.vdot(vectors, vectors))
        if math.isfinite(square):
            return vectors * (1.0 / (math.sqrt(square) or 1.0))  # stays float32
    else:
        squares = (vectors * vectors).sum(axis=1)
        if math.isfinite(squares.sum()):
            norms = np.sqrt(squares)
            return vectors / np.where(norms > 0, norms, np.float32(1))[:, None]
    if not np.isfinite(vectors).all():
        raise InvalidInputError("the embedder returned NaN or infinite values")
    wide = vectors.astype(np.float64)
    norms = np.sqrt((wide * wide).sum(axis=1))
    return (wide / np.where(norms > 0, norms, 1)[:, None]).astype(np.float32)


def _map_file(path: Path) -> memoryview:
    import mmap

    if path.stat().st_size == 0:
        return memoryview(b"")
    with path.open("rb") as f:
        return memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))


def _byte_offsets(
    data: bytes, text: str, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if len(data) == len(text):  # ASCII: str and byte offsets agree
        return starts.astype(np.int64), ends.astype(np.int64)
    both = np.ascontiguousarray(np.concatenate([starts, ends]), dtype=np.int64)
    offsets = core.text.byte_offsets(data, both)
    return offsets[: len(starts)], offsets[len(starts) :]


def _expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: list[str] = []
    for p in paths:
        s = os.fspath(p)
        if os.path.isdir(s):
            for dirpath, dirnames, filenames in os.walk(s):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                out.extend(
                    os.path.join(dirpath, f) for f in sorted(filenames) if not f.startswith(".")
                )
        elif os.path.exists(s):
            out.append(s)
        elif glob.has_magic(s):
            matches = sorted(m for m in glob.glob(s, recursive=True) if os.path.isfile(m))
            if not matches:
                raise NotFoundError(f"no files match {s!r}")
            out.extend(matches)
        else:
            raise NotFoundError(f"no such file or directory: {s!r}")
    return list(dict.fromkeys(Path(f).as_posix() for f in out))
