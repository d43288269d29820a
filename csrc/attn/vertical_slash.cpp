// Vertical-slash estimate in three passes per KV head over a buffer [rows, Nk] (rows: the group's
// query heads x last_q queries): (A) by key tile, the logits, each row's tile max m_t and the
// exponentials exp(s - m_t) in place with their sum, while the tile is in cache; (B) per row the
// softmax max M and normaliser S from the tiles in a fixed order, and per (row, tile) the factor
// exp(m_t - M) / S that turns the stored exponentials into probabilities; (C) by key tile,
// column sums and per-tile diagonal sums of those probabilities, the diagonals then added in tile
// order. One exponential per logit; every sum has a fixed order, so the result does not depend on
// the thread count.
// Softmax is IEEE float32: a NaN logit in a row (or +inf, or a row of -inf) makes that query's
// probabilities NaN, and with them its head's sums; NaN sums rank last.
#include "attn/vertical_slash.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "attn/kernels.hpp"
#include "attn/logits.hpp"
#include "attn/select.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine::attn {
namespace {

constexpr std::size_t kTile = 512;

// Max of x[0, n) with NaN propagating; -inf for n == 0.
float max_of(const float* x, std::size_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (std::size_t j = 0; j < n; ++j) {
    if (x[j] != x[j]) return x[j];
    if (x[j] > m) m = x[j];
  }
  return m;
}

}  // namespace

void vertical_slash(const HeadsView& q, const HeadsView& k, const VerticalSlashOptions& opt,
                    int32_t* vertical, int32_t* slash, float* sums_v, float* sums_s,
                    std::size_t threads) {
  check_qk(q, k);
  CTX_REQUIRE(q.n >= 1, "vertical_slash needs at least one query");
  CTX_REQUIRE(opt.last_q >= 1, "last_q must be at least 1");
  const std::size_t nk = k.n, dim = q.dim, group = q.heads / k.heads;
  const std::size_t lq = std::min(opt.last_q, q.n);
  const std::size_t rows = group * lq;
  const float scale = opt.scale > 0.0f ? opt.scale : 1.0f / std::sqrt(static_cast<float>(dim));
  std::vector<float> own_v, own_s;
  if (sums_v == nullptr) own_v.resize(q.heads * nk), sums_v = own_v.data();
  if (sums_s == nullptr) own_s.resize(q.heads * nk), sums_s = own_s.data();

  // The last lq queries, scaled, grouped by KV head: row (kv, j * lq + t) is query nq - lq + t of
  // head kv * group + j, at position nk - lq + t.
  std::vector<float> qf(q.heads * lq * dim);
  for (std::size_t h = 0; h < q.heads; ++h)
    for (std::size_t t = 0; t < lq; ++t) {
      float* row = &qf[(h * lq + t) * dim];
      load_row(q, h, q.n - lq + t, row);
      for (std::size_t d = 0; d < dim; ++d) row[d] *= scale;
    }
  auto pos = [&](std::size_t r) { return nk - lq + r % lq; };
  const std::size_t tiles = (nk + kTile - 1) / kTile;
  std::vector<float> logits(rows * nk), tile_max(rows * tiles), tile_sum(rows * tiles);
  std::vector<float> factor(rows * tiles);
  std::vector<std::vector<float>> part(tiles);  // per tile: group x width diagonal sums
  std::vector<std::size_t> part_base(tiles);
  const detail::Kernels& kern = detail::kernels();

  for (std::size_t kv = 0; kv < k.heads; ++kv) {
    const float* qkv = &qf[kv * rows * dim];
    // (A) logits, tile maxima, exponentials and their sums.
    parallel_for(tiles, 1, threads, [&](std::size_t b, std::size_t e) {
      std::vector<float> scratch;
      for (std::size_t t = b; t < e; ++t) {
        const std::size_t j0 = t * kTile, j1 = std::min(nk, j0 + kTile);
        logits_rows(qkv, rows, k, kv, j0, j1, &logits[j0], nk, scratch);
        for (std::size_t r = 0; r < rows; ++r) {
          const std::size_t end = std::min(j1, pos(r) + 1);
          float* x = &logits[r * nk + j0];
          const float m = end > j0 ? max_of(x, end - j0) : -std::numeric_limits<float>::infinity();
          tile_max[r * tiles + t] = m;
          tile_sum[r * tiles + t] = end > j0 ? kern.exp_scale(x, end - j0, m, 1.0f) : 0.0f;
        }
      }
    });
    // (B) softmax max and normaliser per row, tiles in order; the per-tile factors.
    for (std::size_t r = 0; r < rows; ++r) {
      const float* tm = &tile_max[r * tiles];
      const float m = max_of(tm, tiles);
      double s = 0.0;
      for (std::size_t t = 0; t < tiles; ++t)
        s += static_cast<double>(std::exp(tm[t] - m)) * tile_sum[r * tiles + t];
      for (std::size_t t = 0; t < tiles; ++t)
        factor[r * tiles + t] = static_cast<float>(std::exp(tm[t] - m) / s);
    }
    // (C) column sums and per-tile diagonal sums of the probabilities.
    parallel_for(tiles, 1, threads, [&](std::size_t b, std::size_t e) {
      for (std::size_t t = b; t < e; ++t) {
        const std::size_t j0 = t * kTile, j1 = std::min(nk, j0 + kTile);
        const std::size_t lowest = nk - lq;  // smallest query position
        const std::size_t base = lowest > j1 - 1 ? lowest - (j1 - 1) : 0;  // smallest offset
        const std::size_t width = nk - j0 - base;
        part_base[t] = base;
        part[t].assign(group * width, 0.0f);
        for (std::size_t j = 0; j < group; ++j) {
          float* col = sums_v + (kv * group + j) * nk;
          std::fill(col + j0, col + j1, 0.0f);
          float* diag = &part[t][j * width];
          for (std::size_t tq = 0; tq < lq; ++tq) {
            const std::size_t r = j * lq + tq, p = pos(r);
            const std::size_t end = std::min(j1, p + 1);
            if (end <= j0) continue;
            const float* x = &logits[r * nk + j0];
            const float f = factor[r * tiles + t];
            float* d0 = diag + (p - j0 - base);  // offset of key j0 + c is p - j0 - c
            for (std::size_t c = 0; c < end - j0; ++c) {
              const float prob = x[c] * f;
              col[j0 + c] += prob;
              *(d0 - c) += prob;
            }
          }
        }
      }
    });
    // Diagonal sums of the tiles, added in tile order.
    for (std::size_t j = 0; j < group; ++j) {
      float* s = sums_s + (kv * group + j) * nk;
      std::fill(s, s + nk, 0.0f);
      for (std::size_t t = 0; t < tiles; ++t) {
        const std::size_t width = part[t].size() / group;
        const float* src = &part[t][j * width];
        for (std::size_t o = 0; o < width; ++o) s[part_base[t] + o] += src[o];
      }
    }
  }

  const std::size_t nv = std::min(opt.n_vertical, nk), ns = std::min(opt.n_slash, nk);
  parallel_for(q.heads, 1, threads, [&](std::size_t b, std::size_t e) {
    std::vector<uint64_t> keys;
    for (std::size_t h = b; h < e; ++h) {
      top_indices(
          sums_v + h * nk, nk, nv, [&](std::size_t j) { return j < opt.sink; }, vertical + h * nv,
          keys);
      top_indices(
          sums_s + h * nk, nk, ns, [&](std::size_t o) { return o < opt.local; }, slash + h * ns,
          keys);
    }
  });
}

}  // namespace ctxengine::attn
