"""The documents and chunks of an index: ids, text, metadata and the per-chunk table.

A document is a position in parallel lists (id, UTF-8 bytes, metadata, alive flag, chunk range);
removal only clears the alive flag and the bytes, so positions and chunk ids never move. Each
chunk is one int64 row of :class:`ChunkTable`; a search gathers its hits' fields in one NumPy
call (:meth:`Records.records`).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..chunking import Chunk
from ..errors import FormatError, InvalidInputError, NotFoundError

__all__ = ["ChunkTable", "Hit", "Records"]


@dataclass(slots=True)
class Hit(Chunk):
    """A search result: a :class:`~ctxengine.Chunk` and its score (higher is better; its scale
    depends on the search mode)."""

    score: float = field(default=0.0, kw_only=True)


# The chunk table's columns.
DOC, START, END, BSTART, BEND, TOKENS = range(6)


class ChunkTable:
    """The per-chunk table: one int64 row per chunk, in an array that grows by doubling (so
    adding one document to a million chunks copies nothing), or a loaded (memory-mapped) table
    until the first append copies it once.

    Columns: the document's position, the chunk's str offsets, its UTF-8 byte offsets and its
    token count. One row per chunk means a search gathers its hits' fields in one NumPy call.
    """

    names = ("doc", "start", "end", "bstart", "bend", "tokens")

    def __init__(self) -> None:
        self._buf = np.empty((0, len(self.names)), dtype=np.int64)
        self.size = 0

    def load(self, table: np.ndarray) -> None:
        """Use `table` (checked, possibly memory-mapped and read-only) as the whole table."""
        self._buf = table
        self.size = len(table)

    def append(self, rows: np.ndarray) -> None:
        need = self.size + len(rows)
        if need > len(self._buf) or not self._buf.flags.writeable:
            grown = np.empty((max(need, 2 * len(self._buf), 1024), len(self.names)), np.int64)
            grown[: self.size] = self._buf[: self.size]
            self._buf = grown
        self._buf[self.size : need] = rows
        self.size = need

    def get(self) -> np.ndarray:
        return self._buf[: self.size]

    def column(self, name: str) -> np.ndarray:
        return self.get()[:, self.names.index(name)]


class Records:
    """Documents (by position) and their chunks (by chunk id)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}  # live documents only
        self.data: list[bytes | memoryview] = []  # UTF-8 (surrogatepass); b"" once removed
        self.meta: list[dict[str, Any]] = []
        self.alive: list[bool] = []
        self.chunk_range: list[tuple[int, int]] = []
        self.next_auto = 0
        self.chunks = ChunkTable()
        self.live_tokens = 0  # tokens of the chunks of live documents
        self._alive_array: np.ndarray | None = None  # `alive` as an array, made on demand
        # Filter columns (see filters.py), valid until documents are added or removed.
        self.meta_codes: dict[Any, tuple[dict[Any, int], np.ndarray]] = {}

    # ---- sizes -----------------------------------------------------------------------------

    def n_live(self) -> int:
        return len(self.pos)

    def n_live_chunks(self) -> int:
        return sum(e - s for (s, e), a in zip(self.chunk_range, self.alive, strict=True) if a)

    def live_ids(self) -> list[str]:
        return [d for d, a in zip(self.ids, self.alive, strict=True) if a]

    def alive_mask(self) -> np.ndarray:
        if self._alive_array is None:
            self._alive_array = np.fromiter(self.alive, dtype=bool, count=len(self.alive))
        return self._alive_array

    def live_chunks(self) -> np.ndarray:
        """Ids of the chunks of live documents, ascending (a document's chunks are contiguous)."""
        if self.chunks.size == 0:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self.alive_mask()[self.chunks.column("doc")]).astype(np.int64)

    # ---- changes ---------------------------------------------------------------------------

    def new_ids(self, n: int, doc_ids: Sequence[str] | None) -> list[str]:
        """Ids for `n` new documents: `doc_ids` checked (new, unique, non-empty str), or
        generated ``"doc-<n>"``."""
        if doc_ids is None:
            out = []
            for _ in range(n):
                while f"doc-{self.next_auto}" in self.pos:
                    self.next_auto += 1
                out.append(f"doc-{self.next_auto}")
                self.next_auto += 1
            return out
        ids = check_ids(n, doc_ids)
        for d in ids:
            if d in self.pos:
                raise InvalidInputError(
                    f"document id {d!r} is already in the index; remove it first"
                )
        return ids

    @staticmethod
    def check_metadata(
        n: int, metadatas: Sequence[Mapping[str, Any] | None] | None
    ) -> list[dict[str, Any]]:
        """`metadatas` as `n` JSON-round-tripped dicts (they are saved), or empty ones."""
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

    def commit(
        self,
        ids: list[str],
        data: list[bytes],
        metas: list[dict[str, Any]],
        ranges: list[tuple[int, int]],
        rows: np.ndarray | None,
    ) -> None:
        """Append checked documents and their chunk rows (nothing can fail from here on)."""
        for i, doc_id in enumerate(ids):
            self.pos[doc_id] = len(self.ids)
            self.ids.append(doc_id)
            self.data.append(data[i])
            self.meta.append(metas[i])
            self.alive.append(True)
            self.chunk_range.append(ranges[i])
        if self._alive_array is not None:  # extended, not rebuilt: one document per add is cheap
            self._alive_array = np.concatenate([self._alive_array, np.ones(len(ids), bool)])
        self.meta_codes.clear()
        if rows is not None and len(rows):
            self.chunks.append(rows)
            self.live_tokens += int(rows[:, TOKENS].sum())

    def remove(self, doc_id: str) -> int:
        """Mark a document removed; returns its position."""
        i = self.pos.pop(doc_id, None) if isinstance(doc_id, str) else None
        if i is None:
            raise NotFoundError(f"no document {doc_id!r} in the index")
        self.alive[i] = False
        if self._alive_array is not None:
            self._alive_array[i] = False
        first, end = self.chunk_range[i]
        if end > first:
            self.live_tokens -= int(self.chunks.get()[first:end, TOKENS].sum())
        self.data[i] = b""
        return i

    # ---- reading ---------------------------------------------------------------------------

    def doc_index(self, doc_id: str) -> int:
        i = self.pos.get(doc_id) if isinstance(doc_id, str) else None
        if i is None:
            raise NotFoundError(f"no document {doc_id!r} in the index")
        return i

    def document(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        i = self.doc_index(doc_id)
        for name, value in (("start", start), ("end", end)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0
            ):
                raise InvalidInputError(f"{name} must be an integer >= 0, got {value!r}")
        data = self.data[i]
        try:
            if start == 0 and end is None:
                return str(data, "utf-8", "surrogatepass")
            begin = self._byte_offset(i, int(start))
            stop = len(data) if end is None else self._byte_offset(i, max(int(start), int(end)))
            return str(data[begin:stop], "utf-8", "surrogatepass")
        except UnicodeDecodeError as exc:
            raise _damaged_text(exc) from exc

    def _byte_offset(self, doc: int, pos: int) -> int:
        """The UTF-8 byte offset of str offset `pos` in document `doc` (clamped to its end)."""
        # Anchor: the last chunk boundary at or before `pos`, where both offsets are known.
        at, byte = 0, 0
        first, last = self.chunk_range[doc]
        if last > first:
            rows = self.chunks.get()[first:last]
            for col, bcol in ((START, BSTART), (END, BEND)):
                # bisect, not np.searchsorted: that copies a strided column, O(chunks) a call.
                j = bisect.bisect_right(rows[:, col], pos) - 1
                if j >= 0 and at < int(rows[j, col]) <= pos:
                    at, byte = int(rows[j, col]), int(rows[j, bcol])
        # Then count code points: every byte that is not a continuation byte (10xxxxxx) starts
        # one, and one takes at most 4 bytes (surrogatepass's lone surrogates take 3).
        data = self.data[doc]
        want = pos - at
        span = np.frombuffer(data, np.uint8, count=min(4 * want, len(data) - byte), offset=byte)
        starts = np.flatnonzero((span & 0xC0) != 0x80)
        return byte + int(starts[want]) if want < len(starts) else byte + len(span)

    def chunk_doc(self, chunk_id: int) -> int:
        """The position of the (live) document that chunk `chunk_id` belongs to."""
        if (
            isinstance(chunk_id, bool)
            or not isinstance(chunk_id, (int, np.integer))
            or not 0 <= chunk_id < self.chunks.size
        ):
            raise NotFoundError(f"no chunk {chunk_id!r} in the index")
        doc = int(self.chunks.get()[chunk_id, DOC])
        if not self.alive[doc]:
            raise NotFoundError(f"chunk {chunk_id} belonged to a removed document")
        return doc

    def check_chunk_ids(self, chunk_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """`chunk_ids` as an int64 array of chunks of live documents, or a clear error."""
        ids = np.asarray(
            chunk_ids if isinstance(chunk_ids, np.ndarray) else list(chunk_ids)
        ).reshape(-1)
        if ids.size == 0:
            return ids.astype(np.int64)
        if ids.dtype.kind not in "iu":
            raise InvalidInputError(f"chunk ids must be integers, got {ids.dtype} values")
        ids = ids.astype(np.int64, copy=False)
        bad = (ids < 0) | (ids >= self.chunks.size)
        if bad.any():
            raise NotFoundError(f"no chunk {int(ids[bad][0])} in the index")
        gone = ~self.alive_mask()[self.chunks.get()[ids, DOC]]
        if gone.any():
            raise NotFoundError(f"chunk {int(ids[gone][0])} belonged to a removed document")
        return ids

    def records(self, ids: np.ndarray, scores: list[float] | None = None) -> list[Any]:
        """Chunks `ids` (live; an int64 array) as :class:`Chunk` objects, or as :class:`Hit`
        objects with `scores`. One gather of the chunk table, then one comprehension: this
        runs on every search."""
        rows = zip(ids.tolist(), self.chunks.get()[ids].tolist(), strict=True)
        names, data, meta = self.ids, self.data, self.meta
        try:
            if scores is None:
                return [
                    Chunk(
                        str(data[d][bs:be], "utf-8", "surrogatepass"), s, e, t, names[d], i, meta[d]
                    )
                    for i, (d, s, e, bs, be, t) in rows
                ]
            return [
                Hit(
                    str(data[d][bs:be], "utf-8", "surrogatepass"),
                    s,
                    e,
                    t,
                    names[d],
                    i,
                    meta[d],
                    score=score,
                )
                for (i, (d, s, e, bs, be, t)), score in zip(rows, scores, strict=True)
            ]
        except UnicodeDecodeError as exc:  # only a damaged index loaded with verify=False
            raise _damaged_text(exc) from exc


def check_texts(texts: Iterable[Any]) -> list[str]:
    """`texts` as a list, every one a str (documents to add)."""
    out = list(texts)
    for t in out:
        if not isinstance(t, str):
            raise InvalidInputError(f"documents must be str, got {type(t).__name__}")
    return out


def check_ids(n: int, doc_ids: Sequence[str]) -> list[str]:
    """`doc_ids` checked for `n` new documents: non-empty str, no repeats among them."""
    ids = list(doc_ids)
    if len(ids) != n:
        raise InvalidInputError(f"got {n} documents but {len(ids)} ids")
    seen: set[str] = set()
    for d in ids:
        if not isinstance(d, str) or not d:
            raise InvalidInputError(f"document ids must be non-empty str, got {d!r}")
        if d in seen:
            raise InvalidInputError(f"document id {d!r} is already in the index; remove it first")
        seen.add(d)
    return ids


def _damaged_text(exc: UnicodeDecodeError) -> FormatError:
    return FormatError(
        f"the index's stored text is damaged ({exc.reason} at byte {exc.start} of a chunk): it "
        "was loaded with verify=False; load it with verify=True to find the damaged file, or "
        "rebuild it"
    )
