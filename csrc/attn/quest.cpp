// Quest page scores: the driver (threads over KV heads and page ranges) and the scalar kernel.
#include "attn/quest.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "attn/kernels.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine::attn {

namespace detail {

void quest_scalar(const float* q, std::size_t nrows, const void* kmin, const void* kmax,
                  DType dtype, std::size_t pages, std::size_t dim, float* out, std::size_t ld) {
  std::vector<float> lo(dim), hi(dim);
  for (std::size_t p = 0; p < pages; ++p) {
    if (dtype == DType::F32) {
      std::copy_n(static_cast<const float*>(kmin) + p * dim, dim, lo.begin());
      std::copy_n(static_cast<const float*>(kmax) + p * dim, dim, hi.begin());
    } else {
      const auto* a = static_cast<const uint16_t*>(kmin) + p * dim;
      const auto* b = static_cast<const uint16_t*>(kmax) + p * dim;
      for (std::size_t d = 0; d < dim; ++d)
        lo[d] = half_to_float(a[d]), hi[d] = half_to_float(b[d]);
    }
    for (std::size_t r = 0; r < nrows; ++r) {
      const float* qr = q + r * dim;
      float s = 0.0f;
      for (std::size_t d = 0; d < dim; ++d) s += qr[d] * (qr[d] >= 0.0f ? hi[d] : lo[d]);
      out[r * ld + p] = s;
    }
  }
}

}  // namespace detail

void group_queries(const HeadsView& q, std::size_t kv_heads, float scale, float* out) {
  const std::size_t group = q.heads / kv_heads;
  for (std::size_t h = 0; h < q.heads; ++h) {
    const std::size_t kv = h / group, j = h % group;
    for (std::size_t i = 0; i < q.n; ++i) {
      float* row = out + ((kv * group + j) * q.n + i) * q.dim;
      load_row(q, h, i, row);
      if (scale != 1.0f)
        for (std::size_t d = 0; d < q.dim; ++d) row[d] *= scale;
    }
  }
}

void quest_scores(const HeadsView& q, const PageMeta& meta, float* out, std::size_t threads) {
  CTX_REQUIRE(q.dim == meta.dim(), "q has head dimension " + std::to_string(q.dim) +
                                       " but the pages hold keys of dimension " +
                                       std::to_string(meta.dim()));
  CTX_REQUIRE(q.heads % meta.heads() == 0, "the query heads Hq (" + std::to_string(q.heads) +
                                               ") must be a multiple of the KV heads Hkv (" +
                                               std::to_string(meta.heads()) + ")");
  CTX_REQUIRE(q.n <= meta.keys(), "more queries than keys (Nq=" + std::to_string(q.n) +
                                      " > Nk=" + std::to_string(meta.keys()) + ")");
  const std::size_t pages = meta.pages();
  if (q.n == 0 || pages == 0) return;
  const std::size_t kv_heads = meta.heads();
  const std::size_t rows = q.heads / kv_heads * q.n;  // rows per KV head
  std::vector<float> qf(q.heads * q.n * q.dim);
  group_queries(q, kv_heads, 1.0f, qf.data());
  constexpr std::size_t kPages = 256;  // pages per task: ~64 KB of fp16 bounds at D=128
  const std::size_t chunks = (pages + kPages - 1) / kPages;
  const detail::Kernels& kern = detail::kernels();
  parallel_for(kv_heads * chunks, 1, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t t = b; t < e; ++t) {
      const std::size_t kv = t / chunks, p0 = (t % chunks) * kPages;
      const std::size_t np = std::min(kPages, pages - p0);
      kern.quest(qf.data() + kv * rows * q.dim, rows, meta.kmin(kv, p0), meta.kmax(kv, p0),
                 meta.dtype(), np, q.dim, out + kv * rows * pages + p0, pages);
    }
  });
}

}  // namespace ctxengine::attn
