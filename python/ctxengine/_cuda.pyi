"""
ctxengine CUDA kernels
"""

from __future__ import annotations

import typing

__all__: list[str] = ["device_count", "device_name", "inner_product_topk", "max_k"]

def device_count() -> int:
    """
    Usable CUDA devices (0 without a driver or GPU).
    """

def device_name(device: typing.SupportsInt | typing.SupportsIndex = 0) -> str: ...
def inner_product_topk(
    queries: typing.SupportsInt | typing.SupportsIndex,
    nq: typing.SupportsInt | typing.SupportsIndex,
    base: typing.SupportsInt | typing.SupportsIndex,
    n: typing.SupportsInt | typing.SupportsIndex,
    dim: typing.SupportsInt | typing.SupportsIndex,
    k: typing.SupportsInt | typing.SupportsIndex,
    out_scores: typing.SupportsInt | typing.SupportsIndex,
    out_ids: typing.SupportsInt | typing.SupportsIndex,
    stream: typing.SupportsInt | typing.SupportsIndex = 0,
) -> None:
    """
    GPU exact inner-product top-k over device pointers (float32 row-major; ids int64).
    """

max_k: int = 2048
