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

}  // namespace
}  // namespace ctxengine::attn::detail
#endif
