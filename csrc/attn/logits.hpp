// Attention logits of a block of query rows against a range of one KV head's keys, in key tiles
// that keep the transposed tile in cache (the kernel is picked by simd_level()).
#pragma once

#include <cstddef>
#include <vector>

#include "attn/tensor.hpp"

namespace ctxengine::attn {

// out[r * ld + (j - j0)] = dot(q_r, k[head, j]) for r < nrows, j in [j0, j1); q is nrows x dim
// float32. `scratch` is resized as needed.
void logits_rows(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                 std::size_t j0, std::size_t j1, float* out, std::size_t ld,
                 std::vector<float>& scratch);

}  // namespace ctxengine::attn
