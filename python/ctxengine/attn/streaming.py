"""StreamingLLM's pattern (Xiao et al., 2024): attention sinks plus a window of recent keys."""

from __future__ import annotations

from .._native import core
from ..errors import InvalidInputError
from ._arrays import check_int, threads_arg
from .selection import Selection

__all__ = ["streaming"]


def streaming(
    nq: int,
    nk: int,
    *,
    sink: int = 4,
    window: int = 512,
    heads: int = 1,
    threads: int | None = None,
) -> Selection:
    """Every query reads the first `sink` keys and the `window` most recent keys up to its own
    position ``p = nk - nq + i`` (``[p - window + 1, p]``): a token :class:`Selection` with the
    same rows for each of `heads` heads (a 1-head selection applies to every head).

    >>> streaming(1, 10, sink=2, window=3).row(0, 0).tolist()
    [0, 1, 7, 8, 9]
    """
    nq, nk = check_int(nq, "nq"), check_int(nk, "nk")
    sink, window = check_int(sink, "sink"), check_int(window, "window")
    heads = check_int(heads, "heads", minimum=1)
    if nq > nk:
        raise InvalidInputError(
            f"more queries than keys (nq={nq} > nk={nk}): queries are the last nq positions"
        )
    indptr, indices = core.attn.streaming(nq, nk, sink, window, heads, threads_arg(threads))
    return Selection(
        indptr, indices, unit="token", unit_size=1, heads=heads, nq=nq, nk=nk, validate=False
    )
