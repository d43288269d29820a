// MInference's block-sparse estimate (Jiang et al., 2024, "MInference 1.0", the block-sparse
// pattern): queries and keys are mean-pooled in blocks of `block`, each pooled query block scores
// every causal pooled key block by inner product, and keeps its top_k key blocks.
//
// Query blocks cover query indices [b * block, (b + 1) * block) (the layout of FlashInfer's BSR
// mask, rows of queries from 0); key blocks cover positions [j * block, (j + 1) * block). Key
// block j is causal for query block b when it starts at or before b's last query position. The
// last blocks may be partial; their means are over the keys/queries they hold.
#pragma once

#include <cstddef>

#include "attn/select.hpp"
#include "attn/tensor.hpp"

namespace ctxengine::attn {

// Rows: Hq * ceil(Nq / block), row h * nqb + b; indices are key blocks, ascending; each row holds
// min(top_k, causal key blocks).
Csr block_topk(const HeadsView& q, const HeadsView& k, std::size_t block, std::size_t top_k,
               std::size_t threads);

// Mean of rows [i0, i1) of head h, as float32 (sequential float sum, then one division).
void mean_rows(const HeadsView& x, std::size_t h, std::size_t i0, std::size_t i1, float* out);

}  // namespace ctxengine::attn
