"""
Scoring kernels
"""

from __future__ import annotations

import typing

import numpy
import numpy.typing

__all__: list[str] = ["inner_product_topk"]

def inner_product_topk(
    queries: numpy.typing.NDArray[numpy.float32],
    base: numpy.typing.NDArray[numpy.float32],
    k: typing.SupportsInt | typing.SupportsIndex,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> tuple[numpy.typing.NDArray[numpy.float32], numpy.typing.NDArray[numpy.int64]]:
    """
    Exact inner-product top-k (float32, C-contiguous). Returns (scores, ids), each nq x k.
    """
