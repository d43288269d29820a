// UTF-8 scanning: validation with the offset of the first bad byte, code point decoding, and the
// map between byte offsets (what the core works in) and code point offsets (Python str indices).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace ctxengine {

// Returns the byte offset of the first invalid UTF-8 sequence, or npos when `s` is valid.
// Overlong forms, surrogates (U+D800..DFFF) and code points above U+10FFFF are invalid.
std::size_t find_invalid_utf8(std::string_view s) noexcept;
inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

// Decodes the code point at s[i] of valid UTF-8; stores it in *cp and returns its byte length.
inline std::size_t decode_utf8(const unsigned char* s, std::size_t i, uint32_t* cp) noexcept {
  const unsigned char c = s[i];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c < 0xE0) {
    *cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
    return 2;
  }
  if (c < 0xF0) {
    *cp = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
    return 3;
  }
  *cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) |
        (s[i + 3] & 0x3Fu);
  return 4;
}

// Appends the UTF-8 encoding of code point `cp` (<= U+10FFFF) to `out`.
inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Byte length of the UTF-8 sequence that starts with lead byte `c` (1 for continuation bytes).
inline std::size_t utf8_length(unsigned char c) noexcept {
  return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

// The code point at p[i] and its length, or 0 when p[i..len) does not start with a valid UTF-8
// character (checked: truncated, overlong, surrogate and out-of-range sequences are 0).
inline uint32_t valid_char(const uint8_t* p, std::size_t i, std::size_t len, uint32_t* cp) {
  const uint8_t b = p[i];
  if (b < 0x80) return *cp = b, 1;
  auto cont = [&](std::size_t k) { return i + k < len && (p[i + k] & 0xC0) == 0x80; };
  if (b < 0xC2) return 0;
  if (b < 0xE0) {
    if (!cont(1)) return 0;
    *cp = ((b & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
    return 2;
  }
  if (b < 0xF0) {
    if (!cont(1) || !cont(2)) return 0;
    *cp = ((b & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
    return *cp >= 0x800 && (*cp < 0xD800 || *cp >= 0xE000) ? 3 : 0;
  }
  if (b >= 0xF5 || !cont(1) || !cont(2) || !cont(3)) return 0;
  *cp = ((b & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) |
        (p[i + 3] & 0x3Fu);
  return *cp >= 0x10000 && *cp <= 0x10FFFF ? 4 : 0;
}

// Whether p[0, len) has a byte above 0x7F.
inline bool has_non_ascii(const uint8_t* p, std::size_t len) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) return true;
  }
  for (; i < len; ++i) {
    if (p[i] & 0x80) return true;
  }
  return false;
}

inline bool is_utf8_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

// Number of code points in valid UTF-8.
std::size_t count_code_points(std::string_view s) noexcept;

// Converts between byte offsets and code point offsets of one valid UTF-8 text in O(1) amortised
// per query: it keeps the code point count at every 64th byte (12.5% of the text's size in
// memory, none at all for pure ASCII, where both offsets are equal).
class OffsetMap {
 public:
  OffsetMap() = default;
  explicit OffsetMap(std::string_view text);

  bool is_ascii() const noexcept { return ascii_; }
  std::size_t size_bytes() const noexcept { return text_.size(); }
  std::size_t size_chars() const noexcept { return chars_; }

  // Code point index of byte offset `b` (0 <= b <= size_bytes()); a byte inside a character maps
  // to that character's index.
  std::size_t char_of_byte(std::size_t b) const noexcept;
  // Byte offset of code point index `c` (0 <= c <= size_chars()).
  std::size_t byte_of_char(std::size_t c) const noexcept;

  // Array forms; offsets outside the text raise InvalidArgument.
  void chars_of_bytes(const int64_t* bytes, std::size_t n, int64_t* out) const;
  void bytes_of_chars(const int64_t* chars, std::size_t n, int64_t* out) const;

 private:
  static constexpr std::size_t kStride = 64;
  std::string_view text_;
  bool ascii_ = true;
  std::size_t chars_ = 0;
  std::vector<uint64_t> chars_before_;  // chars_before_[i] = code points in text_[0, i*kStride)
};

}  // namespace ctxengine
