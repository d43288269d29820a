// Lookups over the generated HF character tables: two-stage tables for flags and combining
// classes, sorted rows searched by bisection for decompositions, compositions and lowercase.
#include "tokenizer/hf_unicode.hpp"

#include <algorithm>

#include "text/unicode.hpp"

namespace ctxengine::hf {
namespace {
#include "tokenizer/hf_unicode_tables.inc"

// Hangul syllables are composed and decomposed arithmetically (Unicode 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr uint32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

template <std::size_t N>
const uint32_t* find_row(const uint32_t (&rows)[N][3], uint32_t cp) noexcept {
  const auto* it = std::lower_bound(
      rows, rows + N, cp, [](const uint32_t (&row)[3], uint32_t v) { return row[0] < v; });
  return (it != rows + N && (*it)[0] == cp) ? *it : nullptr;
}

}  // namespace

namespace detail {
const uint16_t* const kFlagsStage1 = kHfFlagsStage1;
const uint8_t* const kFlagsStage2 = kHfFlagsStage2;
const uint16_t* const kCccStage1 = kHfCccStage1;
const uint8_t* const kCccStage2 = kHfCccStage2;
}  // namespace detail

const char* reference_version() noexcept {
  return CTX_HF_TOKENIZERS_VERSION;
}

bool is_whitespace(uint32_t cp) noexcept {
  return is_white_space(cp);
}

void decompose(uint32_t cp, bool compat, std::vector<uint32_t>& out) {
  if (cp < 0xC0) {  // nothing below U+00C0 decomposes canonically; NFKD maps a few Latin-1 signs
    if (!compat || cp < 0xA0) {
      out.push_back(cp);
      return;
    }
  }
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const uint32_t* row = compat ? find_row(kHfCompatMap, cp) : find_row(kHfCanonicalMap, cp);
  if (row == nullptr) {
    out.push_back(cp);
    return;
  }
  const uint32_t* pool = compat ? kHfCompatPool : kHfCanonicalPool;
  out.insert(out.end(), pool + row[1], pool + row[1] + row[2]);
}

bool composition_stable(uint32_t cp) noexcept {
  // One bit per code point, built on first use: no canonical decomposition (Hangul syllables
  // excepted: they recompose to themselves), combining class 0, and not the second of any
  // composition (table pairs, Hangul vowel and trailing jamo).
  static const std::vector<uint64_t> unstable = [] {
    std::vector<uint64_t> bits(0x110000 / 64, 0);
    auto mark = [&](uint32_t c) { bits[c >> 6] |= uint64_t{1} << (c & 63); };
    for (const auto& row : kHfCanonicalMap) mark(row[0]);
    for (const auto& row : kHfCompositions) mark(row[1]);
    for (uint32_t c = 0x1161; c <= 0x1175; ++c) mark(c);
    for (uint32_t c = 0x11A8; c <= 0x11C2; ++c) mark(c);
    for (uint32_t c = 0x80; c < 0x110000; ++c) {
      if (combining_class(c) != 0) mark(c);
    }
    return bits;
  }();
  return cp >= 0x110000 || !((unstable[cp >> 6] >> (cp & 63)) & 1);
}

uint32_t compose(uint32_t first, uint32_t second) noexcept {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase &&
      second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 &&
      second > kTBase && second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  const auto* rows = kHfCompositions;
  const std::size_t n = sizeof(kHfCompositions) / sizeof(kHfCompositions[0]);
  const auto* it =
      std::lower_bound(rows, rows + n, std::make_pair(first, second),
                       [](const uint32_t (&row)[3], std::pair<uint32_t, uint32_t> v) {
                         return row[0] < v.first || (row[0] == v.first && row[1] < v.second);
                       });
  return (it != rows + n && (*it)[0] == first && (*it)[1] == second) ? (*it)[2] : 0;
}

void to_lower(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp < 0x80) {
    out.push_back((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
    return;
  }
  const uint32_t* row = find_row(kHfLowerMap, cp);
  if (row == nullptr) {
    out.push_back(cp);
    return;
  }
  out.insert(out.end(), kHfLowerPool + row[1], kHfLowerPool + row[1] + row[2]);
}

void flags_of(const uint32_t* cps, std::size_t n, uint8_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = flags(cps[i]);
}

void combining_classes(const uint32_t* cps, std::size_t n, uint8_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = combining_class(cps[i]);
}

}  // namespace ctxengine::hf
