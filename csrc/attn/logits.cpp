// Scalar kernels of attention logits and their exponentials, shared by vertical_slash,
// block_topk, coverage and oracle_topk (the AVX2 twins are in logits_avx2.cpp).
#include "attn/logits.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "attn/kernels.hpp"

namespace ctxengine::attn::detail {

void logits_scalar(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                   std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch) {
  const std::size_t dim = k.dim;
  for (std::size_t j = j0; j < j1; ++j) {
    float* key = scratch;  // one key row at a time, as float32
    load_row(k, head, j, key);
    for (std::size_t r = 0; r < nrows; ++r) {
      const float* qr = q + r * dim;
      float s = 0.0f;
      for (std::size_t d = 0; d < dim; ++d) s += qr[d] * key[d];
      out[r * ld + (j - j0)] = s;
    }
  }
}

float exp_scale_scalar(float* x, std::size_t n, float shift, float scale) {
  float s = 0.0f;
  for (std::size_t j = 0; j < n; ++j) s += x[j] = std::exp(x[j] - shift) * scale;
  return s;
}

}  // namespace ctxengine::attn::detail

namespace ctxengine::attn {

void logits_rows(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                 std::size_t j0, std::size_t j1, float* out, std::size_t ld,
                 std::vector<float>& scratch) {
  constexpr std::size_t kTile = 512;  // 256 KB of transposed float32 keys at D=128
  const std::size_t need = (std::min(kTile, j1 - j0) + 31) / 32 * 32 * k.dim;
  if (scratch.size() < need) scratch.resize(need);
  const detail::Kernels& kern = detail::kernels();
  for (std::size_t t = j0; t < j1; t += kTile) {
    const std::size_t e = std::min(j1, t + kTile);
    kern.logits(q, nrows, k, head, t, e, out + (t - j0), ld, scratch.data());
  }
}

}  // namespace ctxengine::attn
