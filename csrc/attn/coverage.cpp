// Coverage and the oracle selection: both need every causal logit of a query, computed for a
// chunk of query rows of one KV head at a time (the shared logits kernel), then one row at a time
// in key order, so the results do not depend on the thread count.
#include "attn/coverage.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "attn/kernels.hpp"
#include "attn/logits.hpp"
#include "attn/quest.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine::attn {
namespace {

constexpr std::size_t kRows = 64;  // query rows per task: each transposed key tile serves them all

// Calls row_fn(h, i, logits, n) for every query (head h, query i) with its n = p + 1 causal
// logits (scaled), on all threads; logits may be modified in place.
void for_each_query(const HeadsView& q, const HeadsView& k, float scale, std::size_t threads,
                    const std::function<void(std::size_t, std::size_t, float*, std::size_t)>& fn) {
  check_qk(q, k);
  const std::size_t dim = q.dim, group = q.heads / k.heads;
  const std::size_t rows = group * q.n;  // grouped rows per KV head: j * nq + i
  if (scale <= 0.0f) scale = 1.0f / std::sqrt(static_cast<float>(dim));
  std::vector<float> qf(q.heads * q.n * dim);
  group_queries(q, k.heads, scale, qf.data());
  const std::size_t chunks = (rows + kRows - 1) / kRows;
  parallel_for(k.heads * chunks, 1, threads, [&](std::size_t b, std::size_t e) {
    std::vector<float> buf, scratch;
    for (std::size_t t = b; t < e; ++t) {
      const std::size_t kv = t / chunks, r0 = (t % chunks) * kRows;
      const std::size_t nr = std::min(kRows, rows - r0);
      std::size_t len = 0;  // keys the chunk needs: up to its last query's position
      for (std::size_t r = r0; r < r0 + nr; ++r)
        len = std::max(len, query_position(q.n, k.n, r % q.n) + 1);
      buf.resize(nr * len);
      logits_rows(&qf[(kv * rows + r0) * dim], nr, k, kv, 0, len, buf.data(), len, scratch);
      for (std::size_t r = r0; r < r0 + nr; ++r) {
        const std::size_t i = r % q.n, h = kv * group + r / q.n;
        fn(h, i, &buf[(r - r0) * len], query_position(q.n, k.n, i) + 1);
      }
    }
  });
}

float max_of(const float* x, std::size_t n, bool skip_nan) {
  float m = -std::numeric_limits<float>::infinity();
  for (std::size_t j = 0; j < n; ++j) {
    if (x[j] != x[j]) {
      if (!skip_nan) return x[j];
    } else if (x[j] > m) {
      m = x[j];
    }
  }
  return m;
}

}  // namespace

void coverage(const HeadsView& q, const HeadsView& k, const SelectionView& sel, float scale,
              float* out, std::size_t threads) {
  CTX_REQUIRE(sel.heads == 1 || sel.heads == q.heads,
              "the selection has " + std::to_string(sel.heads) + " heads; q has " +
                  std::to_string(q.heads) + " (a selection must have Hq heads, or 1 for all)");
  CTX_REQUIRE(sel.unit_size >= 1 && sel.query_block >= 1, "unit sizes must be at least 1");
  CTX_REQUIRE(sel.rows_per_head == (q.n + sel.query_block - 1) / sel.query_block,
              "the selection has " + std::to_string(sel.rows_per_head) +
                  " rows per head but q has " + std::to_string(q.n) + " queries");
  const std::size_t units = (k.n + sel.unit_size - 1) / sel.unit_size;
  const detail::Kernels& kern = detail::kernels();
  for_each_query(q, k, scale, threads, [&](std::size_t h, std::size_t i, float* x, std::size_t n) {
    const std::size_t row = (sel.heads == 1 ? 0 : h) * sel.rows_per_head + i / sel.query_block;
    float& result = out[h * q.n + i];
    const float m = max_of(x, n, false);
    if (m != m || std::isinf(m)) {
      result = std::numeric_limits<float>::quiet_NaN();
    } else {
      kern.exp_scale(x, n, m, 1.0f);
      double total = 0.0, kept = 0.0;
      for (std::size_t j = 0; j < n; ++j) total += x[j];
      int64_t prev = -1;
      for (int32_t t = sel.indptr[row]; t < sel.indptr[row + 1]; ++t) {
        const int64_t u = sel.indices[t];
        CTX_REQUIRE(u > prev && static_cast<std::size_t>(u) < units,
                    "selection indices must ascend within a row and lie in [0, " +
                        std::to_string(units) + ")");
        prev = u;
        const std::size_t a = static_cast<std::size_t>(u) * sel.unit_size;
        const std::size_t e = std::min(a + sel.unit_size, n);
        for (std::size_t j = a; j < e; ++j) kept += x[j];
      }
      result = static_cast<float>(kept / total);
    }
  });
}

Csr oracle_topk(const HeadsView& q, const HeadsView& k, std::size_t budget, std::size_t page_size,
                float scale, std::size_t threads) {
  CTX_REQUIRE(budget >= 1, "budget must be at least 1");
  CTX_REQUIRE(page_size >= 1, "page_size must be at least 1");
  std::vector<std::vector<int32_t>> picked(q.heads * q.n);
  const detail::Kernels& kern = detail::kernels();
  for_each_query(q, k, scale, threads, [&](std::size_t h, std::size_t i, float* x, std::size_t n) {
    thread_local std::vector<uint64_t> keys;
    thread_local std::vector<float> mass;
    std::vector<int32_t>& out = picked[h * q.n + i];
    const auto none = [](std::size_t) { return false; };
    if (page_size == 1) {
      out.resize(std::min(budget, n));
      top_indices(x, n, out.size(), none, out.data(), keys);
      return;
    }
    const float m = max_of(x, n, true);
    kern.exp_scale(x, n, m, 1.0f);
    const std::size_t pages = (n + page_size - 1) / page_size;
    mass.assign(pages, 0.0f);
    for (std::size_t p = 0; p < pages; ++p) {
      double s = 0.0;
      for (std::size_t j = p * page_size; j < std::min(n, (p + 1) * page_size); ++j) s += x[j];
      mass[p] = static_cast<float>(s);
    }
    out.resize(std::min(budget, pages));
    top_indices(mass.data(), pages, out.size(), none, out.data(), keys);
  });
  return build_csr(
      picked.size(), [&](std::size_t r) { return picked[r].size(); },
      [&](std::size_t r, int32_t* out) { std::copy(picked[r].begin(), picked[r].end(), out); },
      threads, 64);
}

}  // namespace ctxengine::attn
