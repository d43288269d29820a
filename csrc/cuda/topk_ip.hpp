// Host interface of the CUDA kernels, free of CUDA headers so that the pybind11 bindings compile
// with the host compiler. All pointers are device pointers; `stream` is a cudaStream_t as an
// integer (0 = the legacy default stream). Calls return after the work has finished.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ctxengine::cuda {

// Number of usable CUDA devices; 0 when there is no driver, no device or the runtime fails.
int device_count() noexcept;
std::string device_name(int device);

// GPU twin of ctxengine::inner_product_topk (csrc/score/topk.hpp): same contract, same
// (score desc, id asc) order; scores may differ from the CPU's in the last bits because the
// summation order differs. Requires 1 <= k <= min(n, kMaxK).
inline constexpr std::size_t kMaxK = 2048;
void inner_product_topk(const float* queries, std::size_t nq, const float* base, std::size_t n,
                        std::size_t dim, std::size_t k, float* out_scores, int64_t* out_ids,
                        std::uintptr_t stream);

}  // namespace ctxengine::cuda
