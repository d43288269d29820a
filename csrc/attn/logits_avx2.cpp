// AVX2 attention logits: a tile of keys is converted to float32 and transposed once
// (scratch[d][j]), then a 6-row x 16-key register tile accumulates over D with FMAs, so each
// loaded key vector serves six queries (the GEMM micro-kernel shape of BLIS/OpenBLAS, small).
#include <algorithm>

#include "attn/avx2_util.hpp"
#include "attn/kernels.hpp"

namespace ctxengine::attn::detail {

#ifdef CTX_ATTN_AVX2
namespace {

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

}  // namespace

void logits_avx2(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                 std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch) {
  const std::size_t dim = k.dim, n = j1 - j0;
  const std::size_t width = (n + 15) / 16 * 16;
  // Transpose the keys into scratch[d * width + j] (padding columns zero), 8 keys x 8 channels
  // at a time through registers.
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
  for (std::size_t jj = 0; jj < n; jj += 16) {
    const std::size_t valid = std::min<std::size_t>(16, n - jj);
    std::size_t r = 0;
    for (; r + 6 <= nrows; r += 6)
      tile<6>(q + r * dim, dim, scratch, width, jj, valid, out + r * ld, ld);
    switch (nrows - r) {
      case 5:
        tile<5>(q + r * dim, dim, scratch, width, jj, valid, out + r * ld, ld);
        break;
      case 4:
        tile<4>(q + r * dim, dim, scratch, width, jj, valid, out + r * ld, ld);
        break;
      case 3:
        tile<3>(q + r * dim, dim, scratch, width, jj, valid, out + r * ld, ld);
        break;
      case 2:
        tile<2>(q + r * dim, dim, scratch, width, jj, valid, out + r * ld, ld);
        break;
      case 1:
        tile<1>(q + r * dim, dim, scratch, width, jj, valid, out + r * ld, ld);
        break;
      default:
        break;
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
