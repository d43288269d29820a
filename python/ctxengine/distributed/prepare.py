"""Documents made ready for a shard: chunked, counted and embedded, before any shard sees them.

Preparing is the heavy part of an ingest (chunking and exact token counts on all cores, the
embedder) and needs nothing from the index, so it runs wherever is convenient: in-process, or
in the workers of a Ray Data pipeline (ray_ingest.py). A :class:`Prepared` batch is plain
arrays and bytes, cheap to pickle; its chunk rows are relative to each document, so the shard
that commits it only shifts them to its own positions (shard.py). Chunking is exactly
``Index.add_many``'s (retrieval/ingest.py), so a shard holds the chunks one Index would.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..retrieval.embeddings import Embeddings
from ..retrieval.ingest import chunk_documents
from ..retrieval.records import Records, check_texts

__all__ = ["Prepared", "prepare"]

# Per-chunk columns a Prepared batch carries (the chunk table's, without the document column).
COLUMNS = ("start", "end", "bstart", "bend", "tokens")


@dataclass
class Prepared:
    """Documents chunked for an index: ids, UTF-8 bytes, metadata, each document's chunk count,
    the chunk rows (document-relative offsets and exact token counts) and, with an embedder,
    the chunks' unit vectors."""

    ids: list[str]
    data: list[bytes]
    metas: list[dict[str, Any]]
    counts: np.ndarray  # int64 [n_docs]: chunks per document
    rows: np.ndarray  # int64 [n_chunks, len(COLUMNS)]
    vectors: np.ndarray | None  # float32 [n_chunks, dim], unit rows
    cpu_s: float = 0.0  # CPU seconds it took to prepare (reading, chunking, embedding)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_chunks(self) -> int:
        return int(self.rows.shape[0])

    def take(self, docs: Sequence[int] | np.ndarray) -> Prepared:
        """The documents at positions `docs` (in that order), with their chunks and vectors."""
        docs = np.asarray(docs, dtype=np.int64)
        ends = np.cumsum(self.counts)
        starts = ends - self.counts
        if docs.size:
            chunks = np.concatenate(
                [np.arange(starts[d], ends[d], dtype=np.int64) for d in docs.tolist()]
            )
        else:
            chunks = np.empty(0, dtype=np.int64)
        return Prepared(
            ids=[self.ids[d] for d in docs.tolist()],
            data=[self.data[d] for d in docs.tolist()],
            metas=[self.metas[d] for d in docs.tolist()],
            counts=self.counts[docs],
            rows=self.rows[chunks],
            vectors=None if self.vectors is None else self.vectors[chunks],
            cpu_s=self.cpu_s * len(docs) / max(1, len(self)),
        )

    @staticmethod
    def concat(parts: Sequence[Prepared]) -> Prepared:
        """One batch of `parts`' documents, in order."""
        vectors = [p.vectors for p in parts if p.vectors is not None]
        if vectors and len(vectors) != len(parts):
            raise InvalidInputError("batches with and without vectors cannot be joined")
        return Prepared(
            ids=[d for p in parts for d in p.ids],
            data=[b for p in parts for b in p.data],
            metas=[m for p in parts for m in p.metas],
            counts=np.concatenate([p.counts for p in parts] or [np.empty(0, np.int64)]),
            rows=np.concatenate([p.rows for p in parts] or [np.empty((0, len(COLUMNS)), np.int64)]),
            vectors=np.concatenate(vectors) if vectors else None,
            cpu_s=sum(p.cpu_s for p in parts),
        )


def prepare(
    texts: Sequence[str],
    ids: list[str],
    metadatas: Sequence[Mapping[str, Any] | None] | None,
    *,
    options: Mapping[str, Any],
    tokenizer: Any,
    embedder: Any = None,
    progress: bool = False,
) -> Prepared:
    """Chunk (and with `embedder`, embed) `texts` as an Index with `options` would
    (``max_tokens``, ``overlap``, ``by``); `tokenizer` is the resolved tokenizer."""
    start = time.process_time()
    texts = check_texts(texts)
    metas = Records.check_metadata(len(texts), metadatas)
    batch = chunk_documents(
        texts,
        first_doc=0,
        first_chunk=0,
        tokenizer=tokenizer,
        max_tokens=int(options["max_tokens"]),
        overlap=int(options["overlap"]),
        by=str(options["by"]),
        want_texts=embedder is not None,
        progress=progress,
    )
    vectors = None
    if embedder is not None:
        emb = Embeddings("flat", False)
        emb.set_embedder(embedder)
        vectors = emb.embed(batch.texts, progress=progress)
    counts = np.array([e - s for s, e in batch.ranges], dtype=np.int64)
    return Prepared(
        ids=ids,
        data=batch.data,
        metas=metas,
        counts=counts,
        rows=np.ascontiguousarray(batch.rows[:, 1:]),  # the document column is the shard's
        vectors=vectors,
        cpu_s=time.process_time() - start,
    )
