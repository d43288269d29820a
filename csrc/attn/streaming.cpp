// StreamingLLM rows: two ranges per query, merged when they touch.
#include "attn/streaming.hpp"

#include <algorithm>
#include <string>

#include "common/error.hpp"

namespace ctxengine::attn {

Csr streaming(std::size_t nq, std::size_t nk, std::size_t sink, std::size_t window,
              std::size_t heads, std::size_t threads) {
  CTX_REQUIRE(nq <= nk, "more queries than keys (Nq=" + std::to_string(nq) +
                            " > Nk=" + std::to_string(nk) + ")");
  CTX_REQUIRE(nk < (std::size_t(1) << 31), "at most 2^31 - 1 keys (int32 indices)");
  CTX_REQUIRE(heads >= 1, "heads must be at least 1");
  struct Ranges {
    std::size_t sink_end, window_begin, end;  // [0, sink_end) + [window_begin, end)
  };
  auto ranges = [&](std::size_t r) {
    const std::size_t p = nk - nq + r % nq;
    const std::size_t sink_end = std::min(sink, p + 1);
    const std::size_t window_begin = std::max(p + 1 > window ? p + 1 - window : 0, sink_end);
    return Ranges{sink_end, window_begin, p + 1};
  };
  return build_csr(
      heads * nq,
      [&](std::size_t r) {
        const Ranges g = ranges(r);
        return g.sink_end + (g.end - g.window_begin);
      },
      [&](std::size_t r, int32_t* out) {
        const Ranges g = ranges(r);
        for (std::size_t j = 0; j < g.sink_end; ++j) *out++ = static_cast<int32_t>(j);
        for (std::size_t j = g.window_begin; j < g.end; ++j) *out++ = static_cast<int32_t>(j);
      },
      threads, 64);
}

}  // namespace ctxengine::attn
