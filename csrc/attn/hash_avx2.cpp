// The hash loops of hash_rows.hpp compiled with AVX2/FMA/POPCNT.
#include "attn/hash_rows.hpp"
#include "attn/kernels.hpp"

namespace ctxengine::attn::detail {

void hash_avx2(const void* x, DType dtype, std::size_t n, std::size_t dim, const float* planes,
               std::size_t bits, uint32_t* out, float* acc) {
  hash_rows_impl(x, dtype, n, dim, planes, bits, out, acc);
}

void hamming_avx2(const uint32_t* q, const uint32_t* codes, std::size_t n, std::size_t words,
                  uint16_t* dist) {
  hamming_impl(q, codes, n, words, dist);
}

}  // namespace ctxengine::attn::detail
