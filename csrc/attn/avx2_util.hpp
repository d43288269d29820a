// AVX2 helpers for the *_avx2.cpp files only (they are compiled with -mavx2 -mfma -mf16c). Every
// helper has internal linkage, so no other translation unit links against AVX2 code by accident.
#pragma once

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define CTX_ATTN_AVX2 1
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "attn/tensor.hpp"

namespace ctxengine::attn::detail {
namespace {

// Eight values at `p + i` (float32 or float16 bits) as float32.
inline __m256 load8(const void* p, DType dtype, std::size_t i) {
  if (dtype == DType::F32) return _mm256_loadu_ps(static_cast<const float*>(p) + i);
  return _mm256_cvtph_ps(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i)));
}

inline float load1(const void* p, DType dtype, std::size_t i) {
  return dtype == DType::F32 ? static_cast<const float*>(p)[i]
                             : half_to_float(static_cast<const uint16_t*>(p)[i]);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// exp(x) in float32 to ~2 ulp (Cephes' expf: x = n ln2 + r, a degree-6 polynomial in r, times
// 2^n). exp(-inf) and every x below -87.3 give 0 (std::exp gives subnormals there, all below
// 1.2e-38), +inf above 88.7, NaN stays NaN.
inline __m256 exp8(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.3762626647949f);
  const __m256 lo = _mm256_set1_ps(-87.3365478515625f);
  const __m256 is_nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  const __m256 over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
  __m256 v = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
  const __m256 fx = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  v = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), v);
  v = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), v);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, v, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(v, v), _mm256_add_ps(v, _mm256_set1_ps(1.0f)));
  const __m256i n = _mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127));
  y = _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(n, 23)));
  y = _mm256_andnot_ps(under, y);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), over);
  return _mm256_blendv_ps(y, x, is_nan);
}

// In-register transpose of an 8 x 8 float block (rows r[0..7] become columns).
inline void transpose8(__m256* r) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Keys [j0, j0 + n) of one head, as float32, transposed into scratch[d * width + j] (width >= n,
// the padding columns zero), 8 keys x 8 channels at a time through registers: the packed panel
// the logits micro-kernels stream.
inline void pack_keys(const HeadsView& k, std::size_t head, std::size_t j0, std::size_t n,
                      std::size_t width, float* scratch) {
  const std::size_t dim = k.dim;
  auto row_of = [&](std::size_t j) -> const void* {
    return k.dtype == DType::F32 ? static_cast<const void*>(k.f32(head, j0 + j))
                                 : static_cast<const void*>(k.f16(head, j0 + j));
  };
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const void* rows[8];
    for (int t = 0; t < 8; ++t) rows[t] = row_of(j + t);
    std::size_t d = 0;
    for (; d + 8 <= dim; d += 8) {
      __m256 r[8];
      for (int t = 0; t < 8; ++t) r[t] = load8(rows[t], k.dtype, d);
      transpose8(r);
      for (int t = 0; t < 8; ++t) _mm256_storeu_ps(scratch + (d + t) * width + j, r[t]);
    }
    for (; d < dim; ++d)
      for (int t = 0; t < 8; ++t) scratch[d * width + j + t] = load1(rows[t], k.dtype, d);
  }
  for (; j < width; ++j) {
    if (j < n) {
      const void* row = row_of(j);
      for (std::size_t d = 0; d < dim; ++d) scratch[d * width + j] = load1(row, k.dtype, d);
    } else {
      for (std::size_t d = 0; d < dim; ++d) scratch[d * width + j] = 0.0f;
    }
  }
}

}  // namespace
}  // namespace ctxengine::attn::detail
#endif
