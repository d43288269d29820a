// AVX2 kernels: eight postings or accumulators per step, the same IEEE operations in the same
// order as the scalar ones (a multiply, an add, a divide, two multiplies: no FMA is possible, so
// none can be contracted), hence the same bits.
#include "index/kernels.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

namespace ctxengine::detail {

void score_block_avx2(const BlockScoreArgs& a, const uint32_t* docs, const uint32_t* tfs,
                      std::size_t n, float (*slow_norm)(const void*, uint32_t),
                      const void* slow_ctx, float* out) {
  const __m256 mult = _mm256_set1_ps(a.tf_mult);
  const __m256 weight = _mm256_set1_ps(a.weight);
  const __m256 idf = _mm256_set1_ps(a.idf);
  const __m256i limit = _mm256_set1_epi32(static_cast<int>(a.table_size));
  const auto* lengths = reinterpret_cast<const int*>(a.doc_lengths);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(docs + i));
    const __m256i dl = _mm256_i32gather_epi32(lengths, d, 4);
    // dl < table_size as unsigned: both are below 2^31 here (the table has at most 2^14
    // entries; a larger dl is negative as int32 and fails the signed compare too).
    const __m256i in_table = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_setzero_si256(), dl),
                                                 _mm256_cmpgt_epi32(limit, dl));
    __m256 norm = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), a.norm_table, dl,
                                           _mm256_castsi256_ps(in_table), 4);
    if (_mm256_movemask_ps(_mm256_castsi256_ps(in_table)) != 0xFF) {
      alignas(32) float lanes[8];
      alignas(32) uint32_t dls[8];
      _mm256_store_ps(lanes, norm);
      _mm256_store_si256(reinterpret_cast<__m256i*>(dls), dl);
      for (int j = 0; j < 8; ++j)
        if (dls[j] >= a.table_size) lanes[j] = slow_norm(slow_ctx, dls[j]);
      norm = _mm256_load_ps(lanes);
    }
    const __m256i tf = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tfs + i));
    // tf < 2^31 converts exactly the same as the scalar uint32 -> float conversion only when
    // it fits in int32; larger tfs (never produced by a real corpus) take the scalar path.
    if (_mm256_movemask_ps(_mm256_castsi256_ps(tf)) != 0) break;
    const __m256 f = _mm256_cvtepi32_ps(tf);
    const __m256 part = _mm256_div_ps(_mm256_mul_ps(f, mult), _mm256_add_ps(f, norm));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(weight, _mm256_mul_ps(idf, part)));
  }
  if (i < n) score_block_scalar(a, docs + i, tfs + i, n - i, slow_norm, slow_ctx, out + i);
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
