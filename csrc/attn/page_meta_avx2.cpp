// AVX2 + F16C page bounds: eight channels at a time, NaN tracked by a mask so it propagates as in
// the scalar kernel (vminps alone would drop a NaN input).
#include "attn/avx2_util.hpp"
#include "attn/kernels.hpp"

namespace ctxengine::attn::detail {

#ifdef CTX_ATTN_AVX2
bool avx2_compiled() {
  return true;
}

void minmax_avx2(const void* rows, DType dtype, std::size_t n, std::size_t dim, float* lo,
                 float* hi) {
  const __m256 nan = _mm256_set1_ps(__builtin_nanf(""));
  std::size_t d = 0;
  for (; d + 8 <= dim; d += 8) {
    __m256 l = _mm256_loadu_ps(lo + d), h = _mm256_loadu_ps(hi + d);
    __m256 bad = _mm256_setzero_ps();
    for (std::size_t i = 0; i < n; ++i) {
      const __m256 x = load8(rows, dtype, i * dim + d);
      l = _mm256_min_ps(x, l);  // a NaN bound stays: vminps returns the second operand
      h = _mm256_max_ps(x, h);
      bad = _mm256_or_ps(bad, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    }
    _mm256_storeu_ps(lo + d, _mm256_blendv_ps(l, nan, bad));
    _mm256_storeu_ps(hi + d, _mm256_blendv_ps(h, nan, bad));
  }
  for (; d < dim; ++d) {
    for (std::size_t i = 0; i < n; ++i) {
      const float x = load1(rows, dtype, i * dim + d);
      if (x < lo[d] || x != x) lo[d] = x;
      if (x > hi[d] || x != x) hi[d] = x;
    }
  }
}
#else
bool avx2_compiled() {
  return false;
}
void minmax_avx2(const void* rows, DType dtype, std::size_t n, std::size_t dim, float* lo,
                 float* hi) {
  minmax_scalar(rows, dtype, n, dim, lo, hi);
}
#endif

}  // namespace ctxengine::attn::detail
