// Character-level helpers the scanners and the chunker share: decoding around a byte offset,
// whitespace trimming (Unicode White_Space, what the regex crate's \s matches), line breaks, and
// the implicit word boundaries (the end of a whitespace run; either side of a CJK character).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "chunking/boundary.hpp"
#include "text/unicode.hpp"
#include "text/utf8.hpp"

namespace ctxengine::detail {

// The code point at `pos` (a character boundary inside the window); its length in *len.
inline uint32_t char_at(const TextWindow& w, uint64_t pos, std::size_t* len) {
  uint32_t cp;
  *len = decode_utf8(w.ptr(w.base), static_cast<std::size_t>(pos - w.base), &cp);
  return cp;
}

// The start of the character that ends at `pos` (pos > w.base).
inline uint64_t prev_char_start(const TextWindow& w, uint64_t pos) {
  --pos;
  while (pos > w.base && is_utf8_continuation(w.at(pos))) --pos;
  return pos;
}

// The first character boundary at or after `pos`.
inline uint64_t align_char(const TextWindow& w, uint64_t pos) {
  while (pos < w.end() && is_utf8_continuation(w.at(pos))) ++pos;
  return pos;
}

inline bool is_ws_byte(unsigned char c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D);
}

// Scripts written without spaces between words: Han, kana, CJK symbols and fullwidth forms.
// Each such character is a word of its own for chunking (Hangul is written with spaces).
inline bool is_cjk(uint32_t cp) {
  if (cp < 0x2E80) return false;
  return (cp <= 0x33FF && cp != 0x3000) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFFEF) ||
         (cp >= 0x20000 && cp <= 0x3FFFF);
}

// Whether the character at `pos` is White_Space; *len gets its length.
inline bool ws_at(const TextWindow& w, uint64_t pos, std::size_t* len) {
  const unsigned char c = w.at(pos);
  if (c < 0x80) {
    *len = 1;
    return is_ws_byte(c);
  }
  return is_white_space(char_at(w, pos, len));
}

// The first non-whitespace character at or after `pos`, or `limit`.
inline uint64_t skip_ws(const TextWindow& w, uint64_t pos, uint64_t limit) {
  std::size_t len;
  while (pos < limit && ws_at(w, pos, &len)) pos += len;
  return pos < limit ? pos : limit;
}

// The end of the last non-whitespace character in [lo, pos), or lo when there is none.
inline uint64_t trim_end(const TextWindow& w, uint64_t lo, uint64_t pos) {
  while (pos > lo) {
    const unsigned char c = w.at(pos - 1);
    if (c < 0x80) {
      if (!is_ws_byte(c)) break;
      --pos;
      continue;
    }
    const uint64_t start = prev_char_start(w, pos);
    std::size_t len;
    if (!is_white_space(char_at(w, start, &len))) break;
    pos = start;
  }
  return pos;
}

// A line break at `pos`: returns its length in bytes (\r\n is one break) or 0. U+2029 (paragraph
// separator) counts as two breaks, a blank line's worth, via *weight.
inline std::size_t line_break_at(const TextWindow& w, uint64_t pos, uint64_t limit, int* weight) {
  *weight = 1;
  const unsigned char c = w.at(pos);
  if (c == '\n' || c == 0x0B || c == 0x0C) return 1;
  if (c == '\r') return pos + 1 < limit && w.at(pos + 1) == '\n' ? 2 : 1;
  if (c == 0xC2 && pos + 1 < limit && w.at(pos + 1) == 0x85) return 2;  // U+0085 NEL
  if (c == 0xE2 && pos + 2 < limit && w.at(pos + 1) == 0x80) {
    if (w.at(pos + 2) == 0xA8) return 3;  // U+2028 LINE SEPARATOR
    if (w.at(pos + 2) == 0xA9) {          // U+2029 PARAGRAPH SEPARATOR
      *weight = 2;
      return 3;
    }
  }
  return 0;
}

inline constexpr uint64_t kNoLineEnd = ~uint64_t{0};

// The offset of the first '\n' or '\r' in [line, line + max_bytes), the text end when the text
// ends first, or kNoLineEnd when neither is in reach (libc's memchr does the scanning).
inline uint64_t line_end(const TextWindow& w, uint64_t line, uint64_t max_bytes) {
  const uint64_t lim = std::min<uint64_t>(w.end(), line + max_bytes);
  const auto* p = w.ptr(line);
  const std::size_t n = static_cast<std::size_t>(lim - line);
  const void* lf = std::memchr(p, '\n', n);
  const std::size_t len =
      lf ? static_cast<std::size_t>(static_cast<const unsigned char*>(lf) - p) : n;
  const void* cr = std::memchr(p, '\r', len);
  if (cr) return line + static_cast<uint64_t>(static_cast<const unsigned char*>(cr) - p);
  if (lf) return line + len;
  return lim == w.end() && w.eof ? lim : kNoLineEnd;
}

// The start of the line after the line break at `eol`, or kNoLineEnd at the text end.
inline uint64_t next_line(const TextWindow& w, uint64_t eol) {
  if (eol >= w.end()) return kNoLineEnd;
  return eol + ((w.at(eol) == '\r' && eol + 1 < w.end() && w.at(eol + 1) == '\n') ? 2 : 1);
}

// Whether `pos` (strictly inside the window, on a character boundary) is a word boundary: the
// end of a whitespace run, or a boundary next to a CJK character with no whitespace around it.
inline bool is_word_boundary(const TextWindow& w, uint64_t pos) {
  std::size_t len;
  const uint64_t prev = prev_char_start(w, pos);
  const bool prev_ws = ws_at(w, prev, &len);
  const bool cur_ws = ws_at(w, pos, &len);
  if (cur_ws) return false;
  if (prev_ws) return true;
  if (w.at(prev) < 0x80 && w.at(pos) < 0x80) return false;
  return is_cjk(char_at(w, prev, &len)) || is_cjk(char_at(w, pos, &len));
}

// The prose scanners' fast path: the first byte in [s, e) that can matter to them, skipping
// plain bytes and single spaces between words. A byte matters when it is non-ASCII, a control
// character (tabs and line breaks among them), '.', '!' or '?', or a space followed by another
// space or a byte that matters. Eight bytes at a time with exact per-byte masks (no carries
// cross bytes); the plain loop finishes the tail and is the reference.
inline const unsigned char* skip_plain(const unsigned char* s, const unsigned char* e) {
  constexpr uint64_t k01 = 0x0101010101010101ull, k7f = 0x7F7F7F7F7F7F7F7Full,
                     k80 = 0x8080808080808080ull;
  // 0x80 in each byte of x that is zero, 0 elsewhere.
  auto zero = [](uint64_t x) { return ~(((x & k7f) + k7f) | x | k7f); };
  auto matters_byte = [](unsigned char c) {
    return c >= 0x80 || c < 0x20 || c == '.' || c == '!' || c == '?';
  };
  while (e - s >= 9) {
    uint64_t x;
    std::memcpy(&x, s, 8);
    const uint64_t control = ~((x & k7f) + 0x60 * k01) & ~x & k80;  // bytes < 0x20
    const uint64_t matters =
        (x & k80) | control | zero(x ^ ('.' * k01)) | zero(x ^ ('!' * k01)) | zero(x ^ ('?' * k01));
    const uint64_t space = zero(x ^ (' ' * k01));
    // The byte after each byte: the next lane, and s[8] for the last one.
    const uint64_t next =
        ((matters | space) >> 8) | (matters_byte(s[8]) || s[8] == ' ' ? uint64_t{0x80} << 56 : 0);
    const uint64_t hit = matters | (space & next);
    if (hit) return s + (__builtin_ctzll(hit) >> 3);
    s += 8;
  }
  for (; s < e; ++s) {
    if (matters_byte(*s)) return s;
    if (*s == ' ' && (s + 1 == e || s[1] == ' ' || matters_byte(s[1]))) return s;
  }
  return s;
}

}  // namespace ctxengine::detail
