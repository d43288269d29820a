// MInference's vertical-slash estimate (Jiang et al., 2024, "MInference 1.0"): the last
// `last_q` queries attend to all keys (softmax with scale 1/sqrt(D), causal); per query head,
// vertical[j] = sum over those queries of the attention on key column j, and slash[o] = the sum
// along diagonal offset o = (query position - key position). The first `sink` columns and the
// offsets below `local` are always kept (MInference forces 30 and 100); then the top n_vertical
// columns and n_slash offsets by sum, NaN sums last, ties to the lower index, sorted ascending.
#pragma once

#include <cstddef>
#include <cstdint>

#include "attn/tensor.hpp"

namespace ctxengine::attn {

struct VerticalSlashOptions {
  std::size_t last_q = 64;
  std::size_t n_vertical = 1000;
  std::size_t n_slash = 6096;
  std::size_t sink = 30;
  std::size_t local = 100;
  float scale = 0.0f;  // 0: 1/sqrt(D)
};

// vertical: int32 [Hq, min(n_vertical, Nk)], slash: int32 [Hq, min(n_slash, Nk)]. When
// sums_v / sums_s are non-null they receive the float32 sums [Hq, Nk] (for tests and tools).
void vertical_slash(const HeadsView& q, const HeadsView& k, const VerticalSlashOptions& opt,
                    int32_t* vertical, int32_t* slash, float* sums_v, float* sums_s,
                    std::size_t threads);

}  // namespace ctxengine::attn
