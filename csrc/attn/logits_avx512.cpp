// AVX-512 attention logits: the AVX2 kernel's shape with 512-bit registers, an 8-row x 32-key
// register tile (16 accumulators) over the same transposed key panel (pack_keys). The logits are
// the dominant cost of vertical_slash, coverage and oracle_topk; every other kernel keeps its AVX2
// variant at this level.
#include <algorithm>

#include "attn/avx2_util.hpp"
#include "attn/kernels.hpp"

namespace ctxengine::attn::detail {

#if defined(CTX_ATTN_AVX2) && defined(__AVX512F__)
bool avx512_compiled() {
  return true;
}

namespace {

template <int NR>
void tile512(const float* q, std::size_t dim, const float* packed, std::size_t width,
             std::size_t jj, std::size_t valid, float* out, std::size_t ld) {
  __m512 acc[NR][2];
  for (int r = 0; r < NR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (std::size_t d = 0; d < dim; ++d) {
    const __m512 b0 = _mm512_loadu_ps(packed + d * width + jj);
    const __m512 b1 = _mm512_loadu_ps(packed + d * width + jj + 16);
    for (int r = 0; r < NR; ++r) {
      const __m512 a = _mm512_set1_ps(q[r * dim + d]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
  }
  const __mmask16 m0 = static_cast<__mmask16>(valid >= 16 ? 0xFFFF : (1u << valid) - 1);
  const __mmask16 m1 = static_cast<__mmask16>(valid >= 32   ? 0xFFFF
                                              : valid <= 16 ? 0
                                                            : (1u << (valid - 16)) - 1);
  for (int r = 0; r < NR; ++r) {
    _mm512_mask_storeu_ps(out + r * ld + jj, m0, acc[r][0]);
    _mm512_mask_storeu_ps(out + r * ld + jj + 16, m1, acc[r][1]);
  }
}

using TileFn = void (*)(const float*, std::size_t, const float*, std::size_t, std::size_t,
                        std::size_t, float*, std::size_t);
constexpr TileFn kTiles[9] = {nullptr,    tile512<1>, tile512<2>, tile512<3>, tile512<4>,
                              tile512<5>, tile512<6>, tile512<7>, tile512<8>};

}  // namespace

void logits_avx512(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                   std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch) {
  const std::size_t dim = k.dim, n = j1 - j0;
  const std::size_t width = (n + 31) / 32 * 32;
  pack_keys(k, head, j0, n, width, scratch);
  for (std::size_t jj = 0; jj < n; jj += 32) {
    const std::size_t valid = std::min<std::size_t>(32, n - jj);
    for (std::size_t r = 0; r < nrows; r += 8) {
      const std::size_t nr = std::min<std::size_t>(8, nrows - r);
      kTiles[nr](q + r * dim, dim, scratch, width, jj, valid, out + r * ld, ld);
    }
  }
}
#else
bool avx512_compiled() {
  return false;
}
void logits_avx512(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                   std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch) {
  logits_avx2(q, nrows, k, head, j0, j1, out, ld, scratch);
}
#endif

}  // namespace ctxengine::attn::detail
