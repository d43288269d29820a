// AVX2 + F16C Quest scores: a page's bounds are converted once (vcvtph2ps) and serve up to four
// query rows held in registers; per row and 8 channels one blend (the bound the query's sign
// picks) and one FMA. Memory-bound at decode: the bounds stream through once per KV head.
#include <vector>

#include "attn/avx2_util.hpp"
#include "attn/kernels.hpp"

namespace ctxengine::attn::detail {

#ifdef CTX_ATTN_AVX2
namespace {

template <int NR>
void quest_rows(const float* q, const __m256* qv, const __m256* qpos, const void* kmin,
                const void* kmax, DType dtype, std::size_t pages, std::size_t dim, std::size_t vec,
                float* out, std::size_t ld) {
  for (std::size_t p = 0; p < pages; ++p) {
    __m256 acc[NR];
    for (int r = 0; r < NR; ++r) acc[r] = _mm256_setzero_ps();
    const std::size_t base = p * dim;
    for (std::size_t v = 0; v < vec; ++v) {
      const __m256 lo = load8(kmin, dtype, base + v * 8);
      const __m256 hi = load8(kmax, dtype, base + v * 8);
      for (int r = 0; r < NR; ++r) {
        const __m256 bound = _mm256_blendv_ps(lo, hi, qpos[r * vec + v]);
        acc[r] = _mm256_fmadd_ps(qv[r * vec + v], bound, acc[r]);
      }
    }
    for (int r = 0; r < NR; ++r) {
      float s = hsum(acc[r]);
      const float* qr = q + r * dim;
      for (std::size_t d = vec * 8; d < dim; ++d) {
        const float b = qr[d] >= 0.0f ? load1(kmax, dtype, base + d) : load1(kmin, dtype, base + d);
        s += qr[d] * b;
      }
      out[r * ld + p] = s;
    }
  }
}

}  // namespace

void quest_avx2(const float* q, std::size_t nrows, const void* kmin, const void* kmax, DType dtype,
                std::size_t pages, std::size_t dim, float* out, std::size_t ld) {
  const std::size_t vec = dim / 8;
  // Queries and their sign masks (all-ones where q >= 0, which picks kmax) as vectors.
  std::vector<__m256> qv(nrows * vec), qpos(nrows * vec);
  for (std::size_t r = 0; r < nrows; ++r) {
    for (std::size_t v = 0; v < vec; ++v) {
      const __m256 x = _mm256_loadu_ps(q + r * dim + v * 8);
      qv[r * vec + v] = x;
      qpos[r * vec + v] = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    }
  }
  std::size_t r = 0;
  for (; r + 4 <= nrows; r += 4)
    quest_rows<4>(q + r * dim, &qv[r * vec], &qpos[r * vec], kmin, kmax, dtype, pages, dim, vec,
                  out + r * ld, ld);
  const __m256* qvr = qv.data() + r * vec;
  const __m256* qpr = qpos.data() + r * vec;
  switch (nrows - r) {
    case 3:
      quest_rows<3>(q + r * dim, qvr, qpr, kmin, kmax, dtype, pages, dim, vec, out + r * ld, ld);
      break;
    case 2:
      quest_rows<2>(q + r * dim, qvr, qpr, kmin, kmax, dtype, pages, dim, vec, out + r * ld, ld);
      break;
    case 1:
      quest_rows<1>(q + r * dim, qvr, qpr, kmin, kmax, dtype, pages, dim, vec, out + r * ld, ld);
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
