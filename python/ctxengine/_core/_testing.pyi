"""
Probes for the test suite
"""

from __future__ import annotations

import collections.abc
import typing

__all__: list[str] = ["parallel_sum_of_indices", "parallel_throw_at", "posting_block_round_trip"]

def parallel_sum_of_indices(
    n: typing.SupportsInt | typing.SupportsIndex,
    grain: typing.SupportsInt | typing.SupportsIndex,
    threads: typing.SupportsInt | typing.SupportsIndex,
) -> int: ...
def parallel_throw_at(
    n: typing.SupportsInt | typing.SupportsIndex,
    fail_at: typing.SupportsInt | typing.SupportsIndex,
    threads: typing.SupportsInt | typing.SupportsIndex,
) -> None: ...
def posting_block_round_trip(
    docs: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
    values: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
    prev: typing.SupportsInt | typing.SupportsIndex,
    slack: typing.SupportsInt | typing.SupportsIndex,
) -> list[int]: ...
