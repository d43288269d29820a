"""Argument checks shared by the sparse-attention functions: shapes, dtypes, layouts.

Arrays are never copied behind the caller's back (a KV cache can be gigabytes): a wrong dtype or
layout is an error that says how to convert.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cuda import is_device_array
from ..errors import InvalidInputError

__all__ = ["check_int", "check_qk", "heads_array", "threads_arg"]

_FLOATS = ("float32", "float16")


def heads_array(x: Any, name: str) -> np.ndarray:
    """`x` as a C-contiguous float32/float16 ``[heads, n, D]`` NumPy array (no copy)."""
    if not isinstance(x, np.ndarray):
        raise InvalidInputError(
            f"{name} must be a NumPy array (or a CuPy array for the GPU), got "
            f"{type(x).__name__}; try np.asarray({name}, dtype=np.float32)"
        )
    check_heads_shape(x.shape, x.dtype, name)
    if not x.flags.c_contiguous:
        raise InvalidInputError(f"{name} must be C-contiguous; try np.ascontiguousarray({name})")
    return x


def check_heads_shape(shape: tuple[int, ...], dtype: Any, name: str) -> None:
    if len(shape) != 3:
        raise InvalidInputError(
            f"{name} must be 3-D [heads, n, D], got shape {tuple(shape)}; a single head is "
            f"{name}[None]"
        )
    if str(dtype) not in _FLOATS:
        raise InvalidInputError(
            f"{name} must be float32 or float16, got {dtype}; convert with "
            f"{name}.astype(np.float32)"
        )
    if shape[0] < 1 or shape[2] < 1:
        raise InvalidInputError(f"{name} needs at least one head and one dimension, got {shape}")


def check_qk(q: Any, k: Any) -> None:
    """The shape rules every kernel shares (works for NumPy and CuPy arrays)."""
    check_heads_shape(tuple(q.shape), q.dtype, "q")
    check_heads_shape(tuple(k.shape), k.dtype, "k")
    hq, nq, d = q.shape
    hkv, nk, dk = k.shape
    if d != dk:
        raise InvalidInputError(f"q and k must have the same head dimension D, got {d} and {dk}")
    if hq % hkv:
        raise InvalidInputError(
            f"the query heads Hq={hq} must be a multiple of the KV heads Hkv={hkv} "
            "(query head h reads KV head h // (Hq // Hkv))"
        )
    if nq > nk:
        raise InvalidInputError(
            f"more queries than keys (Nq={nq} > Nk={nk}): queries are the last Nq positions of "
            "the sequence the keys hold; pass the keys of every position up to the last query"
        )
    if nk >= 2**31:
        raise InvalidInputError("at most 2^31 - 1 keys per call (indices are int32)")


def check_int(value: Any, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def threads_arg(threads: int | None) -> int:
    return 0 if threads is None else check_int(threads, "threads", minimum=1)


def on_device(*arrays: Any) -> bool:
    """True when the arrays live on a GPU; an error when some do and some do not."""
    flags = [is_device_array(a) for a in arrays]
    if any(flags) and not all(flags):
        raise InvalidInputError("pass all arrays on the GPU (CuPy) or all in NumPy, not a mix")
    return bool(flags and flags[0])
