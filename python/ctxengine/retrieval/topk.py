"""Dense scoring kernels: exact inner-product top-k on the CPU, or on the GPU for device arrays.

This is the exact reference that dense retrieval is checked against, and the seed of GPU
retrieval: the same call takes NumPy arrays (C++ core, all cores) or CUDA arrays such as CuPy
(``ctxengine._cuda``), and both give the same ranking.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._native import core, cuda_module
from ..cuda import cuda_available, is_device_array
from ..errors import InvalidInputError, UnsupportedError

__all__ = ["inner_product_topk"]


def inner_product_topk(
    queries: Any, vectors: Any, k: int, *, threads: int | None = None
) -> tuple[Any, Any]:
    """The `k` vectors with the largest inner product with each query, best first.

    `queries` is ``(nq, dim)`` (or one ``(dim,)`` query) and `vectors` is ``(n, dim)``; both are
    converted to C-contiguous float32 (NumPy inputs are copied only when they are not already).
    Returns ``(scores, ids)`` of shape ``(nq, k)`` (or ``(k,)`` for one query); ties go to the
    lower id, and `k` larger than ``n`` is clamped to ``n``. A NaN score ranks last.
    CUDA arrays (CuPy, PyTorch, anything with ``__cuda_array_interface__``) are searched on the
    GPU and the results come back as CuPy arrays.

    >>> import numpy as np
    >>> vectors = np.array([[1, 0], [0, 1], [0.7, 0.7]], dtype=np.float32)
    >>> scores, ids = inner_product_topk(np.array([1, 0.2], dtype=np.float32), vectors, 2)
    >>> ids.tolist()
    [0, 2]
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidInputError(f"k must be a positive integer, got {k!r}")
    if is_device_array(queries) or is_device_array(vectors):
        return _topk_device(queries, vectors, int(k))
    q = np.ascontiguousarray(queries, dtype=np.float32)
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    single = q.ndim == 1
    q = _check_shapes(q[None, :] if single else q, x)
    scores, ids = core.score.inner_product_topk(q, x, min(int(k), x.shape[0]), threads or 0)
    return (scores[0], ids[0]) if single else (scores, ids)


def _check_shapes(q: Any, x: Any) -> Any:
    if x.ndim != 2 or q.ndim != 2:
        raise InvalidInputError(
            f"vectors must be 2-D (n, dim) and queries 2-D (nq, dim) or 1-D (dim,); "
            f"got vectors {tuple(x.shape)} and queries {tuple(q.shape)}"
        )
    if x.shape[0] == 0:
        raise InvalidInputError("there are no vectors to search (vectors has 0 rows)")
    if q.shape[1] != x.shape[1] or x.shape[1] == 0:
        raise InvalidInputError(
            f"dimension mismatch: queries have {q.shape[1]} columns, vectors have {x.shape[1]}"
        )
    return q


def _device_pointer(a: Any, name: str) -> int:
    iface = a.__cuda_array_interface__
    if iface["typestr"] != "<f4":
        raise InvalidInputError(f"{name} must be float32 on the GPU, got {iface['typestr']}")
    strides = iface.get("strides")
    if strides is not None:
        expected = []
        step = 4
        for dim in reversed(iface["shape"]):
            expected.append(step)
            step *= dim
        if tuple(reversed(expected)) != tuple(strides):
            raise InvalidInputError(
                f"{name} must be C-contiguous on the GPU; try cupy.ascontiguousarray({name})"
            )
    return int(iface["data"][0])


def _topk_device(queries: Any, vectors: Any, k: int) -> tuple[Any, Any]:
    mod = cuda_module()
    if mod is None or not cuda_available():
        raise UnsupportedError(
            "got CUDA arrays but this ctxengine build has no usable GPU support; pass NumPy "
            "arrays, or build with a CUDA toolkit on a machine with a GPU"
        )
    if not (is_device_array(queries) and is_device_array(vectors)):
        raise InvalidInputError("queries and vectors must both be on the GPU, or both in NumPy")
    try:
        import cupy
    except ImportError as exc:
        raise UnsupportedError(
            "the GPU path returns CuPy arrays: install CuPy (pip install 'ctxengine[cuda]')"
        ) from exc
    single = len(queries.__cuda_array_interface__["shape"]) == 1
    q = cupy.asarray(queries)
    x = cupy.asarray(vectors)
    q = _check_shapes(q[None, :] if single else q, x)
    k = min(k, x.shape[0])
    if k > mod.max_k:
        raise UnsupportedError(f"k is limited to {mod.max_k} on the GPU; use NumPy arrays for more")
    scores = cupy.empty((q.shape[0], k), dtype=cupy.float32)
    ids = cupy.empty((q.shape[0], k), dtype=cupy.int64)
    stream = cupy.cuda.get_current_stream().ptr
    mod.inner_product_topk(
        _device_pointer(q, "queries"),
        q.shape[0],
        _device_pointer(x, "vectors"),
        x.shape[0],
        x.shape[1],
        k,
        int(scores.data.ptr),
        int(ids.data.ptr),
        stream,
    )
    return (scores[0], ids[0]) if single else (scores, ids)
