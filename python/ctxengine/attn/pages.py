"""Quest: page bounds, page scores and page selection (Tang et al., 2024).

Keys are grouped in pages of `page_size` positions; :func:`page_meta` keeps each page's
per-channel minimum and maximum, :func:`quest_scores` bounds ``q.k`` over each page by
``sum_d max(q_d * kmin_d, q_d * kmax_d)``, and :func:`select_pages` keeps the best pages per
(head, query) within a budget, always with the first `sink` and the query's last `local` pages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._native import core
from ..errors import InvalidInputError
from . import _device
from ._arrays import check_heads_shape, check_int, heads_array, on_device, threads_arg
from .selection import Selection

__all__ = ["PageMeta", "page_meta", "quest_scores", "select_pages"]


class PageMeta:
    """Per-page key bounds of one sequence's keys ``[Hkv, Nk, D]``.

    Bounds are kept in the keys' dtype (the min and max of float16 values are float16 values,
    so nothing is lost and quest scoring reads half the bytes); :attr:`kmin` and :attr:`kmax`
    return float32 ``[Hkv, pages, D]`` copies. A NaN in a page's channel makes both of that
    channel's bounds NaN, and the page's score NaN. :meth:`append` adds decoded keys in
    O(new keys) (amortised). Built by :func:`page_meta`.
    """

    def __init__(self, native: Any = None, device: Any = None) -> None:
        self._native = native
        self._device = device

    @property
    def on_gpu(self) -> bool:
        return self._device is not None

    @property
    def _impl(self) -> Any:
        return self._device if self._device is not None else self._native

    @property
    def nk(self) -> int:
        """Keys seen so far."""
        return int(self._impl.keys)

    @property
    def pages(self) -> int:
        return int(self._impl.pages)

    @property
    def page_size(self) -> int:
        return int(self._impl.page_size)

    @property
    def heads(self) -> int:
        return int(self._impl.heads)

    @property
    def dim(self) -> int:
        return int(self._impl.dim)

    @property
    def dtype(self) -> str:
        """The storage dtype of the bounds: the keys' ("float32" or "float16")."""
        return str(self._impl.dtype)

    @property
    def kmin(self) -> Any:
        """Per-channel minimum, float32 ``[Hkv, pages, D]`` (a copy)."""
        return self._impl.bounds()[0]

    @property
    def kmax(self) -> Any:
        """Per-channel maximum, float32 ``[Hkv, pages, D]`` (a copy)."""
        return self._impl.bounds()[1]

    def append(self, k_new: Any, *, threads: int | None = None) -> None:
        """Extend the bounds with new keys ``[Hkv, n, D]`` (positions nk .. nk + n - 1).

        >>> import numpy as np
        >>> meta = page_meta(np.zeros((1, 3, 4), np.float32), 2)
        >>> meta.append(np.ones((1, 2, 4), np.float32))
        >>> meta.nk, meta.pages, meta.kmax[0, 1].tolist()
        (5, 3, [1.0, 1.0, 1.0, 1.0])
        """
        if self._device is not None:
            if not on_device(k_new):
                raise InvalidInputError("these pages live on the GPU: append CuPy keys")
            self._device.append(k_new)
            return
        if on_device(k_new):
            raise InvalidInputError("these pages live in host memory: append NumPy keys")
        k = heads_array(k_new, "k_new")
        if str(k.dtype) != self.dtype:
            raise InvalidInputError(
                f"k_new is {k.dtype} but the pages hold {self.dtype} keys; convert with "
                f"k_new.astype(np.{self.dtype})"
            )
        self._native.append(k, threads_arg(threads))

    def __repr__(self) -> str:
        where = "gpu" if self.on_gpu else "cpu"
        return (
            f"PageMeta(heads={self.heads}, nk={self.nk}, pages={self.pages}, "
            f"page_size={self.page_size}, dim={self.dim}, dtype={self.dtype}, {where})"
        )


def page_meta(k: Any, page_size: int, *, threads: int | None = None) -> PageMeta:
    """Per-page key bounds of `k` ``[Hkv, Nk, D]`` (float32 or float16; CuPy for the GPU).

    >>> import numpy as np
    >>> k = np.array([[[1, -2], [3, 0], [-1, 5]]], dtype=np.float32)
    >>> meta = page_meta(k, 2)
    >>> meta.kmin.tolist(), meta.kmax.tolist()
    ([[[1.0, -2.0], [-1.0, 5.0]]], [[[3.0, 0.0], [-1.0, 5.0]]])
    """
    page_size = check_int(page_size, "page_size", minimum=1)
    if on_device(k):
        return PageMeta(device=_device.DevicePages.build(k, page_size))
    k = heads_array(k, "k")
    native = core.attn.PageMeta(str(k.dtype), k.shape[0], k.shape[2], page_size)
    native.append(k, threads_arg(threads))
    return PageMeta(native=native)


def quest_scores(q: Any, meta: PageMeta, *, threads: int | None = None) -> Any:
    """Quest's upper bound of ``q.k`` over every page: float32 ``[Hq, Nq, pages]``.

    ``score = sum_d max(q_d * kmin_d, q_d * kmax_d)``, computed as
    ``sum_d q_d * (kmax_d if q_d >= 0 else kmin_d)`` (the same number for finite products; a
    channel with ``q_d == 0`` adds ``0 * kmax_d``). Query head h reads KV head
    ``h // (Hq // Hkv)``. Scores of pages after a query's position are computed too;
    :func:`select_pages` leaves them out.

    >>> import numpy as np
    >>> k = np.array([[[1, -2], [3, 0], [-1, 5]]], dtype=np.float32)
    >>> quest_scores(np.array([[[1, -1]]], np.float32), page_meta(k, 2)).tolist()
    [[[5.0, -6.0]]]
    """
    if not isinstance(meta, PageMeta):
        raise InvalidInputError(f"meta must be a PageMeta from page_meta(), got {type(meta)}")
    check_heads_shape(tuple(q.shape), q.dtype, "q")
    hq, nq, d = q.shape
    if d != meta.dim:
        raise InvalidInputError(f"q has head dimension {d} but the pages hold D={meta.dim} keys")
    if hq % meta.heads:
        raise InvalidInputError(
            f"the query heads Hq={hq} must be a multiple of the KV heads Hkv={meta.heads}"
        )
    if nq > meta.nk:
        raise InvalidInputError(
            f"more queries than keys (Nq={nq} > Nk={meta.nk}): queries are the last Nq positions"
        )
    if meta.on_gpu:
        if not on_device(q):
            raise InvalidInputError("the pages live on the GPU: pass q as a CuPy array")
        return _device.quest_scores(q, meta._device)
    if on_device(q):
        raise InvalidInputError("the pages live in host memory: pass q as a NumPy array")
    return core.attn.quest_scores(heads_array(q, "q"), meta._native, threads_arg(threads))


def select_pages(
    scores: Any,
    budget: int,
    *,
    page_size: int,
    nk: int | None = None,
    sink: int = 1,
    local: int = 1,
    threads: int | None = None,
) -> Selection:
    """The top-`budget` pages per (head, query) by score, as a page :class:`Selection`.

    `scores` is ``[Hq, Nq, pages]`` (from :func:`quest_scores`, or any score). Query i sits at
    position ``nk - Nq + i`` on page ``qp``; only pages ``0..qp`` are candidates (causal), the
    first `sink` and the last `local` of them (``qp - local + 1 .. qp``) are always taken, and
    each row holds ``min(budget, qp + 1)`` pages, ascending. NaN scores rank last; ties go to the
    lower page. `nk` (``meta.nk``) is needed when there is more than one query per head, to place
    each query; with one query its page is the last (without `nk` the selection then assumes a
    full last page: pass it for exact layouts such as ``last_page_len``).

    >>> import numpy as np
    >>> scores = np.array([[[0.0, 9.0, 1.0, 7.0, 2.0]]], np.float32)
    >>> select_pages(scores, 3, page_size=16).row(0, 0).tolist()
    [0, 1, 4]
    """
    budget = check_int(budget, "budget", minimum=1)
    page_size = check_int(page_size, "page_size", minimum=1)
    sink, local = check_int(sink, "sink"), check_int(local, "local")
    if len(scores.shape) != 3:
        raise InvalidInputError(f"scores must be 3-D [Hq, Nq, pages], got {tuple(scores.shape)}")
    hq, nq, pages = scores.shape
    if nk is None:
        if nq > 1:
            raise InvalidInputError(
                "select_pages needs nk= (the number of keys, meta.nk) when there is more than "
                "one query per head, to place each query on its page"
            )
        nk = pages * page_size
    nk = check_int(nk, "nk")
    if pages != -(-nk // page_size):
        raise InvalidInputError(
            f"scores have {pages} pages but nk={nk} keys make {-(-nk // page_size)} pages "
            f"of {page_size}"
        )
    if budget < sink + local:
        raise InvalidInputError(
            f"budget ({budget} pages) must be at least sink + local ({sink + local}): lower "
            "sink or local, or raise the budget"
        )
    if on_device(scores):
        indptr, indices = _device.select_pages(scores, nk, page_size, budget, sink, local)
        validate = False
    else:
        if not isinstance(scores, np.ndarray) or scores.dtype != np.float32:
            raise InvalidInputError("scores must be a float32 array; try scores.astype(np.float32)")
        scores = np.ascontiguousarray(scores)
        indptr, indices = core.attn.select_pages(
            scores, nk, page_size, budget, sink, local, threads_arg(threads)
        )
        validate = False
    return Selection(
        indptr,
        indices,
        unit="page",
        unit_size=page_size,
        heads=hq,
        nq=nq,
        nk=nk,
        validate=validate,
    )
