"""The lexical side of an index: one incremental C++ BM25 index whose keys are chunk ids.

New chunks go to the index's memory segment (adding one document costs its own analysis), and
are flushed into immutable segments that merge by size tiers on a background thread; a removed
document's chunks become tombstones, their terms subtracted from the statistics. Scores always
equal those of a BM25 index built from scratch over the live chunks (csrc/index/bm25_index.hpp).
A loaded index searches its memory-mapped segments.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._native import core
from ..errors import FormatError
from .bm25 import TermStats
from .records import BEND, BSTART, DOC, Records

__all__ = ["Lexical"]

_ix = core.index

# Segment arrays as saved: bm25_<segment>_<name>.npy, plus its deletions.
_SEGMENT_ARRAYS = (
    "term_bytes",
    "term_offsets",
    "term_df",
    "term_blocks",
    "term_impacts",
    "block_last_doc",
    "block_offsets",
    "block_impacts",
    "impacts",
    "postings",
    "doc_lengths",
    "doc_keys",
    "impact_norm",
    "pairs",
)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class Lexical:
    """BM25 over an index's chunks, with the analyzer and parameters it was built with."""

    def __init__(self, analyzer: Any, params: Any, threads: int) -> None:
        self.analyzer = analyzer
        self.params = params
        self.threads = threads
        self.native: Any = _ix.Bm25Index(analyzer, params)
        self.mapped: list[Any] = []  # the memory-mapped arrays of a loaded index

    def add(self, data: list[bytes], rows: np.ndarray, first_doc: int, first_chunk: int) -> None:
        """Index new chunks: `rows` (chunk table rows, chunk ids from `first_chunk`) of the
        documents `data` (positions from `first_doc`)."""
        if not len(rows):
            return
        docs = rows[:, DOC] - first_doc
        offsets = np.zeros(len(data) + 1, dtype=np.int64)
        np.cumsum([len(d) for d in data], out=offsets[1:])
        starts = np.ascontiguousarray(rows[:, BSTART] + offsets[docs])
        ends = np.ascontiguousarray(rows[:, BEND] + offsets[docs])
        keys = np.arange(first_chunk, first_chunk + len(rows), dtype=np.int64)
        blob = data[0] if len(data) == 1 else b"".join(data)
        segments = self.native.n_segments
        self.native.add(blob, starts, ends, keys, self.threads)
        if self.native.n_segments > segments:  # a flush: merges may be due (on their thread)
            self.native.maintain(True, 1)

    def remove(self, records: Records, doc: int) -> None:
        """Drop document `doc`'s chunks (before its text is released: their terms are checked
        against the postings and subtracted from the statistics)."""
        first, end = records.chunk_range[doc]
        if end <= first:
            return
        rows = records.chunks.get()[first:end]
        self.native.remove(
            np.arange(first, end, dtype=np.int64),
            records.data[doc],
            np.ascontiguousarray(rows[:, BSTART]),
            np.ascontiguousarray(rows[:, BEND]),
        )

    def _filter(self, records: Records, doc_mask: np.ndarray | None) -> np.ndarray | None:
        if doc_mask is None:
            return None
        return doc_mask[records.chunks.column("doc")].astype(np.uint8)

    def search(
        self,
        records: Records,
        query: str,
        k: int,
        doc_mask: np.ndarray | None,
        stats: TermStats | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, scores) of the top `k` chunks, best first."""
        scores, keys = self.native.search(
            _utf8(query),
            k,
            self._filter(records, doc_mask),
            None if stats is None else stats._native(),
            threads=1,  # one query, one thread (docs/retrieval.md, "Speed"); batches: search_many
        )
        return keys, scores.astype(np.float64)

    def search_many(
        self,
        records: Records,
        queries: list[str],
        k: int,
        doc_mask: np.ndarray | None,
        threads: int,
        stats: TermStats | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`search` for many queries, in parallel in C++; `stats` as in :meth:`search`
        (covering every query's terms)."""
        scores, keys, counts = self.native.search_many(
            [_utf8(q) for q in queries],
            k,
            self._filter(records, doc_mask),
            None if stats is None else stats._native(),
            threads=threads,
        )
        return [
            (keys[i, :n], scores[i, :n].astype(np.float64)) for i, n in enumerate(counts.tolist())
        ]

    def term_stats(self, query: str) -> TermStats:
        n_docs, total = self.native.stats()
        return TermStats(int(n_docs), int(total), dict(self.native.term_stats(_utf8(query))))

    def n_chunks(self) -> int:
        return int(self.native.stats()[0])

    def merge(self, max_segments: int) -> None:
        self.native.wait_for_merges()
        self.native.flush(self.threads)
        self.native.force_merge(max_segments, self.threads)

    # ---- persistence -----------------------------------------------------------------------

    def files(self) -> tuple[dict[str, np.ndarray], int]:
        """The files a saved index holds for BM25 (the memory segment is flushed first), and
        the number of segments."""
        self.native.wait_for_merges()
        self.native.flush(self.threads)
        files: dict[str, np.ndarray] = {}
        segments = self.native.segments()
        for s, (arrays, deleted, deleted_df) in enumerate(segments):
            for name in _SEGMENT_ARRAYS:
                files[f"bm25_{s}_{name}.npy"] = arrays[name]
            files[f"bm25_{s}_deleted.npy"] = deleted
            files[f"bm25_{s}_deleted_df.npy"] = deleted_df
        return files, len(segments)

    def load(self, opened: Any, n_segments: int, *, verify: bool) -> None:
        """Search a saved index's (memory-mapped) segments; `verify` decodes and checks every
        posting against the rest (csrc/index/segment.hpp, verify_postings)."""
        segments = []
        for s in range(n_segments):
            arrays = {name: opened.array(f"bm25_{s}_{name}.npy") for name in _SEGMENT_ARRAYS}
            deleted = opened.array(f"bm25_{s}_deleted.npy")
            deleted_df = opened.array(f"bm25_{s}_deleted_df.npy")
            if deleted.dtype != np.uint32 or deleted_df.dtype != np.uint32:
                raise FormatError(f"the deletions of BM25 segment {s} have the wrong type")
            segments.append((arrays, deleted, deleted_df))
        self.mapped = segments  # pages are shared between processes and read on demand
        self.native = _ix.Bm25Index.from_segments(
            segments, self.analyzer, self.params, verify=verify, threads=self.threads
        )

    def rebuild(self, records: Records) -> None:
        """Index every live chunk from scratch (an index saved before segments existed)."""
        self.native = _ix.Bm25Index(self.analyzer, self.params)
        live = records.live_chunks()
        if not live.size:
            return
        rows = records.chunks.get()[live]
        docs = rows[:, DOC]
        order = list(dict.fromkeys(docs.tolist()))
        offsets = {}
        at = 0
        for d in order:
            offsets[d] = at
            at += len(records.data[d])
        shift = np.array([offsets[d] for d in docs.tolist()], dtype=np.int64)
        self.native.add(
            b"".join(records.data[d] for d in order),
            np.ascontiguousarray(rows[:, BSTART] + shift),
            np.ascontiguousarray(rows[:, BEND] + shift),
            live,
            self.threads,
        )
