// Exact inner-product top-k over float32 embeddings: the CPU twin of the CUDA kernel in
// csrc/cuda/topk_ip.cu and the reference that dense retrieval is checked against.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ctxengine {

// For each of the nq query rows (dim floats each, row-major), the k rows of `base` (n x dim) with
// the largest inner product, best first; ties go to the lower row id, so the result is one
// total order and does not depend on the thread count. A NaN score (from a NaN in the input)
// counts as -inf, so it ranks last. Requires 1 <= k <= n.
// out_scores and out_ids are nq x k, row-major.
void inner_product_topk(const float* queries, std::size_t nq, const float* base, std::size_t n,
                        std::size_t dim, std::size_t k, float* out_scores, int64_t* out_ids,
                        std::size_t threads);

// The dot product every path uses: eight interleaved partial sums added in a fixed order, so the
// result is the same bit for bit wherever it is computed on the CPU.
float dot_product(const float* a, const float* b, std::size_t dim) noexcept;

}  // namespace ctxengine
