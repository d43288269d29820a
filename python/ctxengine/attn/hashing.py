"""Sign-bit codes and Hamming top-k, the key ranking of HashAttention (Desai et al., 2024),
HATA (Gong et al., 2025) and HAX: a vector's code is the signs of its projections on `bits`
planes, packed 32 to a uint32, and a query reads the keys whose codes differ in fewest bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._native import core
from ..errors import InvalidInputError
from . import _device
from ._arrays import check_int, on_device, threads_arg
from .selection import Selection

__all__ = ["hamming_topk", "hash_codes", "random_planes"]


def random_planes(dim: int, bits: int = 128, *, seed: int = 0) -> np.ndarray:
    """Random Gaussian hyperplanes ``[dim, bits]`` float32 (SimHash's), reproducible by `seed`.

    >>> random_planes(64, 32).shape
    (64, 32)
    """
    dim = check_int(dim, "dim", minimum=1)
    bits = check_int(bits, "bits", minimum=32)
    if bits % 32:
        raise InvalidInputError(f"bits must be a multiple of 32, got {bits}")
    return np.random.default_rng(seed).standard_normal((dim, bits)).astype(np.float32)


def hash_codes(x: Any, planes: Any, *, threads: int | None = None) -> Any:
    """Sign codes of `x` ``[..., D]`` on `planes` ``[D, bits]``: uint32 ``[..., bits / 32]``.

    Bit b (word ``b // 32``, bit ``b % 32`` from the least significant) is set when
    ``x @ planes[:, b] > 0``; a zero or NaN projection gives 0.

    >>> import numpy as np
    >>> planes = np.zeros((2, 32), np.float32); planes[0, 0] = 1; planes[1, 3] = -1
    >>> hash_codes(np.array([[1.0, 1.0], [-1.0, -1.0]], np.float32), planes).tolist()
    [[1], [8]]
    """
    if len(x.shape) < 1 or str(x.dtype) not in ("float32", "float16"):
        raise InvalidInputError(
            f"x must be a float32 or float16 array [..., D], got {x.dtype} {tuple(x.shape)}; "
            "convert with x.astype(np.float32)"
        )
    if len(planes.shape) != 2 or planes.shape[0] != x.shape[-1]:
        raise InvalidInputError(
            f"planes must be [D, bits] with D = {x.shape[-1]}, got {tuple(planes.shape)}"
        )
    bits = planes.shape[1]
    if bits < 32 or bits % 32 or bits > 2048:
        raise InvalidInputError(
            f"bits (planes' columns) must be a multiple of 32 up to 2048: {bits}"
        )
    lead = tuple(x.shape[:-1])
    if on_device(x, planes):
        return _device.hash_codes(x, planes)
    if not isinstance(x, np.ndarray) or not x.flags.c_contiguous:
        raise InvalidInputError("x must be a C-contiguous NumPy array; try np.ascontiguousarray(x)")
    planes = np.ascontiguousarray(planes, dtype=np.float32)
    codes = core.attn.hash_codes(x.reshape(-1, x.shape[-1]), planes, threads_arg(threads))
    return codes.reshape((*lead, bits // 32))


def hamming_topk(
    q_codes: Any, k_codes: Any, top_k: int, *, threads: int | None = None
) -> Selection:
    """Per (head, query), the `top_k` causal keys whose codes are nearest in Hamming distance,
    ties to the lower key, as a token :class:`Selection` (each row holds ``min(top_k, p + 1)``
    keys, ascending). `q_codes` is ``[Hq, Nq, words]``, `k_codes` ``[Hkv, Nk, words]`` (from
    :func:`hash_codes`); query head h reads KV head ``h // (Hq // Hkv)``.

    >>> import numpy as np
    >>> kc = np.array([[[0], [7], [1], [3]]], np.uint32)
    >>> hamming_topk(np.array([[[1]]], np.uint32), kc, 2).row(0, 0).tolist()
    [0, 2]
    """
    top_k = check_int(top_k, "top_k", minimum=1)
    for name, c in (("q_codes", q_codes), ("k_codes", k_codes)):
        if len(c.shape) != 3 or str(c.dtype) != "uint32":
            raise InvalidInputError(
                f"{name} must be uint32 [heads, n, words] (from hash_codes), got "
                f"{c.dtype} {tuple(c.shape)}"
            )
    hq, nq, words = q_codes.shape
    hkv, nk, kwords = k_codes.shape
    if words != kwords or not 1 <= words <= 64:
        raise InvalidInputError(f"codes must have the same 1..64 words, got {words} and {kwords}")
    if hkv < 1 or hq % hkv:
        raise InvalidInputError(f"the query heads Hq={hq} must be a multiple of Hkv={hkv}")
    if nq > nk:
        raise InvalidInputError(f"more queries than keys (Nq={nq} > Nk={nk})")
    if on_device(q_codes, k_codes):
        indptr, indices = _device.hamming_topk(q_codes, k_codes, top_k)
    else:
        indptr, indices = core.attn.hamming_topk(
            np.ascontiguousarray(q_codes),
            np.ascontiguousarray(k_codes),
            top_k,
            threads_arg(threads),
        )
    return Selection(
        indptr, indices, unit="token", unit_size=1, heads=hq, nq=nq, nk=nk, validate=False
    )
