"""One shard of a sharded index: an :class:`~ctxengine.Index` over the documents routed to it,
and the global numbering that makes its answers those of one Index.

A single Index numbers documents and chunks in the order they were added; ties in a ranking go
to the lower chunk id. A shard keeps, for each of its documents, the document's global position
(``seq``: its position in the one Index that would hold every shard's documents) and the global
id of its first chunk (``base``). Documents reach a shard in global order, so its local chunk
ids are in global order too: a shard's top k (ties to the lower local id) is the global top k
restricted to it, and every id a shard returns is already global.

The shard is driven by the coordinator (sharded.py) in-process or inside a Ray actor
(ray_backend.py); it validates nothing the coordinator already checked. It commits prepared
documents (prepare.py) through the Index's own records, BM25 and vector stores, the same
steps ``Index.add_many`` takes after chunking.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, InternalError, InvalidInputError, NotFoundError
from ..retrieval import Index
from ..retrieval.filters import Filter, doc_mask
from ..retrieval.records import DOC, Records
from ..retrieval.store import _fsync_dir
from .errors import ShardDamagedError, ShardMissingError
from .prepare import Prepared
from .stats import Stats

__all__ = ["Shard", "VectorsOnly"]

ORDER_FILE = "order.npy"  # int64 [n_docs, 2]: each local document's (seq, base)
INDEX_DIR = "index"


class VectorsOnly:
    """A shard's embedder: it is given vectors (chunks embedded by the ingest workers, queries
    by the coordinator) and never embeds, so it never loads a model. It keeps the embedder's
    name, which the shard's saved index records."""

    def __init__(self, name: str | None) -> None:
        self.name = name

    def __call__(self, texts: list[str]) -> np.ndarray:
        raise InternalError("a shard never embeds: vectors come from the coordinator")


class Shard:
    """Shard number `number` of a sharded index: an Index made with `options` (Index's keyword
    arguments, without the embedder) and, when the index is dense, `embedder_name`."""

    def __init__(
        self,
        number: int,
        options: dict[str, Any],
        *,
        dense: bool = False,
        embedder_name: str | None = None,
        index: Index | None = None,
        order: np.ndarray | None = None,
    ) -> None:
        self.number = number
        embedder = VectorsOnly(embedder_name) if dense else None
        self.index = index if index is not None else Index(**options, embedder=embedder)
        order = np.empty((0, 2), np.int64) if order is None else np.asarray(order, np.int64)
        self._seq: list[int] = order[:, 0].tolist()
        self._base: list[int] = order[:, 1].tolist()
        self._offsets: np.ndarray | None = None  # per local doc: global - local chunk id

    # ---- global numbering ------------------------------------------------------------------

    @property
    def records(self) -> Records:
        return self.index._records

    def offsets(self) -> np.ndarray:
        """Per local document, the global chunk id minus the local one."""
        if self._offsets is None or len(self._offsets) != len(self._base):
            first = np.array([s for s, _ in self.records.chunk_range], dtype=np.int64)
            self._offsets = np.array(self._base, dtype=np.int64) - first
        return self._offsets

    def to_global(self, local: np.ndarray) -> np.ndarray:
        """Global chunk ids of local chunk ids."""
        if local.size == 0:
            return local.astype(np.int64)
        return local + self.offsets()[self.records.chunks.get()[local, DOC]]

    def to_local(self, ids: np.ndarray) -> np.ndarray:
        """Local chunk ids of global chunk ids held here (a chunk not held here raises)."""
        ids = np.asarray(ids, dtype=np.int64)
        base = np.array(self._base, dtype=np.int64)
        docs = np.searchsorted(base, ids, side="right") - 1
        ranges = np.array(self.records.chunk_range, dtype=np.int64).reshape(-1, 2)
        ok = docs >= 0
        counts = ranges[docs.clip(0), 1] - ranges[docs.clip(0), 0]
        ok &= ids < base[docs.clip(0)] + counts if base.size else np.zeros_like(ok)
        if not ok.all():
            raise InternalError(f"shard {self.number} does not hold chunk {int(ids[~ok][0])}")
        local = ids - base[docs] + ranges[docs, 0]
        alive = self.records.alive_mask()[docs]
        if not alive.all():
            raise NotFoundError(f"chunk {int(ids[~alive][0])} belonged to a removed document")
        return local

    def order(self) -> np.ndarray:
        """(seq, base, chunks, alive) per local document: what the coordinator's directory is
        rebuilt from."""
        ranges = np.array(self.records.chunk_range, dtype=np.int64).reshape(-1, 2)
        return np.stack(
            [
                np.array(self._seq, dtype=np.int64),
                np.array(self._base, dtype=np.int64),
                ranges[:, 1] - ranges[:, 0],
                self.records.alive_mask().astype(np.int64),
            ],
            axis=1,
        ).reshape(-1, 4)

    # ---- changes ---------------------------------------------------------------------------

    def existing(self, doc_ids: list[str]) -> list[bool]:
        """Which of `doc_ids` this shard holds."""
        return [d in self.records.pos for d in doc_ids]

    def commit(self, batch: Prepared, seqs: list[int], bases: list[int]) -> None:
        """Add prepared documents with their global positions and first chunk ids."""
        records, emb = self.records, self.index._embeddings
        records.new_ids(len(batch), batch.ids)  # raises on an id this shard already holds
        if (emb.embedder is not None) != (batch.vectors is not None):
            raise InvalidInputError(
                "this index has an embedder: documents must come with vectors"
                if emb.embedder is not None
                else "this index has no embedder, so it takes no vectors"
            )
        if batch.vectors is not None and batch.n_chunks:
            dim = int(batch.vectors.shape[1])
            if emb.dim is not None and dim != emb.dim:
                raise InvalidInputError(
                    f"dimension mismatch: {dim}-d vectors for an index of {emb.dim}-d vectors; "
                    "use the embedder the index was built with"
                )
            emb.dim = dim
        first_doc, first_chunk = len(records.ids), records.chunks.size
        ends = first_chunk + np.cumsum(batch.counts)
        ranges = list(zip((ends - batch.counts).tolist(), ends.tolist(), strict=True))
        docs = np.repeat(np.arange(first_doc, first_doc + len(batch)), batch.counts)
        rows = np.concatenate([docs.astype(np.int64)[:, None], batch.rows], axis=1)
        records.commit(list(batch.ids), list(batch.data), list(batch.metas), ranges, rows)
        self.index._lexical.changed()
        if batch.vectors is not None:
            emb.append(batch.vectors)
        self._seq.extend(seqs)
        self._base.extend(bases)
        self._offsets = None

    def remove(self, doc_id: str) -> int:
        """Remove a document; returns its global position."""
        local = self.records.doc_index(doc_id)  # NotFoundError for an unknown id
        self.index.remove(doc_id)
        return self._seq[local]

    # ---- reading ---------------------------------------------------------------------------

    def live(self) -> tuple[list[str], list[int]]:
        """Ids of the live documents and their global positions."""
        records = self.records
        keep = np.flatnonzero(records.alive_mask()).tolist()
        return [records.ids[i] for i in keep], [self._seq[i] for i in keep]

    def document(self, doc_id: str, start: int, end: int | None) -> str:
        return self.index.document(doc_id, start, end)

    def metadata(self, doc_id: str) -> Any:
        return self.index.metadata(doc_id)

    def chunks(self, ids: np.ndarray, scores: list[float] | None = None) -> list[Any]:
        """Chunks (or with `scores`, hits) by global id, in the order given."""
        ids = np.asarray(ids, dtype=np.int64)
        out = self.records.records(self.to_local(ids), scores) if ids.size else []
        for c, g in zip(out, ids.tolist(), strict=True):
            c.chunk_id = g
        return out

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """Unit vectors of chunks by global id."""
        return np.asarray(self.index._embeddings.vectors()[self.to_local(ids)])

    # ---- search ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int,
        *,
        lists: tuple[str, ...],
        vector: np.ndarray | None,
        filter: Filter | None,
        hits: bool,
        stats: Stats | None = None,
    ) -> Any:
        """This shard's top `k` of each list in `lists` ("bm25", "dense") as (global chunk ids,
        scores), best first; with `hits`, the one list's :class:`Hit` objects instead. BM25
        scores under `stats`, the corpus-wide statistics (stats.py)."""
        index, records = self.index, self.records
        mask = doc_mask(records, filter)
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name in lists:
            if name == "bm25":
                found[name] = index._lexical.search(records, query, k, mask, stats)
            else:
                assert vector is not None
                found[name] = index._embeddings.search_vector(records, vector, k, mask)
        if hits:
            ((ids, scores),) = found.values()
            return self._hits(ids, scores)
        return {name: (self.to_global(ids), scores) for name, (ids, scores) in found.items()}

    def search_many(
        self,
        queries: list[str],
        k: int,
        filter: Filter | None,
        threads: int,
        stats: Stats | None = None,
    ) -> list[list[Any]]:
        """BM25 :meth:`search` hits for many queries, in parallel in C++."""
        records = self.records
        found = self.index._lexical.search_many(
            records, queries, k, doc_mask(records, filter), threads, stats
        )
        return [self._hits(ids, scores) for ids, scores in found]

    def term_stats(self, queries: list[str]) -> tuple[int, int, dict[str, int]]:
        """This shard's BM25 statistics: (documents, total length, {term: document frequency}
        for the terms of `queries`)."""
        lexical, records = self.index._lexical, self.records
        n, total = lexical.stats(records)
        dfs: dict[str, int] = {}
        for q in queries:
            dfs.update(lexical.term_stats(records, q))
        return n, total, dfs

    def _hits(self, local: np.ndarray, scores: np.ndarray) -> list[Any]:
        out = self.records.records(local, scores.tolist())
        for h, g in zip(out, self.to_global(local).tolist(), strict=True):
            h.chunk_id = g
        return out

    # ---- persistence -----------------------------------------------------------------------

    def save(self, folder: str | os.PathLike[str]) -> dict[str, Any]:
        """Write this shard to `folder`, a new folder (its index, then its global numbering);
        returns what the sharded index's manifest records to check it on load.

        Something already at `folder` is what an earlier attempt of this same save left when
        its process was killed (the coordinator names a new folder for every save; on Ray the
        actor is restarted from its saved copy and the call retried): it is removed, not
        written over (an Index folder without CURRENT refuses a save)."""
        folder = Path(folder)
        if folder.exists():
            shutil.rmtree(folder)
        self.index.save(folder / INDEX_DIR)
        order = np.stack(
            [np.array(self._seq, np.int64), np.array(self._base, np.int64)], axis=1
        ).reshape(-1, 2)
        tmp = folder / f"{ORDER_FILE}.tmp"
        with tmp.open("wb") as f:
            np.save(f, order, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / ORDER_FILE)
        _fsync_dir(folder)  # its entries (index/, order.npy) durable before a manifest names it
        return {
            "documents": len(self.index),
            "positions": len(self.records.ids),
            "chunks": int(self.records.chunks.size),
            "order_sha256": hashlib.sha256((folder / ORDER_FILE).read_bytes()).hexdigest(),
            "index": (folder / INDEX_DIR / "CURRENT").read_text().strip(),
        }

    @classmethod
    def load(
        cls,
        number: int,
        folder: str | os.PathLike[str],
        *,
        expect: dict[str, Any],
        tokenizer: Any,
        dense: bool,
        embedder_name: str | None,
        verify: bool,
    ) -> Shard:
        """Shard `number` from `folder`, checked against the manifest's entry `expect`: a
        missing folder raises ShardMissingError, damaged or mismatched files
        ShardDamagedError, each naming the shard."""
        folder = Path(folder)
        if not (folder / INDEX_DIR).is_dir() or not (folder / ORDER_FILE).is_file():
            raise ShardMissingError(
                number, f"shard {number} is missing: no saved shard at {folder}"
            )

        def damaged(why: str) -> ShardDamagedError:
            return ShardDamagedError(number, f"shard {number} at {folder} is damaged: {why}")

        try:
            current = (folder / INDEX_DIR / "CURRENT").read_text().strip()
            if current != expect["index"]:
                raise damaged("its index is not the version the manifest names")
            raw = (folder / ORDER_FILE).read_bytes()
            if verify and hashlib.sha256(raw).hexdigest() != expect["order_sha256"]:
                raise damaged(f"{ORDER_FILE} fails its checksum")
            order = np.load(folder / ORDER_FILE, allow_pickle=False)
            index = Index.load(
                folder / INDEX_DIR,
                tokenizer=tokenizer,
                embedder=VectorsOnly(embedder_name) if dense else None,
                verify=verify,
            )
        except (FormatError, NotFoundError, OSError, ValueError) as exc:
            if isinstance(exc, ShardDamagedError):
                raise
            raise damaged(str(exc)) from exc
        records = index._records
        if (
            order.dtype != np.int64
            or order.shape != (len(records.ids), 2)
            or len(index) != expect["documents"]
            or records.chunks.size != expect["chunks"]
        ):
            raise damaged("its documents do not match the manifest")
        return cls(number, {}, index=index, order=order)

    def size(self) -> tuple[int, int]:
        """(live documents, live chunks)."""
        return len(self.index), self.index.n_chunks
