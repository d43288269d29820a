"""FAISS behind the index's dense search (imported only when dense search is used).

- ``"flat"``: ``IndexFlatIP``, exact inner product (cosine on the unit vectors the index keeps).
- ``"hnsw"``: ``IndexHNSWFlat`` (M=32, efConstruction=200, efSearch=max(128, k)).
- ``"ivf"``: ``IndexIVFFlat`` with nlist = 4 sqrt(n) lists (at most 65536), trained on the
  vectors, searched with nprobe = max(16, nlist / 8) lists.

Filters use FAISS's ID selectors, so they act inside the search. With GPU FAISS installed and a
GPU present (``pip install "ctxengine[gpu]"``), flat and IVF indexes are copied to the GPU for
unfiltered searches; a search with k beyond GPU FAISS's limit (2048, or 16384 in a cuVS build),
a filtered search and HNSW run on the CPU copy, with the same answers. ``gpu=True`` without GPU
FAISS or a GPU searches on the CPU and says so once per process (:class:`GpuFallbackWarning`).
"""

from __future__ import annotations

import math
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError

__all__ = ["GpuFallbackWarning", "add", "build", "deserialize", "search", "serialize"]

# GPU FAISS's largest k for one search (faiss/gpu/utils/DeviceDefs.cuh); cuVS builds allow more.
GPU_MAX_K = 2048
GPU_MAX_K_CUVS = 16384


class GpuFallbackWarning(UserWarning):
    """``gpu=True`` was asked for but dense search runs on the CPU (no GPU FAISS or no GPU)."""


_warned = threading.Event()  # the fallback is announced once per process


class Dense:
    def __init__(self, index: Any, kind: str, gpu: Any = None) -> None:
        self.index = index
        self.kind = kind
        self.gpu = gpu
        self.gpu_max_k = _gpu_max_k() if gpu is not None else 0
        self.params: tuple[int, Any] = (0, None)  # the last unfiltered search's (k, params)


def _faiss() -> Any:
    import faiss

    return faiss


def _gpu_max_k() -> int:
    options = getattr(_faiss(), "GpuClonerOptions", None)
    return GPU_MAX_K_CUVS if getattr(options and options(), "use_cuvs", False) else GPU_MAX_K


def _fall_back(reason: str) -> None:
    if _warned.is_set():
        return
    _warned.set()
    # Point the warning at the user's line: the first frame outside ctxengine.
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("ctxengine"):
        frame, level = frame.f_back, level + 1
    warnings.warn(
        f"gpu=True, but {reason}: dense search runs on the CPU (the same results). "
        "For GPU search install the GPU extra on a machine with an NVIDIA GPU: "
        'pip install "ctxengine[gpu]" (see docs/retrieval.md, GPU)',
        GpuFallbackWarning,
        stacklevel=level,
    )


def _gpu_copy(index: Any, kind: str, gpu: bool | None) -> Any:
    """A copy of `index` on the GPU(s), or None: `gpu` False, None without a GPU, or True
    without one (then one GpuFallbackWarning)."""
    if gpu is False:
        return None
    faiss = _faiss()
    if not hasattr(faiss, "StandardGpuResources"):
        if gpu:
            _fall_back("this FAISS has no GPU support (faiss-cpu is installed)")
        return None
    if faiss.get_num_gpus() == 0:
        if gpu:
            _fall_back("GPU FAISS sees no GPU")
        return None
    if kind == "hnsw":
        if gpu:
            _fall_back("FAISS has no GPU version of an HNSW index (use 'flat' or 'ivf')")
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
        if dense.gpu is not None and k <= dense.gpu_max_k:  # beyond it: the CPU copy
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
