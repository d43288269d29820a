// Small probes of the thread pool that the Python tests call through ctxengine._core._testing:
// they check block coverage and first-error propagation on the real pool.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ctxengine::selftest {

// Sum of 0..n-1 computed by parallel_for blocks (each block writes its own partial sum).
uint64_t parallel_sum_of_indices(std::size_t n, std::size_t grain, std::size_t threads);

// Runs parallel_for over n items and throws an InvalidArgument error from the block holding
// item `fail_at`; returns normally when fail_at >= n.
void parallel_throw_at(std::size_t n, std::size_t fail_at, std::size_t threads);

}  // namespace ctxengine::selftest
