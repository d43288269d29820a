// AVX2 kernels: eight postings or accumulators per step, the same IEEE operations in the same
// order as the scalar ones (two multiplies: no FMA is possible, so none can be contracted), hence
// the same bits.
#include "index/kernels.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

namespace ctxengine::detail {

void score_ids_avx2(const uint32_t* ids, std::size_t n, const float* parts, float weight, float idf,
                    float* out) {
  const __m256 w = _mm256_set1_ps(weight);
  const __m256 f = _mm256_set1_ps(idf);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i id = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + i));
    const __m256 part = _mm256_i32gather_ps(parts, id, 4);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(w, _mm256_mul_ps(f, part)));
  }
  if (i < n) score_ids_scalar(ids + i, n - i, parts, weight, idf, out + i);
}

std::size_t next_above_avx2(const float* acc, std::size_t from, std::size_t n, float t) {
  const __m256 th = _mm256_set1_ps(t);
  std::size_t i = from;
  for (; i + 8 <= n; i += 8) {
    const int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(acc + i), th, _CMP_GT_OQ));
    if (m != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
  }
  return next_above_scalar(acc, i, n, t);
}

}  // namespace ctxengine::detail

#endif
