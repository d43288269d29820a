"""FAISS behind the index's dense search (imported only when dense search is used).

- ``"flat"``: ``IndexFlatIP``, exact inner product (cosine on the unit vectors the index keeps).
- ``"hnsw"``: ``IndexHNSWFlat`` (M=32, efConstruction=200, efSearch=max(128, k)).
- ``"ivf"``: ``IndexIVFFlat`` with nlist = 4 sqrt(n) lists (at most 65536), trained on the
  vectors, searched with nprobe = max(16, nlist / 8) lists.

Filters use FAISS's ID selectors, so they act inside the search. With GPU FAISS installed and a
GPU present, flat and IVF indexes are copied to the GPU for unfiltered searches with k <= 2048
(GPU FAISS's limit); everything else runs on the CPU copy.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, UnsupportedError

__all__ = ["add", "build", "deserialize", "search", "serialize"]


class Dense:
    def __init__(self, index: Any, kind: str, gpu: Any = None) -> None:
        self.index = index
        self.kind = kind
        self.gpu = gpu
        self.params: tuple[int, Any] = (0, None)  # the last unfiltered search's (k, params)


def _faiss() -> Any:
    import faiss

    return faiss


def _gpu_copy(index: Any, kind: str, gpu: bool | None) -> Any:
    faiss = _faiss()
    available = hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
    if gpu and not available:
        raise UnsupportedError(
            "gpu=True but GPU FAISS or a GPU is missing: install faiss-gpu on a machine with a "
            "GPU, or use gpu=None"
        )
    if not available or gpu is False or kind == "hnsw":
        return None
    return faiss.index_cpu_to_all_gpus(index)


def build(vectors: np.ndarray, kind: str, dim: int, *, gpu: bool | None = None) -> Dense:
    faiss = _faiss()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = vectors.shape[0]
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 200
    elif kind == "ivf" and n > 0:
        nlist = max(1, min(65536, int(4 * math.sqrt(n)), n))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.min_points_per_centroid = 1  # no warning for small indexes
        index.train(vectors)
        index.nprobe = min(nlist, max(16, nlist // 8))
    else:
        index = faiss.IndexFlatIP(dim)
        kind = "flat"  # IVF needs vectors to train; an empty index starts flat
    if n:
        index.add(vectors)
    return Dense(index, kind, _gpu_copy(index, kind, gpu))


def add(dense: Dense, vectors: np.ndarray) -> None:
    if len(vectors):
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dense.index.add(vectors)
        if dense.gpu is not None:
            dense.gpu.add(vectors)


def search(
    dense: Dense, query: np.ndarray, k: int, allowed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the k best rows for one query (float32, shape (1, dim)); rows are -1
    past the last hit."""
    n = dense.index.ntotal
    k = min(k, n)
    if k == 0:
        return np.empty(0, dtype=np.float32), np.empty(0, dtype=np.int64)
    if allowed is None:
        if dense.gpu is not None and k <= 2048:
            scores, rows = dense.gpu.search(query, k)
            return scores[0], rows[0]
        # This path runs once per query: the parameters are made once per k (not per query),
        # and a flat index needs none.
        params = None
        if dense.kind != "flat":
            if dense.params[0] != k:
                dense.params = (k, _params(dense, k))
            params = dense.params[1]
        scores, rows = dense.index.search(query, k, params=params)
        return scores[0], rows[0]
    faiss = _faiss()
    keep = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
    params = _params(dense, k, sel=faiss.IDSelectorBitmap(n, faiss.swig_ptr(keep)))
    scores, rows = dense.index.search(query, k, params=params)
    del keep  # the bitmap had to outlive the search
    return scores[0], rows[0]


def _params(dense: Dense, k: int, **kwargs: Any) -> Any:
    faiss = _faiss()
    if dense.kind == "hnsw":
        return faiss.SearchParametersHNSW(efSearch=max(128, k), **kwargs)
    if dense.kind == "ivf" and hasattr(dense.index, "nprobe"):
        return faiss.SearchParametersIVF(nprobe=dense.index.nprobe, **kwargs)
    return faiss.SearchParameters(**kwargs)


def serialize(dense: Dense) -> bytes:
    return bytes(_faiss().serialize_index(dense.index))


def deserialize(path: Path, *, gpu: bool | None = None) -> Dense:
    faiss = _faiss()
    try:
        index = faiss.read_index(str(path))
    except (RuntimeError, MemoryError) as exc:  # FAISS's own checks of a damaged file
        raise FormatError(
            f"{path} is not a FAISS index FAISS can read ({exc}); rebuild it"
        ) from exc
    kind = "hnsw" if isinstance(index, faiss.IndexHNSW) else "ivf"
    return Dense(index, kind, _gpu_copy(index, kind, gpu))
