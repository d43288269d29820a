// AVX2 + F16C Quest scores: a page's bounds are converted once (vcvtph2ps) and serve up to four
// query rows held in registers; per row and 8 channels one blend (the bound the query's sign
// picks) and one FMA. Memory-bound at decode: the bounds stream through once per KV head.
#include <cstring>
#include <vector>

#include "attn/avx2_util.hpp"
#include "attn/kernels.hpp"

namespace ctxengine::attn::detail {

#ifdef CTX_ATTN_AVX2
namespace {

// The channels past the last full vector of 8 (D not a multiple of 8), one at a time.
inline float tail(const float* q, const void* kmin, const void* kmax, DType dtype, std::size_t base,
                  std::size_t from, std::size_t dim) {
  float s = 0.0f;
  for (std::size_t d = from; d < dim; ++d)
    s += q[d] * (q[d] >= 0.0f ? load1(kmax, dtype, base + d) : load1(kmin, dtype, base + d));
  return s;
}

// q: NR rows of dim floats; qpos: their sign masks (all-ones bits where q >= 0: pick kmax).
// Two pages at a time, so each row's query and mask vectors are loaded once for both.
template <int NR>
void quest_rows(const float* q, const float* qpos, const void* kmin, const void* kmax, DType dtype,
                std::size_t pages, std::size_t dim, float* out, std::size_t ld) {
  const std::size_t vec = dim / 8;
  std::size_t p = 0;
  for (; p + 2 <= pages; p += 2) {
    __m256 acc0[NR], acc1[NR];
    for (int r = 0; r < NR; ++r) acc0[r] = acc1[r] = _mm256_setzero_ps();
    const std::size_t b0 = p * dim, b1 = b0 + dim;
    for (std::size_t v = 0; v < vec; ++v) {
      const __m256 lo0 = load8(kmin, dtype, b0 + v * 8), hi0 = load8(kmax, dtype, b0 + v * 8);
      const __m256 lo1 = load8(kmin, dtype, b1 + v * 8), hi1 = load8(kmax, dtype, b1 + v * 8);
      for (int r = 0; r < NR; ++r) {
        const __m256 qv = _mm256_loadu_ps(q + r * dim + v * 8);
        const __m256 m = _mm256_loadu_ps(qpos + r * dim + v * 8);
        acc0[r] = _mm256_fmadd_ps(qv, _mm256_blendv_ps(lo0, hi0, m), acc0[r]);
        acc1[r] = _mm256_fmadd_ps(qv, _mm256_blendv_ps(lo1, hi1, m), acc1[r]);
      }
    }
    for (int r = 0; r < NR; ++r) {
      out[r * ld + p] = hsum(acc0[r]) + tail(q + r * dim, kmin, kmax, dtype, b0, vec * 8, dim);
      out[r * ld + p + 1] = hsum(acc1[r]) + tail(q + r * dim, kmin, kmax, dtype, b1, vec * 8, dim);
    }
  }
  for (; p < pages; ++p) {
    __m256 acc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = _mm256_setzero_ps();
    const std::size_t base = p * dim;
    for (std::size_t v = 0; v < vec; ++v) {
      const __m256 lo = load8(kmin, dtype, base + v * 8), hi = load8(kmax, dtype, base + v * 8);
      for (int r = 0; r < NR; ++r) {
        const __m256 bound = _mm256_blendv_ps(lo, hi, _mm256_loadu_ps(qpos + r * dim + v * 8));
        acc[r] = _mm256_fmadd_ps(_mm256_loadu_ps(q + r * dim + v * 8), bound, acc[r]);
      }
    }
    for (int r = 0; r < NR; ++r)
      out[r * ld + p] = hsum(acc[r]) + tail(q + r * dim, kmin, kmax, dtype, base, vec * 8, dim);
  }
}

}  // namespace

void quest_avx2(const float* q, std::size_t nrows, const void* kmin, const void* kmax, DType dtype,
                std::size_t pages, std::size_t dim, float* out, std::size_t ld) {
  std::vector<float> qpos(nrows * dim);
  for (std::size_t i = 0; i < nrows * dim; ++i) {
    const uint32_t bits = q[i] >= 0.0f ? 0xFFFFFFFFu : 0u;
    std::memcpy(&qpos[i], &bits, 4);
  }
  std::size_t r = 0;
  for (; r + 4 <= nrows; r += 4)
    quest_rows<4>(q + r * dim, &qpos[r * dim], kmin, kmax, dtype, pages, dim, out + r * ld, ld);
  const float* qr = q + r * dim;
  const float* pr = qpos.data() + r * dim;
  switch (nrows - r) {
    case 3:
      quest_rows<3>(qr, pr, kmin, kmax, dtype, pages, dim, out + r * ld, ld);
      break;
    case 2:
      quest_rows<2>(qr, pr, kmin, kmax, dtype, pages, dim, out + r * ld, ld);
      break;
    case 1:
      quest_rows<1>(qr, pr, kmin, kmax, dtype, pages, dim, out + r * ld, ld);
      break;
    default:
      break;
  }
}
#else
void quest_avx2(const float* q, std::size_t nrows, const void* kmin, const void* kmax, DType dtype,
                std::size_t pages, std::size_t dim, float* out, std::size_t ld) {
  quest_scalar(q, nrows, kmin, kmax, dtype, pages, dim, out, ld);
}
#endif

}  // namespace ctxengine::attn::detail
