"""
Probes for the test suite
"""

from __future__ import annotations

import typing

__all__: list[str] = ["parallel_sum_of_indices", "parallel_throw_at"]

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
