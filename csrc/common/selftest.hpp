// Small probes of the core that the Python tests call through ctxengine._core._testing: block
// coverage and first-error propagation on the real thread pool; posting blocks encoded and
// decoded again by the kernels in use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ctxengine::selftest {

// Sum of 0..n-1 computed by parallel_for blocks (each block writes its own partial sum).
uint64_t parallel_sum_of_indices(std::size_t n, std::size_t grain, std::size_t threads);

// Runs parallel_for over n items and throws an InvalidArgument error from the block holding
// item `fail_at`; returns normally when fail_at >= n.
void parallel_throw_at(std::size_t n, std::size_t fail_at, std::size_t threads);

// Encodes a posting block (docs strictly increasing, all > prev) and decodes it again from a
// buffer with `slack` more readable bytes after it (few: the byte-wise path; 16 or more: the
// unpacking kernels); returns the decoded docs followed by the decoded values. Throws
// InvalidArgument for input encode_block does not take, FormatError when decoding refuses.
std::vector<uint32_t> posting_block_round_trip(const std::vector<uint32_t>& docs,
                                               const std::vector<uint32_t>& values, int64_t prev,
                                               std::size_t slack);

}  // namespace ctxengine::selftest
