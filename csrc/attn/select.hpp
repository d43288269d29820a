// Top-k selection and the CSR selections every method returns.
//
// One rank order everywhere: forced entries first, then higher score, NaN last (below -inf), ties
// to the lower index. Each row's chosen indices are written in ascending order, as block-sparse
// and paged attention kernels read them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "attn/tensor.hpp"

namespace ctxengine::attn {

// Rows of int32 indices: row r is indices[indptr[r] .. indptr[r + 1]).
struct Csr {
  std::vector<int32_t> indptr;
  std::vector<int32_t> indices;
};

// Builds a CSR of `rows` rows: count(r) entries each, filled by fill(r, out) on all threads.
Csr build_csr(std::size_t rows, const std::function<std::size_t(std::size_t)>& count,
              const std::function<void(std::size_t, int32_t*)>& fill, std::size_t threads,
              std::size_t grain = 1);

// The `take` best of candidates [0, n) by the rank order above, ascending, into out.
// `forced(j)` marks entries that rank before every score. `keys` is scratch.
template <class Forced>
void top_indices(const float* scores, std::size_t n, std::size_t take, Forced forced, int32_t* out,
                 std::vector<uint64_t>& keys) {
  if (take >= n) {
    for (std::size_t j = 0; j < n; ++j) out[j] = static_cast<int32_t>(j);
    return;
  }
  if (take == 0) return;
  keys.resize(n);
  for (std::size_t j = 0; j < n; ++j) {
    const uint64_t k32 = forced(j) ? 0xFFFFFFFFull : order_key(scores[j]);
    keys[j] = (k32 << 32) | (0xFFFFFFFFull - j);  // distinct keys: the order is total
  }
  std::nth_element(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(take - 1), keys.end(),
                   std::greater<uint64_t>());
  for (std::size_t t = 0; t < take; ++t)
    out[t] = static_cast<int32_t>(0xFFFFFFFFull - (keys[t] & 0xFFFFFFFFull));
  std::sort(out, out + take);
}

// Quest's page selection. scores is [heads, nq, pages] with pages = ceil(nk / page_size); for
// query i (at position nk - nq + i, on page qp) the candidates are pages 0..qp (causal), of which
// the first `sink` and the last `local` (qp - local + 1 .. qp) are always taken; the row holds
// min(budget, qp + 1) pages. Requires budget >= max(1, sink + local).
Csr select_pages(const float* scores, std::size_t heads, std::size_t nq, std::size_t pages,
                 std::size_t nk, std::size_t page_size, std::size_t budget, std::size_t sink,
                 std::size_t local, std::size_t threads);

}  // namespace ctxengine::attn
