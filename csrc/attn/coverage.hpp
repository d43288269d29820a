// The share of each query's true causal softmax mass that a selection keeps ("attention recall"),
// the metric that compares selection methods without running a model, and the exact best
// selection (oracle) as its ceiling.
#pragma once

#include <cstddef>
#include <cstdint>

#include "attn/select.hpp"
#include "attn/tensor.hpp"

namespace ctxengine::attn {

// A CSR selection as the coverage kernel reads it. Rows are (head, query) or (head, query block):
// query i of query head h reads row (heads == 1 ? 0 : h) * rows_per_head + i / query_block.
// Unit u names keys [u * unit_size, (u + 1) * unit_size); indices must ascend within a row.
struct SelectionView {
  const int32_t* indptr = nullptr;
  const int32_t* indices = nullptr;
  std::size_t heads = 1;
  std::size_t rows_per_head = 0;
  std::size_t query_block = 1;
  std::size_t unit_size = 1;
};

// out [hq, nq]: sum of softmax(q.k * scale) over the selected causal keys of each query. The
// softmax is float32 (IEEE): a query whose causal logits hold NaN or +inf, or are all -inf, gets
// NaN. scale <= 0 means 1/sqrt(D).
void coverage(const HeadsView& q, const HeadsView& k, const SelectionView& sel, float scale,
              float* out, std::size_t threads);

// Per (head, query) the `budget` causal keys with the largest logits (page_size == 1, token
// rows), or the `budget` pages of `page_size` keys holding the most softmax mass (page rows);
// NaN logits (or NaN page masses) rank last, ties to the lower index; ascending.
Csr oracle_topk(const HeadsView& q, const HeadsView& k, std::size_t budget, std::size_t page_size,
                float scale, std::size_t threads);

}  // namespace ctxengine::attn
