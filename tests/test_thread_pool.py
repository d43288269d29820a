"""The shared thread pool: every block runs exactly once, errors reach the caller."""

from __future__ import annotations

import threading

import pytest

from ctxengine import InvalidInputError, _core

probe = _core._testing


@pytest.mark.parametrize("n", [0, 1, 7, 1000, 100_003])
@pytest.mark.parametrize("grain", [1, 3, 64, 10_000])
@pytest.mark.parametrize("threads", [1, 2, 5, 0])
def test_blocks_cover_the_range_exactly_once(n: int, grain: int, threads: int) -> None:
    assert probe.parallel_sum_of_indices(n, grain, threads) == n * (n - 1) // 2


@pytest.mark.parametrize("threads", [1, 2, 8])
def test_first_error_is_raised_in_the_caller(threads: int) -> None:
    with pytest.raises(InvalidInputError, match="item 123 failed"):
        probe.parallel_throw_at(1000, 123, threads)
    probe.parallel_throw_at(1000, 5000, threads)  # fail_at outside the range: no error


def test_concurrent_callers_share_the_pool() -> None:
    results: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        total = probe.parallel_sum_of_indices(200_000, 97, 2)
        with lock:
            results.append(total)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200_000 * 199_999 // 2] * 8


def test_resolve_threads() -> None:
    assert _core.resolve_threads(3) == 3
    assert _core.resolve_threads(0) >= 1
