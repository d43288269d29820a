// Quest page scores (Tang et al., 2024): for query q and page bounds kmin/kmax,
//   score = sum_d max(q_d * kmin_d, q_d * kmax_d),
// an upper bound of q.k over every key of the page. It is computed as
// sum_d q_d * (q_d >= 0 ? kmax_d : kmin_d), which is the same number whenever the products are
// finite, and is defined where they are not: a channel with q_d == 0 adds 0 * kmax_d, a NaN bound
// makes the score NaN. Each KV head's bounds are read once for all query heads of its group.
#pragma once

#include <cstddef>

#include "attn/page_meta.hpp"
#include "attn/tensor.hpp"

namespace ctxengine::attn {

// out: float32 [q.heads, q.n, meta.pages()]. Requires Nq <= meta.keys(), q.dim == meta.dim(),
// and q.heads a multiple of meta.heads().
void quest_scores(const HeadsView& q, const PageMeta& meta, float* out, std::size_t threads);

// q [heads, n, dim] as float32 rows grouped by KV head: row (kv, j * n + i) is query i of query
// head kv * group + j. Shared by the kernels that score a KV head's group at once.
void group_queries(const HeadsView& q, std::size_t kv_heads, float scale, float* out);

}  // namespace ctxengine::attn
