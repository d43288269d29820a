"""The GPU side of ctxengine.attn: CuPy arrays in, CuPy arrays out, through ``ctxengine._cuda``
(device pointers read from ``__cuda_array_interface__``; no copies of the caller's arrays).

Each function is the twin of a CPU kernel with the same contract; ``tests/test_attn_cuda.py``
compares them where a GPU is present.
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

from .._native import cuda_module
from ..cuda import cuda_available
from ..errors import InvalidInputError, UnsupportedError

__all__ = [
    "DevicePages",
    "hamming_topk",
    "hash_codes",
    "quest_scores",
    "select_pages",
    "vertical_slash",
]


def _runtime() -> tuple[ModuleType, Any]:
    mod = cuda_module()
    if mod is None or not cuda_available():
        raise UnsupportedError(
            "got CUDA arrays but this ctxengine build has no usable GPU support; pass NumPy "
            "arrays, or build with a CUDA toolkit on a machine with a GPU"
        )
    if not hasattr(mod, "attn_quest_scores"):
        raise UnsupportedError("this ctxengine._cuda has no attention kernels; rebuild ctxengine")
    try:
        import cupy
    except ImportError as exc:
        raise UnsupportedError(
            "the GPU path takes and returns CuPy arrays: install CuPy (pip install "
            "'ctxengine[cuda]')"
        ) from exc
    return mod, cupy


_TYPES = {"<f4": "float32", "<f2": "float16", "<u4": "uint32", "<i4": "int32"}


def _ptr(a: Any, name: str, allowed: tuple[str, ...]) -> int:
    """The device pointer of a C-contiguous CUDA array of one of the `allowed` dtypes."""
    iface = a.__cuda_array_interface__
    kind = _TYPES.get(iface["typestr"], iface["typestr"])
    if kind not in allowed:
        raise InvalidInputError(f"{name} must be {' or '.join(allowed)} on the GPU, got {kind}")
    strides = iface.get("strides")
    if strides is not None:
        step = int(iface["typestr"][2:])
        expected = []
        for extent in reversed(iface["shape"]):
            expected.append(step)
            step *= extent
        if tuple(reversed(expected)) != tuple(strides) and math.prod(iface["shape"]) > 1:
            raise InvalidInputError(
                f"{name} must be C-contiguous on the GPU; try cupy.ascontiguousarray({name})"
            )
    return int(iface["data"][0])


def _is_f16(a: Any) -> bool:
    return bool(a.__cuda_array_interface__["typestr"] == "<f2")


def _stream(cupy: Any) -> int:
    return int(cupy.cuda.get_current_stream().ptr)


def _compact(cupy: Any, padded: Any, counts: Any) -> tuple[Any, Any]:
    """CSR ``(indptr, indices)`` of rows padded to a rectangle, with `counts` valid each."""
    indptr = cupy.zeros(counts.size + 1, dtype=cupy.int32)
    indptr[1:] = cupy.cumsum(counts, dtype=cupy.int32)
    keep = cupy.arange(padded.shape[1])[None, :] < counts[:, None]
    return indptr, padded[keep]


class DevicePages:
    """Page bounds on the GPU: the twin of the core's PageMeta (bounds in the keys' dtype,
    ``[heads, capacity, dim]`` CuPy arrays that grow by doubling)."""

    def __init__(self, dtype: str, heads: int, dim: int, page_size: int) -> None:
        self._mod, self._cupy = _runtime()
        self.dtype, self.heads, self.dim, self.page_size = dtype, heads, dim, page_size
        self.keys = 0
        self.capacity = 0
        self._min = self._cupy.empty((heads, 0, dim), dtype=dtype)
        self._max = self._cupy.empty((heads, 0, dim), dtype=dtype)

    @classmethod
    def build(cls, k: Any, page_size: int) -> DevicePages:
        shape = k.__cuda_array_interface__["shape"]
        if len(shape) != 3:
            raise InvalidInputError(f"k must be 3-D [heads, n, D], got shape {tuple(shape)}")
        kind = _TYPES.get(k.__cuda_array_interface__["typestr"], "?")
        if kind not in ("float32", "float16"):
            raise InvalidInputError(f"k must be float32 or float16 on the GPU, got {kind}")
        pages = cls(kind, shape[0], shape[2], page_size)
        pages.append(k)
        return pages

    @property
    def pages(self) -> int:
        return -(-self.keys // self.page_size)

    def bounds(self) -> tuple[Any, Any]:
        p = self.pages
        return (
            self._min[:, :p].astype(self._cupy.float32),
            self._max[:, :p].astype(self._cupy.float32),
        )

    def _reserve(self, pages: int) -> None:
        if pages <= self.capacity:
            return
        cap = max(pages, 2 * self.capacity, 16)
        for name in ("_min", "_max"):
            new = self._cupy.empty((self.heads, cap, self.dim), dtype=self.dtype)
            new[:, : self.pages] = getattr(self, name)[:, : self.pages]
            setattr(self, name, new)
        self.capacity = cap

    def append(self, k_new: Any) -> None:
        shape = tuple(k_new.__cuda_array_interface__["shape"])
        if len(shape) != 3 or shape[0] != self.heads or shape[2] != self.dim:
            raise InvalidInputError(
                f"new keys must be [Hkv={self.heads}, n, D={self.dim}], got {shape}"
            )
        ptr = _ptr(k_new, "k_new", (self.dtype,))
        n = shape[1]
        if n == 0:
            return
        if self.keys + n >= 2**31:
            raise InvalidInputError("at most 2^31 - 1 keys (int32 indices)")
        self._reserve(-(-(self.keys + n) // self.page_size))
        self._mod.attn_page_meta(
            ptr,
            self.dtype == "float16",
            self.heads,
            n,
            self.dim,
            self.page_size,
            self.keys,
            int(self._min.data.ptr),
            int(self._max.data.ptr),
            self.capacity,
            _stream(self._cupy),
        )
        self.keys += n


def quest_scores(q: Any, pages: DevicePages) -> Any:
    mod, cupy = _runtime()
    hq, nq, dim = q.shape
    out = cupy.empty((hq, nq, pages.pages), dtype=cupy.float32)
    mod.attn_quest_scores(
        _ptr(q, "q", ("float32", "float16")),
        _is_f16(q),
        hq,
        nq,
        dim,
        int(pages._min.data.ptr),
        int(pages._max.data.ptr),
        pages.dtype == "float16",
        pages.heads,
        pages.pages,
        pages.capacity,
        int(out.data.ptr),
        _stream(cupy),
    )
    return out


def select_pages(
    scores: Any, nk: int, page_size: int, budget: int, sink: int, local: int
) -> tuple[Any, Any]:
    mod, cupy = _runtime()
    hq, nq, npages = scores.shape
    rows = hq * nq
    out = cupy.empty((rows, budget), dtype=cupy.int32)
    counts = cupy.empty(rows, dtype=cupy.int32)
    mod.attn_select_pages(
        _ptr(scores, "scores", ("float32",)),
        rows,
        nq,
        npages,
        nk,
        page_size,
        budget,
        sink,
        local,
        int(out.data.ptr),
        int(counts.data.ptr),
        _stream(cupy),
    )
    return _compact(cupy, out, counts)


def vertical_slash(
    q: Any,
    k: Any,
    last_q: int,
    n_vertical: int,
    n_slash: int,
    sink: int,
    local: int,
    scale: float | None,
) -> tuple[Any, Any]:
    mod, cupy = _runtime()
    hq, nq, dim = q.shape
    hkv, nk, _ = k.shape
    nv, ns = min(n_vertical, nk), min(n_slash, nk)
    vertical = cupy.empty((hq, nv), dtype=cupy.int32)
    slash = cupy.empty((hq, ns), dtype=cupy.int32)
    sums_v = cupy.empty((hq, nk), dtype=cupy.float32)
    sums_s = cupy.empty((hq, nk), dtype=cupy.float32)
    mod.attn_vertical_slash(
        _ptr(q, "q", ("float32", "float16")),
        _is_f16(q),
        _ptr(k, "k", ("float32", "float16")),
        _is_f16(k),
        hq,
        hkv,
        nq,
        nk,
        dim,
        last_q,
        float(scale) if scale else 1.0 / math.sqrt(dim),
        n_vertical,
        n_slash,
        sink,
        local,
        int(vertical.data.ptr),
        int(slash.data.ptr),
        int(sums_v.data.ptr),
        int(sums_s.data.ptr),
        _stream(cupy),
    )
    return vertical, slash


def hash_codes(x: Any, planes: Any) -> Any:
    mod, cupy = _runtime()
    dim, bits = planes.shape
    lead = tuple(x.shape[:-1])
    n = math.prod(lead)
    out = cupy.empty((*lead, bits // 32), dtype=cupy.uint32)
    mod.attn_hash_codes(
        _ptr(x, "x", ("float32", "float16")),
        _is_f16(x),
        n,
        dim,
        _ptr(planes, "planes", ("float32",)),
        bits,
        int(out.data.ptr),
        _stream(cupy),
    )
    return out


def hamming_topk(q_codes: Any, k_codes: Any, top_k: int) -> tuple[Any, Any]:
    mod, cupy = _runtime()
    hq, nq, words = q_codes.shape
    hkv, nk, _ = k_codes.shape
    width = min(top_k, nk)
    out = cupy.empty((hq * nq, width), dtype=cupy.int32)
    counts = cupy.empty(hq * nq, dtype=cupy.int32)
    mod.attn_hamming_topk(
        _ptr(q_codes, "q_codes", ("uint32",)),
        hq,
        nq,
        _ptr(k_codes, "k_codes", ("uint32",)),
        hkv,
        nk,
        words,
        width,
        int(out.data.ptr),
        int(counts.data.ptr),
        _stream(cupy),
    )
    return _compact(cupy, out, counts)
