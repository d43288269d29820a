#include "tokenizer/span_counter.hpp"

#include "common/error.hpp"
#include "text/utf8.hpp"

namespace ctxengine {

std::size_t SpanCounter::fit(std::size_t begin, std::size_t end, std::size_t limit) const {
  CTX_REQUIRE(begin <= end && end <= size(), "span is outside the text");
  if (count(begin, end) <= limit) return end;
  return bisect_fit(begin, begin, end, limit);
}

std::size_t SpanCounter::bisect_fit(std::size_t begin, std::size_t lo, std::size_t hi,
                                    std::size_t limit) const {
  const auto* s = reinterpret_cast<const unsigned char*>(text().data());
  auto next_char = [&](std::size_t i) { return i + utf8_length(s[i]); };
  // Invariant: count(begin, lo) <= limit < count(begin, hi); both on character boundaries.
  while (next_char(lo) < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    while (mid > lo && is_utf8_continuation(s[mid])) --mid;
    if (mid == lo) mid = next_char(lo);
    if (count(begin, mid) <= limit)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

}  // namespace ctxengine
