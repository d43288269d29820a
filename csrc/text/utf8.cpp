// UTF-8 validation follows the Unicode well-formed byte sequence table (Unicode 16, Table 3-7).
#include "text/utf8.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/error.hpp"

namespace ctxengine {
namespace {

inline bool all_ascii8(const unsigned char* p) noexcept {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return (w & 0x8080808080808080ull) == 0;
}

inline std::size_t continuation_count8(const unsigned char* p) noexcept {
  uint64_t w;
  std::memcpy(&w, p, 8);
  // A continuation byte is 10xxxxxx: bit 7 set and bit 6 clear.
  uint64_t cont = w & ~(w << 1) & 0x8080808080808080ull;
  return static_cast<std::size_t>(__builtin_popcountll(cont));
}

}  // namespace

std::size_t find_invalid_utf8(std::string_view sv) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  const std::size_t n = sv.size();
  std::size_t i = 0;
  while (i < n) {
    if (i + 8 <= n && all_ascii8(s + i)) {
      i += 8;
      continue;
    }
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;  // excludes UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return i;
    }
    if (i + len > n) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (!is_utf8_continuation(s[i + k])) return i;
    i += len;
  }
  return npos;
}

std::size_t count_code_points(std::string_view sv) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(sv.data());
  const std::size_t n = sv.size();
  std::size_t cont = 0, i = 0;
  for (; i + 8 <= n; i += 8) cont += continuation_count8(s + i);
  for (; i < n; ++i) cont += is_utf8_continuation(s[i]);
  return n - cont;
}

OffsetMap::OffsetMap(std::string_view text) : text_(text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    if (!all_ascii8(s + i)) break;
  for (; i < n && ascii_; ++i)
    if (s[i] >= 0x80) ascii_ = false;
  if (ascii_) {
    chars_ = n;
    return;
  }
  chars_before_.resize(n / kStride + 1);
  std::size_t chars = 0;
  for (std::size_t block = 0; block * kStride < n; ++block) {
    chars_before_[block] = chars;
    const std::size_t end = std::min(n, (block + 1) * kStride);
    chars += count_code_points(text.substr(block * kStride, end - block * kStride));
  }
  if (n % kStride == 0) chars_before_[n / kStride] = chars;
  chars_ = chars;
}

std::size_t OffsetMap::char_of_byte(std::size_t b) const noexcept {
  if (ascii_) return b;
  if (b >= text_.size()) return chars_;
  const auto* s = reinterpret_cast<const unsigned char*>(text_.data());
  // Move back to the lead byte so that a byte inside a character maps to that character.
  while (b > 0 && is_utf8_continuation(s[b])) --b;
  const std::size_t block = b / kStride;
  const std::size_t start = block * kStride;
  return chars_before_[block] + count_code_points(text_.substr(start, b - start));
}

std::size_t OffsetMap::byte_of_char(std::size_t c) const noexcept {
  if (ascii_) return c;
  if (c >= chars_) return text_.size();
  // The last block that starts with at most c characters before it.
  auto it = std::upper_bound(chars_before_.begin(), chars_before_.end(), static_cast<uint64_t>(c));
  std::size_t block = static_cast<std::size_t>(it - chars_before_.begin()) - 1;
  const auto* s = reinterpret_cast<const unsigned char*>(text_.data());
  std::size_t b = block * kStride;
  // A block may start inside a character; its continuation bytes belong to the previous block.
  while (b < text_.size() && is_utf8_continuation(s[b])) ++b;
  std::size_t remaining = c - chars_before_[block];
  while (remaining > 0) {
    b += utf8_length(s[b]);
    --remaining;
  }
  return b;
}

void OffsetMap::chars_of_bytes(const int64_t* bytes, std::size_t n, int64_t* out) const {
  for (std::size_t i = 0; i < n; ++i) {
    CTX_REQUIRE(bytes[i] >= 0 && static_cast<std::size_t>(bytes[i]) <= text_.size(),
                "byte offset " + std::to_string(bytes[i]) + " is outside the text (0.." +
                    std::to_string(text_.size()) + ")");
    out[i] = static_cast<int64_t>(char_of_byte(static_cast<std::size_t>(bytes[i])));
  }
}

void OffsetMap::bytes_of_chars(const int64_t* chars, std::size_t n, int64_t* out) const {
  for (std::size_t i = 0; i < n; ++i) {
    CTX_REQUIRE(chars[i] >= 0 && static_cast<std::size_t>(chars[i]) <= chars_,
                "character offset " + std::to_string(chars[i]) + " is outside the text (0.." +
                    std::to_string(chars_) + ")");
    out[i] = static_cast<int64_t>(byte_of_char(static_cast<std::size_t>(chars[i])));
  }
}

}  // namespace ctxengine
