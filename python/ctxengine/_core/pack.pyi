"""
Packing: near-duplicate sketches and selection
"""

from __future__ import annotations

import typing

import numpy
import numpy.typing

__all__: list[str] = ["minhash_sketches", "select_greedy", "sketch_empty", "sketch_jaccard"]

def minhash_sketches(
    data: bytes,
    offsets: numpy.typing.NDArray[numpy.int64],
    k: typing.SupportsInt | typing.SupportsIndex,
    shingle: typing.SupportsInt | typing.SupportsIndex,
    threads: typing.SupportsInt | typing.SupportsIndex = 0,
) -> numpy.typing.NDArray[numpy.uint32]:
    """
    MinHash sketches (n x k uint64) of the UTF-8 texts data[offsets[i]:offsets[i+1]].
    """

def select_greedy(
    relevance: numpy.typing.NDArray[numpy.float64],
    cost: numpy.typing.NDArray[numpy.int64],
    group: numpy.typing.NDArray[numpy.int32],
    anchor: numpy.typing.NDArray[numpy.int32],
    sketches: numpy.typing.NDArray[numpy.uint32],
    status: numpy.typing.NDArray[numpy.int8],
    max_sim: numpy.typing.NDArray[numpy.float64],
    budget: typing.SupportsInt | typing.SupportsIndex,
    diversity: typing.SupportsFloat | typing.SupportsIndex,
    duplicate_threshold: typing.SupportsFloat | typing.SupportsIndex,
    max_per_group: typing.SupportsInt | typing.SupportsIndex,
    by_density: bool = True,
) -> numpy.typing.NDArray[numpy.int64]:
    """
    Greedy selection under a token budget (csrc/pack/select.hpp); state updated in place.
    """

def sketch_jaccard(
    a: numpy.typing.NDArray[numpy.uint32], b: numpy.typing.NDArray[numpy.uint32]
) -> float:
    """
    Estimated Jaccard similarity of two sketches.
    """

sketch_empty: int = 4294967295
