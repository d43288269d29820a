"""The dense side of an index: the embedder, the chunks' unit vectors and the FAISS index.

Vectors are kept for every chunk ever added (removed documents' rows stay, unsearched); the
FAISS index covers the live chunks and is extended in place while only adds happen, rebuilt
after a remove (FAISS flat and HNSW indexes cannot drop vectors).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._progress import progress_bar
from ..errors import InvalidInputError
from . import dense
from .embed import Embedder, embedder_name, get_embedder
from .records import Records
from .topk import inner_product_topk

__all__ = ["Embeddings", "unit_rows"]

# With an approximate dense index, a filter that keeps at most this many chunks is searched
# exactly over those chunks' vectors (cheap, and FAISS's filtered HNSW/IVF search can miss them).
_EXACT_FILTERED = 4096


class Embeddings:
    """An index's embedder, vectors and FAISS index (`kind`: "flat", "hnsw" or "ivf")."""

    def __init__(self, kind: str, gpu: bool | None) -> None:
        self.kind = kind
        self.gpu = gpu
        self.embedder: Embedder | None = None
        self.name: str | None = None  # what a saved index records, to load the embedder again
        self.dim: int | None = None
        self.parts: list[np.ndarray] = []
        self.faiss: Any = None
        self.faiss_chunks = np.empty(0, dtype=np.int64)  # FAISS row -> chunk id
        self.identity = False  # whether faiss_chunks is 0, 1, 2, ...
        self.dirty = False

    def set_embedder(self, embedder: Embedder | str) -> None:
        if isinstance(embedder, str):
            self.name = embedder
            embedder = get_embedder(embedder)
        else:
            self.name = embedder_name(embedder)
        if not callable(embedder):
            raise InvalidInputError("embedder must be callable: list[str] -> (n, dim) array")
        self.embedder = embedder

    # ---- vectors ---------------------------------------------------------------------------

    def embed(self, texts: list[str], *, progress: bool = False, batch: int = 256) -> np.ndarray:
        """Unit vectors of `texts`, embedded in batches."""
        parts = []
        for i in progress_bar(
            range(0, len(texts), batch),
            desc="embedding",
            unit="batch",
            wanted=progress and len(texts) > batch,
        ):
            parts.append(self.embed_batch(texts[i : i + batch]))
        if not parts:
            return np.empty((0, self.dim or 0), dtype=np.float32)
        return np.concatenate(parts)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        assert self.embedder is not None
        out = np.asarray(self.embedder(texts), dtype=np.float32)
        if out.ndim != 2 or out.shape[0] != len(texts):
            raise InvalidInputError(
                f"the embedder returned shape {out.shape} for {len(texts)} texts; "
                "it must return an (n, dim) array"
            )
        if self.dim is None:
            self.dim = int(out.shape[1])
        elif out.shape[1] != self.dim:
            raise InvalidInputError(
                f"dimension mismatch: the embedder returned {out.shape[1]}-d vectors but the "
                f"index holds {self.dim}-d vectors; use the embedder the index was built with"
            )
        return unit_rows(out)

    def append(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self.parts.append(vectors)
        self.dirty = True

    def removed(self) -> None:
        self.dirty = True
        self.faiss = None  # FAISS flat/HNSW cannot drop vectors in place: rebuilt on next search

    def vectors(self) -> np.ndarray:
        """Every chunk's vector (rows by chunk id)."""
        if len(self.parts) > 1:
            self.parts = [np.concatenate(self.parts)]
        if not self.parts:
            return np.empty((0, self.dim or 0), dtype=np.float32)
        return self.parts[0]

    # ---- search ----------------------------------------------------------------------------

    def ensure(self, records: Records) -> None:
        """Bring the FAISS index up to date with the live chunks."""
        if self.faiss is not None and not self.dirty:
            return
        vectors = self.vectors()
        live = records.live_chunks()
        # A FAISS index over no vectors may predate the dimension (an index searched before
        # its first vector, as an empty shard is): rebuilt, never added to.
        if (
            self.faiss is not None
            and self.faiss_chunks.size
            and live.size >= self.faiss_chunks.size
            and np.array_equal(live[: self.faiss_chunks.size], self.faiss_chunks)
        ):
            dense.add(self.faiss, vectors[live[self.faiss_chunks.size :]])  # only adds since
        else:
            self.faiss = dense.build(vectors[live], self.kind, self.dim or 0, gpu=self.gpu)
        self.faiss_chunks = live
        self.identity = live.size == records.chunks.size
        self.dirty = False

    def search(
        self, records: Records, query: str, k: int, doc_mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, cosine similarities) of the top `k` chunks, best first."""
        self.ensure(records)
        if self.faiss_chunks.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        return self.search_vector(records, self.embed_batch([query]), k, doc_mask)

    def search_vector(
        self, records: Records, q: np.ndarray, k: int, doc_mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`search` for an embedded query `q` (a unit float32 row, shape (1, dim)): what
        the shards of a sharded index run, the query embedded once for all of them.

        Equal scores go to the lower chunk id, as everywhere else in an index, so the answer
        is one defined list (a sharded index merges shards' lists by that rule). FAISS orders
        equal scores by its heap, and which of several chunks tied at the k-th score it keeps
        depends on its code path (a filter changes it): one more result is asked for, and when
        it ties with the k-th, the exact search is widened until the tie is whole. (On a GPU
        asked for exactly its cap, k itself, there is no room for the one more: there only the
        order of ties is fixed.)
        """
        self.ensure(records)
        gpu = self.faiss.gpu is not None and doc_mask is None if self.faiss is not None else False
        probe = not gpu or k < self.faiss.gpu_max_k
        want = k + 1 if probe else k
        ids, scores = self._search_vector(records, q, want, doc_mask)
        exact = probe and self.faiss is not None and self.faiss.kind == "flat"
        while exact and len(ids) == want and scores[-1] == scores[k - 1]:
            want *= 4
            ids, scores = self._search_vector(records, q, want, doc_mask)
        if len(ids) > 1 and (scores[1:] == scores[:-1]).any():
            order = np.lexsort((ids, -scores))
            ids, scores = ids[order], scores[order]
        return ids[:k], scores[:k]

    def _search_vector(
        self, records: Records, q: np.ndarray, k: int, doc_mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        self.ensure(records)
        if self.faiss_chunks.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        allowed = None
        if doc_mask is not None:
            allowed = doc_mask[records.chunks.column("doc")[self.faiss_chunks]]
        n_allowed = -1 if allowed is None else int(np.count_nonzero(allowed))
        if allowed is not None and n_allowed <= _EXACT_FILTERED and self.faiss.kind != "flat":
            return self._exact_subset(q[0], k, allowed)
        scores, rows = dense.search(self.faiss, q, k, allowed)
        # FAISS pads with -1 after the last row it found (fewer than k).
        if rows.size == 0 or rows[-1] < 0:
            keep = rows >= 0
            if allowed is not None and int(np.count_nonzero(keep)) < min(k, n_allowed):
                # The filter starved the approximate search (FAISS's filtered graph or list
                # search found fewer than k): search the allowed vectors exactly instead.
                return self._exact_subset(q[0], k, allowed)
            rows, scores = rows[keep], scores[keep]
        # Rows are chunk ids while no document was removed since the FAISS index was built.
        return (rows if self.identity else self.faiss_chunks[rows]), scores

    def _exact_subset(
        self, query: np.ndarray, k: int, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        subset = np.flatnonzero(allowed)
        if subset.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        vectors = np.ascontiguousarray(self.vectors()[self.faiss_chunks[subset]])
        s, r = inner_product_topk(query, vectors, min(k, subset.size))
        return self.faiss_chunks[subset[r]], s.astype(np.float64)


def unit_rows(vectors: np.ndarray) -> np.ndarray:
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
