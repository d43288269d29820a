"""Coverage: the share of each query's true causal softmax mass a selection keeps, and the
exact best selection (the oracle) as its ceiling. The metric compares selection methods
without a model ("attention recall")."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._native import core
from ..errors import InvalidInputError
from ._arrays import check_int, check_qk, heads_array, on_device, threads_arg
from .selection import Selection

__all__ = ["coverage", "oracle_topk"]


def _host_qk(q: Any, k: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    check_qk(q, k)
    if on_device(q, k):
        raise InvalidInputError(
            f"{what} runs on the CPU: pass NumPy arrays (cupy.asnumpy(q), cupy.asnumpy(k))"
        )
    return heads_array(q, "q"), heads_array(k, "k")


def _scale(scale: float | None) -> float:
    if scale is None:
        return 0.0
    if not scale > 0:
        raise InvalidInputError(f"scale must be positive, got {scale!r}")
    return float(scale)


def coverage(
    q: Any, k: Any, selection: Selection, *, scale: float | None = None, threads: int | None = None
) -> np.ndarray:
    """Per (head, query), the share of ``softmax(q.k * scale)`` over its causal keys (positions
    ``<= nk - Nq + i``) that `selection` keeps: float32 ``[Hq, Nq]`` in [0, 1].

    `scale` defaults to ``1/sqrt(D)``; a selection with one head applies to every head. The
    softmax is IEEE float32: a query whose causal logits hold NaN or +inf, or are all -inf, gets
    NaN. Keys a selection names beyond a query's position do not count.

    >>> import numpy as np
    >>> q = np.zeros((1, 1, 4), np.float32); k = np.zeros((1, 4, 4), np.float32)
    >>> sel = Selection(np.array([0, 1]), np.array([2]), unit="token", unit_size=1, heads=1,
    ...                 nq=1, nk=4)
    >>> coverage(q, k, sel).tolist()
    [[0.25]]
    """
    q, k = _host_qk(q, k, "coverage")
    if not isinstance(selection, Selection):
        raise InvalidInputError(f"selection must be a Selection, got {type(selection).__name__}")
    if selection.nq != q.shape[1]:
        raise InvalidInputError(
            f"the selection is for nq={selection.nq} queries but q has {q.shape[1]}"
        )
    units = -(-k.shape[1] // selection.unit_size)
    if selection.units is not None and selection.units != units:
        raise InvalidInputError(
            f"the selection is for nk={selection.nk} keys but k has {k.shape[1]}"
        )
    if selection.heads not in (1, q.shape[0]):
        raise InvalidInputError(
            f"the selection has {selection.heads} heads but q has {q.shape[0]} (use Hq or 1)"
        )
    indptr, indices = selection.indptr, selection.indices
    if not isinstance(indices, np.ndarray):
        indptr, indices = indptr.get(), indices.get()
    return core.attn.coverage(
        q,
        k,
        indptr,
        indices,
        selection.heads,
        selection.rows_per_head,
        selection.query_block,
        selection.unit_size,
        _scale(scale),
        threads_arg(threads),
    )


def oracle_topk(
    q: Any,
    k: Any,
    budget: int,
    *,
    page_size: int = 1,
    scale: float | None = None,
    threads: int | None = None,
) -> Selection:
    """The exact best selection of `budget` units per (head, query): with ``page_size=1`` the
    causal keys with the largest logits (a token :class:`Selection`, the most softmax mass any
    `budget` keys can hold), else the `budget` pages of `page_size` keys that hold the most
    softmax mass (a page selection). NaN ranks last, ties go to the lower index, rows ascend.

    >>> import numpy as np
    >>> q = np.ones((1, 1, 2), np.float32)
    >>> k = np.array([[[1, 0], [5, 5], [0, 0], [2, 2]]], np.float32)
    >>> oracle_topk(q, k, 2).row(0, 0).tolist()
    [1, 3]
    """
    q, k = _host_qk(q, k, "oracle_topk")
    budget = check_int(budget, "budget", minimum=1)
    page_size = check_int(page_size, "page_size", minimum=1)
    indptr, indices = core.attn.oracle_topk(
        q, k, budget, page_size, _scale(scale), threads_arg(threads)
    )
    return Selection(
        indptr,
        indices,
        unit="token" if page_size == 1 else "page",
        unit_size=page_size,
        heads=q.shape[0],
        nq=q.shape[1],
        nk=k.shape[1],
        validate=False,
    )
