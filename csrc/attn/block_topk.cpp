// Block-sparse estimate: pooling, pooled logits (the shared logits kernel) and per-row top-k.
#include "attn/block_topk.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "attn/logits.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine::attn {

void mean_rows(const HeadsView& x, std::size_t h, std::size_t i0, std::size_t i1, float* out) {
  std::vector<float> row(x.dim);
  std::fill(out, out + x.dim, 0.0f);
  for (std::size_t i = i0; i < i1; ++i) {
    load_row(x, h, i, row.data());
    for (std::size_t d = 0; d < x.dim; ++d) out[d] += row[d];
  }
  const float count = static_cast<float>(i1 - i0);
  for (std::size_t d = 0; d < x.dim; ++d) out[d] /= count;
}

Csr block_topk(const HeadsView& q, const HeadsView& k, std::size_t block, std::size_t top_k,
               std::size_t threads) {
  check_qk(q, k);
  CTX_REQUIRE(block >= 1, "block must be at least 1");
  CTX_REQUIRE(top_k >= 1, "top_k must be at least 1");
  const std::size_t dim = q.dim, group = q.heads / k.heads;
  const std::size_t nqb = (q.n + block - 1) / block, nkb = (k.n + block - 1) / block;
  const std::size_t rows = group * nqb;  // pooled query rows per KV head
  // Pooled keys [Hkv, nkb, D] and pooled queries grouped by KV head [Hkv, group * nqb, D].
  std::vector<float> kp(k.heads * nkb * dim), qp(q.heads * nqb * dim);
  parallel_for(k.heads * nkb, 64, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t t = b; t < e; ++t) {
      const std::size_t h = t / nkb, j = t % nkb;
      mean_rows(k, h, j * block, std::min(k.n, (j + 1) * block), &kp[t * dim]);
    }
  });
  for (std::size_t h = 0; h < q.heads; ++h)
    for (std::size_t b = 0; b < nqb; ++b)
      mean_rows(q, h, b * block, std::min(q.n, (b + 1) * block), &qp[(h * nqb + b) * dim]);
  const HeadsView pooled{kp.data(), DType::F32, k.heads, nkb, dim};
  // Last causal key block of query block b.
  auto last_block = [&](std::size_t b) {
    return query_position(q.n, k.n, std::min(q.n, (b + 1) * block) - 1) / block;
  };
  // Scores of all rows (rows are grouped by KV head, row h * nqb + b matches the output order).
  std::vector<float> scores(q.heads * nqb * nkb);
  constexpr std::size_t kRows = 16;
  const std::size_t chunks = (rows + kRows - 1) / kRows;
  parallel_for(k.heads * chunks, 1, threads, [&](std::size_t b, std::size_t e) {
    std::vector<float> scratch;
    for (std::size_t t = b; t < e; ++t) {
      const std::size_t kv = t / chunks, r0 = (t % chunks) * kRows;
      const std::size_t nr = std::min(kRows, rows - r0);
      const std::size_t row = kv * rows + r0;
      logits_rows(&qp[row * dim], nr, pooled, kv, 0, nkb, &scores[row * nkb], nkb, scratch);
    }
  });
  return build_csr(
      q.heads * nqb, [&](std::size_t r) { return std::min(top_k, last_block(r % nqb) + 1); },
      [&](std::size_t r, int32_t* out) {
        thread_local std::vector<uint64_t> keys;
        const std::size_t valid = last_block(r % nqb) + 1;
        top_indices(
            &scores[r * nkb], valid, std::min(top_k, valid), [](std::size_t) { return false; }, out,
            keys);
      },
      threads);
}

}  // namespace ctxengine::attn
