"""
Sparse-attention scoring kernels
"""

from __future__ import annotations

import typing

import numpy
import numpy.typing

__all__: list[str] = [
    "PageMeta",
    "block_topk",
    "coverage",
    "hamming_topk",
    "hash_codes",
    "oracle_topk",
    "quest_scores",
    "select_pages",
    "set_simd_level",
    "simd_level",
    "streaming",
    "vertical_slash",
]

class PageMeta:
    """
    Per-page key bounds (Quest)
    """
    def __init__(
        self,
        dtype: str,
        heads: typing.SupportsInt | typing.SupportsIndex,
        dim: typing.SupportsInt | typing.SupportsIndex,
        page_size: typing.SupportsInt | typing.SupportsIndex,
    ) -> None: ...
    def append(
        self,
        keys: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
        threads: typing.SupportsInt | typing.SupportsIndex = 0,
    ) -> None: ...
    def bounds(
        self,
    ) -> tuple[numpy.typing.NDArray[numpy.float32], numpy.typing.NDArray[numpy.float32]]:
        """
        (kmin, kmax) as float32 [heads, pages, dim] copies.
        """
    @property
    def capacity(self) -> int: ...
    @property
    def dim(self) -> int: ...
    @property
    def dtype(self) -> str: ...
    @property
    def heads(self) -> int: ...
    @property
    def keys(self) -> int: ...
    @property
    def page_size(self) -> int: ...
    @property
    def pages(self) -> int: ...

def block_topk(
    q: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    k: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    block: typing.SupportsInt | typing.SupportsIndex,
    top_k: typing.SupportsInt | typing.SupportsIndex,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> tuple: ...
def coverage(
    q: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    k: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    indptr: numpy.typing.NDArray[numpy.int32],
    indices: numpy.typing.NDArray[numpy.int32],
    heads: typing.SupportsInt | typing.SupportsIndex,
    rows_per_head: typing.SupportsInt | typing.SupportsIndex,
    query_block: typing.SupportsInt | typing.SupportsIndex,
    unit_size: typing.SupportsInt | typing.SupportsIndex,
    scale: typing.SupportsFloat | typing.SupportsIndex = 0.0,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> numpy.typing.NDArray[numpy.float32]: ...
def hamming_topk(
    q_codes: numpy.typing.NDArray[numpy.uint32],
    k_codes: numpy.typing.NDArray[numpy.uint32],
    top_k: typing.SupportsInt | typing.SupportsIndex,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> tuple: ...
def hash_codes(
    x: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    planes: numpy.typing.NDArray[numpy.float32],
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> numpy.typing.NDArray[numpy.uint32]: ...
def oracle_topk(
    q: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    k: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    budget: typing.SupportsInt | typing.SupportsIndex,
    page_size: typing.SupportsInt | typing.SupportsIndex = 1,
    scale: typing.SupportsFloat | typing.SupportsIndex = 0.0,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> tuple: ...
def quest_scores(
    q: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    meta: PageMeta,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> numpy.typing.NDArray[numpy.float32]: ...
def select_pages(
    scores: numpy.typing.NDArray[numpy.float32],
    nk: typing.SupportsInt | typing.SupportsIndex,
    page_size: typing.SupportsInt | typing.SupportsIndex,
    budget: typing.SupportsInt | typing.SupportsIndex,
    sink: typing.SupportsInt | typing.SupportsIndex,
    local: typing.SupportsInt | typing.SupportsIndex,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> tuple: ...
def set_simd_level(name: str) -> None:
    """
    Force 'scalar', 'avx2' or 'avx512', or 'auto' (the CPU and CTXENGINE_SIMD decide).
    """

def simd_level() -> str:
    """
    The instruction set the kernels use: 'avx512', 'avx2' or 'scalar'.
    """

def streaming(
    nq: typing.SupportsInt | typing.SupportsIndex,
    nk: typing.SupportsInt | typing.SupportsIndex,
    sink: typing.SupportsInt | typing.SupportsIndex,
    window: typing.SupportsInt | typing.SupportsIndex,
    heads: typing.SupportsInt | typing.SupportsIndex = 1,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> tuple: ...
def vertical_slash(
    q: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    k: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    last_q: typing.SupportsInt | typing.SupportsIndex,
    n_vertical: typing.SupportsInt | typing.SupportsIndex,
    n_slash: typing.SupportsInt | typing.SupportsIndex,
    sink: typing.SupportsInt | typing.SupportsIndex,
    local: typing.SupportsInt | typing.SupportsIndex,
    scale: typing.SupportsFloat | typing.SupportsIndex = 0.0,
    with_sums: bool = False,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> tuple: ...
