// Two-stage category lookup (256-code-point blocks, identical blocks shared) and a sorted table
// of lowercase pairs searched by bisection, with an ASCII fast path.
#include "text/unicode.hpp"

#include <algorithm>
#include <cstddef>

namespace ctxengine {
namespace {
#include "text/unicode_tables.inc"
}  // namespace

namespace detail {
const uint16_t* const kCategoryStage1Ptr = kCategoryStage1;
const uint8_t* const kCategoryStage2Ptr = kCategoryStage2;
}  // namespace detail

const char* unicode_version() noexcept {
  return CTX_UNICODE_VERSION;
}

uint32_t to_lower(uint32_t cp) noexcept {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const auto* begin = kLowercasePairs;
  const auto* end = kLowercasePairs + sizeof(kLowercasePairs) / sizeof(kLowercasePairs[0]);
  const auto* it = std::lower_bound(
      begin, end, cp, [](const uint32_t (&pair)[2], uint32_t v) { return pair[0] < v; });
  return (it != end && (*it)[0] == cp) ? (*it)[1] : cp;
}

void general_categories(const uint32_t* cps, std::size_t n, uint8_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(general_category(cps[i]));
}

void to_lower(const uint32_t* cps, std::size_t n, uint32_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = to_lower(cps[i]);
}

void white_space(const uint32_t* cps, std::size_t n, bool* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = is_white_space(cps[i]);
}

}  // namespace ctxengine
