// AVX2 attention logits: a tile of keys is converted to float32 and transposed once
// (scratch[d][j]), then a 6-row x 16-key register tile accumulates over D with FMAs, so each
// loaded key vector serves six queries (the GEMM micro-kernel shape of BLIS/OpenBLAS, small).
#include <algorithm>

#include "attn/avx2_util.hpp"
#include "attn/kernels.hpp"

namespace ctxengine::attn::detail {

#ifdef CTX_ATTN_AVX2
namespace {

template <int NR>
void tile(const float* q, std::size_t dim, const float* packed, std::size_t width, std::size_t jj,
          std::size_t valid, float* out, std::size_t ld) {
  __m256 acc[NR][2];
  for (int r = 0; r < NR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (std::size_t d = 0; d < dim; ++d) {
    const __m256 b0 = _mm256_loadu_ps(packed + d * width + jj);
    const __m256 b1 = _mm256_loadu_ps(packed + d * width + jj + 8);
    for (int r = 0; r < NR; ++r) {
      const __m256 a = _mm256_broadcast_ss(q + r * dim + d);
      acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
    }
  }
  for (int r = 0; r < NR; ++r) {
    if (valid >= 16) {
      _mm256_storeu_ps(out + r * ld + jj, acc[r][0]);
      _mm256_storeu_ps(out + r * ld + jj + 8, acc[r][1]);
    } else {
      alignas(32) float tmp[16];
      _mm256_store_ps(tmp, acc[r][0]);
      _mm256_store_ps(tmp + 8, acc[r][1]);
      std::copy_n(tmp, valid, out + r * ld + jj);
    }
  }
}

using TileFn = void (*)(const float*, std::size_t, const float*, std::size_t, std::size_t,
                        std::size_t, float*, std::size_t);
constexpr TileFn kTiles[7] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>, tile<5>, tile<6>};

}  // namespace

void logits_avx2(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                 std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch) {
  const std::size_t dim = k.dim, n = j1 - j0;
  const std::size_t width = (n + 15) / 16 * 16;
  pack_keys(k, head, j0, n, width, scratch);
  for (std::size_t jj = 0; jj < n; jj += 16) {
    const std::size_t valid = std::min<std::size_t>(16, n - jj);
    for (std::size_t r = 0; r < nrows; r += 6) {
      const std::size_t nr = std::min<std::size_t>(6, nrows - r);
      kTiles[nr](q + r * dim, dim, scratch, width, jj, valid, out + r * ld, ld);
    }
  }
}

float exp_scale_avx2(float* x, std::size_t n, float shift, float scale) {
  const __m256 m = _mm256_set1_ps(shift), c = _mm256_set1_ps(scale);
  __m256 acc = _mm256_setzero_ps();
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 e = _mm256_mul_ps(exp8(_mm256_sub_ps(_mm256_loadu_ps(x + j), m)), c);
    _mm256_storeu_ps(x + j, e);
    acc = _mm256_add_ps(acc, e);
  }
  float s = hsum(acc);
  for (; j < n; ++j) {  // the tail through the same vector exp, one lane at a time
    alignas(32) float tmp[8] = {x[j] - shift};
    _mm256_store_ps(tmp, _mm256_mul_ps(exp8(_mm256_load_ps(tmp)), c));
    x[j] = tmp[0];
    s += tmp[0];
  }
  return s;
}
#else
void logits_avx2(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                 std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch) {
  logits_scalar(q, nrows, k, head, j0, j1, out, ld, scratch);
}
float exp_scale_avx2(float* x, std::size_t n, float shift, float scale) {
  return exp_scale_scalar(x, n, shift, scale);
}
#endif

}  // namespace ctxengine::attn::detail
