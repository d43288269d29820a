// StreamingLLM's pattern (Xiao et al., 2024, "Efficient Streaming Language Models with Attention
// Sinks"): every query reads the first `sink` keys and the `window` most recent keys up to and
// including its own position.
#pragma once

#include <cstddef>

#include "attn/select.hpp"

namespace ctxengine::attn {

// Token rows h * nq + i (the same for every head), keys ascending:
// [0, min(sink, p + 1)) united with [max(0, p + 1 - window), p], p = nk - nq + i.
Csr streaming(std::size_t nq, std::size_t nk, std::size_t sink, std::size_t window,
              std::size_t heads, std::size_t threads);

}  // namespace ctxengine::attn
