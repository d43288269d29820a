"""MInference's estimates (Jiang et al., 2024): block-sparse and vertical-slash patterns.

:func:`block_topk` mean-pools query and key blocks and keeps each query block's best causal key
blocks; :func:`vertical_slash` scores key columns and diagonals with the softmax of the last
`last_q` queries. :func:`vertical_slash_selection` turns the columns and diagonals into the keys
each query reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._native import core
from ..errors import InvalidInputError
from . import _device
from ._arrays import check_int, check_qk, heads_array, on_device, threads_arg
from .selection import Selection

__all__ = ["block_topk", "vertical_slash", "vertical_slash_selection"]


def block_topk(
    q: Any, k: Any, *, block: int = 64, top_k: int, threads: int | None = None
) -> Selection:
    """Per query block, the `top_k` causal key blocks by pooled score: a block
    :class:`Selection` with rows (head, query block).

    Query blocks are ``[b * block, (b + 1) * block)`` of the query index (FlashInfer's BSR rows),
    key blocks ``[j * block, (j + 1) * block)`` of the position; key block j is causal for query
    block b when it starts at or before b's last query position. Each pooled query block scores
    pooled key blocks by inner product (the means of partial blocks are over what they hold);
    NaN scores rank last, ties go to the lower block, indices ascend.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q = rng.standard_normal((2, 8, 16)).astype(np.float32)
    >>> k = rng.standard_normal((1, 8, 16)).astype(np.float32)
    >>> sel = block_topk(q, k, block=4, top_k=1)
    >>> sel.unit, sel.rows, sel.row(0, 0).tolist()
    ('block', 4, [0])
    """
    block = check_int(block, "block", minimum=1)
    top_k = check_int(top_k, "top_k", minimum=1)
    check_qk(q, k)
    if on_device(q, k):
        raise InvalidInputError(
            "block_topk has no GPU kernel yet: pass NumPy arrays (cupy.asnumpy(q), ...)"
        )
    indptr, indices = core.attn.block_topk(
        heads_array(q, "q"), heads_array(k, "k"), block, top_k, threads_arg(threads)
    )
    return Selection(
        indptr,
        indices,
        unit="block",
        unit_size=block,
        heads=q.shape[0],
        nq=q.shape[1],
        nk=k.shape[1],
        validate=False,
    )


def vertical_slash(
    q: Any,
    k: Any,
    *,
    last_q: int = 64,
    n_vertical: int,
    n_slash: int,
    sink: int = 30,
    local: int = 100,
    scale: float | None = None,
    threads: int | None = None,
) -> tuple[Any, Any]:
    """MInference's vertical-slash estimate: ``(vertical, slash)``, int32 ``[Hq, n]`` each.

    The last ``min(last_q, Nq)`` queries attend to every causal key (softmax of
    ``q.k * scale``, scale ``1/sqrt(D)`` by default). ``vertical`` holds, per head, the
    ``min(n_vertical, Nk)`` key columns with the largest attention summed over those queries,
    with the first `sink` columns always in; ``slash`` the ``min(n_slash, Nk)`` diagonal offsets
    (query position minus key position) with the largest sums, offsets below `local` always in.
    Both ascend. NaN sums rank last and ties go to the lower index; a query whose logits hold a
    NaN (or +inf) has NaN attention, which makes its head's sums NaN.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q = rng.standard_normal((2, 4, 8)).astype(np.float32)
    >>> k = rng.standard_normal((2, 50, 8)).astype(np.float32)
    >>> v, s = vertical_slash(q, k, n_vertical=3, n_slash=2, sink=1, local=1)
    >>> v.shape, s.shape, int(v[0, 0]), int(s[0, 0])
    ((2, 3), (2, 2), 0, 0)
    """
    last_q = check_int(last_q, "last_q", minimum=1)
    n_vertical = check_int(n_vertical, "n_vertical")
    n_slash = check_int(n_slash, "n_slash")
    sink, local = check_int(sink, "sink"), check_int(local, "local")
    check_qk(q, k)
    if q.shape[1] < 1:
        raise InvalidInputError("vertical_slash needs at least one query")
    if scale is not None and not scale > 0:
        raise InvalidInputError(f"scale must be positive, got {scale!r}")
    if on_device(q, k):
        return _device.vertical_slash(q, k, last_q, n_vertical, n_slash, sink, local, scale)
    v, s = core.attn.vertical_slash(
        heads_array(q, "q"),
        heads_array(k, "k"),
        last_q,
        n_vertical,
        n_slash,
        sink,
        local,
        float(scale or 0.0),
        False,
        threads_arg(threads),
    )
    return v, s


def vertical_slash_selection(vertical: Any, slash: Any, *, nq: int, nk: int) -> Selection:
    """The keys each query reads under a vertical-slash pattern, as a token :class:`Selection`:
    query i (position ``p = nk - nq + i``) of head h reads the columns ``vertical[h]`` up to p
    and the keys ``p - o`` for the offsets ``o`` in ``slash[h]`` up to p.

    >>> import numpy as np
    >>> sel = vertical_slash_selection(np.array([[0, 5]]), np.array([[0, 2]]), nq=1, nk=8)
    >>> sel.row(0, 0).tolist()
    [0, 5, 7]
    """
    nq, nk = check_int(nq, "nq"), check_int(nk, "nk")
    if nq > nk:
        raise InvalidInputError(f"more queries than keys (nq={nq} > nk={nk})")
    vertical = np.asarray(vertical if isinstance(vertical, np.ndarray) else vertical.get())
    slash = np.asarray(slash if isinstance(slash, np.ndarray) else slash.get())
    if vertical.ndim != 2 or slash.ndim != 2 or vertical.shape[0] != slash.shape[0]:
        raise InvalidInputError("vertical and slash must be 2-D [Hq, n] with the same heads")
    heads = vertical.shape[0]
    rows: list[np.ndarray] = []
    for h in range(heads):
        v = np.unique(vertical[h].astype(np.int64))
        s = np.unique(slash[h].astype(np.int64))
        for i in range(nq):
            p = nk - nq + i
            rows.append(np.union1d(v[v <= p], p - s[s <= p]))
    counts = np.array([r.size for r in rows], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    return Selection(indptr, indices, unit="token", unit_size=1, heads=heads, nq=nq, nk=nk)
