"""The lexical side of an index: one C++ BM25 index over the chunks of live documents.

The BM25 index is rebuilt on the first search after documents were added or removed (its
corpus statistics change with every document), so batch adds before searching. A loaded index
searches memory-mapped postings until its first change.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._native import core
from .records import BEND, BSTART, DOC, Records

__all__ = ["Lexical"]

_ix = core.index


class Lexical:
    """BM25 over an index's chunks, with the analyzer and parameters it was built with."""

    def __init__(self, analyzer: Any, params: Any, threads: int) -> None:
        self.analyzer = analyzer
        self.params = params
        self.threads = threads
        self.native: Any = None
        self.chunks = np.empty(0, dtype=np.int64)  # BM25 row -> chunk id
        self.dirty = False
        self.mapped: dict[str, np.ndarray] = {}  # memory-mapped arrays of a loaded index

    def changed(self) -> None:
        self.dirty = True

    def ensure(self, records: Records) -> None:
        """Build the BM25 index over the live chunks if anything changed since the last build."""
        if self.native is not None and not self.dirty:
            return
        live = records.live_chunks()
        rows = records.chunks.get()[live]
        docs = rows[:, DOC]
        # One buffer holding every live document that has chunks; chunk ranges index into it.
        base = {}
        pieces: list[bytes | memoryview] = []
        offset = 0
        for d in dict.fromkeys(docs.tolist()):
            base[d] = offset
            pieces.append(records.data[d])
            offset += len(records.data[d])
        shift = np.array([base[d] for d in docs.tolist()], dtype=np.int64)
        starts = np.ascontiguousarray(rows[:, BSTART] + shift)
        ends = np.ascontiguousarray(rows[:, BEND] + shift)
        self.native = _ix.Bm25Index.build(
            b"".join(pieces), starts, ends, self.analyzer, self.params, self.threads
        )
        self.chunks = live
        self.dirty = False

    def _live(self, records: Records, doc_mask: np.ndarray | None) -> np.ndarray | None:
        if doc_mask is None:
            return None
        return doc_mask[records.chunks.column("doc")[self.chunks]].astype(np.uint8)

    def search(
        self,
        records: Records,
        query: str,
        k: int,
        doc_mask: np.ndarray | None,
        stats: tuple[int, int, dict[str, int]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, scores) of the top `k` chunks, best first. `stats` (documents, total
        length, {term: document frequency}) replaces the index's own corpus statistics: a
        sharded index passes the sums over its shards, so each shard scores as one index."""
        self.ensure(records)
        live = self._live(records, doc_mask)
        scores, rows = self.native.search(
            query.encode("utf-8", "surrogatepass"), k, live, stats=stats
        )
        return self.chunks[rows], scores.astype(np.float64)

    def stats(self, records: Records) -> tuple[int, int]:
        """(documents, total length in terms) of the BM25 index: its corpus statistics."""
        self.ensure(records)
        n, total = self.native.stats()
        return int(n), int(total)

    def term_stats(self, records: Records, query: str) -> list[tuple[str, int]]:
        """The query's distinct terms and their document frequencies here (0: absent)."""
        self.ensure(records)
        return list(self.native.term_stats(query.encode("utf-8", "surrogatepass")))

    def search_many(
        self,
        records: Records,
        queries: list[str],
        k: int,
        doc_mask: np.ndarray | None,
        threads: int,
        stats: tuple[int, int, dict[str, int]] | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`search` for many queries, in parallel in C++."""
        self.ensure(records)
        live = self._live(records, doc_mask)
        scores, rows, counts = self.native.search_many(
            [q.encode("utf-8", "surrogatepass") for q in queries],
            k,
            live,
            threads=threads,
            stats=stats,
        )
        return [
            (self.chunks[rows[i, :n]], scores[i, :n].astype(np.float64))
            for i, n in enumerate(counts.tolist())
        ]

    def arrays(self) -> dict[str, np.ndarray]:
        """The files a saved index holds for BM25."""
        files = {f"bm25_{name}.npy": array for name, array in self.native.arrays().items()}
        files["bm25_chunks.npy"] = self.chunks
        return files

    def load(self, arrays: dict[str, np.ndarray], chunks: np.ndarray) -> int:
        """Search saved (memory-mapped) arrays; returns the number of BM25 rows."""
        self.mapped = arrays  # pages are shared between processes and read on demand
        self.native = _ix.Bm25Index.from_arrays(arrays, self.analyzer, self.params)
        self.chunks = np.asarray(chunks)
        self.dirty = False
        return int(self.native.n_docs)
