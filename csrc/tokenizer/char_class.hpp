// Character classes the pre-tokenizer regexes test, for one UTF-8 character at a time: \p{L},
// \p{N}, \s (White_Space), [\r\n], and o200k's two letter sets [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
// and [\p{Ll}\p{Lm}\p{Lo}\p{M}]. ASCII is one table load; other characters are decoded and
// classified from the Unicode 16 tables of csrc/text/unicode.hpp (the version of the regex crate
// that tiktoken uses). Also the contraction matchers of the GPT patterns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "text/unicode.hpp"
#include "text/utf8.hpp"

namespace ctxengine::detail {

enum CharClass : uint8_t {
  kLetter = 1,     // \p{L}
  kNumber = 2,     // \p{N}
  kSpace = 4,      // \s
  kNewline = 8,    // [\r\n] (also kSpace)
  kUpperSet = 16,  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (o200k)
  kLowerSet = 32,  // [\p{Ll}\p{Lm}\p{Lo}\p{M}] (o200k)
};

struct ClassTables {
  uint8_t ascii[128];
  uint8_t category[32];
  constexpr ClassTables() : ascii(), category() {
    for (int c = 'A'; c <= 'Z'; ++c) ascii[c] = kLetter | kUpperSet;
    for (int c = 'a'; c <= 'z'; ++c) ascii[c] = kLetter | kLowerSet;
    for (int c = '0'; c <= '9'; ++c) ascii[c] = kNumber;
    ascii[' '] = ascii['\t'] = ascii['\v'] = ascii['\f'] = kSpace;
    ascii['\r'] = ascii['\n'] = kSpace | kNewline;
    using G = GeneralCategory;
    category[static_cast<int>(G::Lu)] = kLetter | kUpperSet;
    category[static_cast<int>(G::Lt)] = kLetter | kUpperSet;
    category[static_cast<int>(G::Ll)] = kLetter | kLowerSet;
    category[static_cast<int>(G::Lm)] = kLetter | kUpperSet | kLowerSet;
    category[static_cast<int>(G::Lo)] = kLetter | kUpperSet | kLowerSet;
    category[static_cast<int>(G::Mn)] = kUpperSet | kLowerSet;
    category[static_cast<int>(G::Mc)] = kUpperSet | kLowerSet;
    category[static_cast<int>(G::Me)] = kUpperSet | kLowerSet;
    category[static_cast<int>(G::Nd)] = kNumber;
    category[static_cast<int>(G::Nl)] = kNumber;
    category[static_cast<int>(G::No)] = kNumber;
  }
};
inline constexpr ClassTables kClassTables{};

// One character: its code point, byte length and classes.
struct Char {
  uint32_t cp;
  uint32_t len;
  uint8_t cls;
};

// The character at s[i] of valid UTF-8.
inline Char read_char(const uint8_t* s, std::size_t i) noexcept {
  const uint8_t b = s[i];
  if (b < 0x80) return Char{b, 1, kClassTables.ascii[b]};
  uint32_t cp;
  const auto len = static_cast<uint32_t>(decode_utf8(s, i, &cp));
  uint8_t cls = kClassTables.category[static_cast<int>(general_category(cp))];
  if (cls == 0 && is_white_space(cp)) cls = kSpace;  // U+0085, U+00A0, U+2028, U+3000, ...
  return Char{cp, len, cls};
}

// Classes of the character at s[i] (ASCII fast path; the common case in scanning loops).
inline uint8_t class_at(const uint8_t* s, std::size_t i, uint32_t* len) noexcept {
  const uint8_t b = s[i];
  if (b < 0x80) {
    *len = 1;
    return kClassTables.ascii[b];
  }
  const Char c = read_char(s, i);
  *len = c.len;
  return c.cls;
}

// End of the run of characters having any class in `mask`, starting at i.
inline std::size_t run_end(const uint8_t* s, std::size_t i, std::size_t end,
                           uint8_t mask) noexcept {
  while (i < end) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      if (!(kClassTables.ascii[b] & mask)) break;
      ++i;
    } else {
      const Char c = read_char(s, i);
      if (!(c.cls & mask)) break;
      i += c.len;
    }
  }
  return i;
}

// Bit 7 of each byte of the result is set where the byte of w is an ASCII lowercase letter, or
// with kFoldCase any ASCII letter (SWAR: with bit 7 cleared (and 0x20 set to fold case), a byte
// is one when it lies in 'a'..'z'; the additions cannot carry between bytes).
template <bool kFoldCase>
inline uint64_t ascii_letter_bits(uint64_t w) noexcept {
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t x = (kFoldCase ? w | 0x2020202020202020ull : w) & ~kHigh;
  const uint64_t ge_a = x + 0x1f1f1f1f1f1f1f1full;      // 0x80 - 'a'
  const uint64_t ge_brace = x + 0x0505050505050505ull;  // 0x80 - ('z' + 1)
  return ge_a & ~ge_brace & ~w & kHigh;
}

// End of the run of class kMask starting at i, whose only ASCII members are the letters (any
// case with kFoldCase, else lowercase): eight ASCII bytes at a time, then character by character
// from the first byte that is not one.
template <bool kFoldCase, uint8_t kMask>
inline std::size_t ascii_letter_run_end(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
  while (i + 8 <= end) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    const uint64_t letters = ascii_letter_bits<kFoldCase>(w);
    if (letters != 0x8080808080808080ull) {
      i += static_cast<std::size_t>(__builtin_ctzll(~letters & 0x8080808080808080ull)) >> 3;
      if (s[i] < 0x80) return i;  // an ASCII byte outside the class ends the run
      break;
    }
    i += 8;
  }
  return run_end(s, i, end, kMask);
}

// End of the run of \p{L} starting at i.
inline std::size_t letter_run_end(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
  return ascii_letter_run_end<true, kLetter>(s, i, end);
}

// End of the run of o200k's lower set [\p{Ll}\p{Lm}\p{Lo}\p{M}] starting at i.
inline std::size_t lower_run_end(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
  return ascii_letter_run_end<false, kLowerSet>(s, i, end);
}

// End of the run of characters in none of the classes in `mask` (e.g. [^\s\p{L}\p{N}]+).
inline std::size_t run_end_not(const uint8_t* s, std::size_t i, std::size_t end,
                               uint8_t mask) noexcept {
  while (i < end) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      if (kClassTables.ascii[b] & mask) break;
      ++i;
    } else {
      const Char c = read_char(s, i);
      if (c.cls & mask) break;
      i += c.len;
    }
  }
  return i;
}

// Length of a contraction suffix at s[i] (after nothing; i points at the apostrophe), or 0.
// Case-insensitive form: '(?i:[sdmt]|ll|ve|re). Under Unicode simple case folding, as in the
// regex crate and Oniguruma, `s` also matches U+017F LATIN SMALL LETTER LONG S.
inline std::size_t contraction_ci(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
  if (i + 1 >= end || s[i] != '\'') return 0;
  const uint8_t c = s[i + 1] | 0x20;  // ASCII lowercase (harmless on other bytes: see checks)
  if (s[i + 1] < 0x80) {
    if (c == 's' || c == 'd' || c == 'm' || c == 't') return 2;
    if (i + 2 < end && s[i + 2] < 0x80) {
      const uint8_t c2 = s[i + 2] | 0x20;
      if ((c == 'l' && c2 == 'l') || (c == 'v' && c2 == 'e') || (c == 'r' && c2 == 'e')) return 3;
    }
    return 0;
  }
  if (s[i + 1] == 0xC5 && i + 2 < end && s[i + 2] == 0xBF) return 3;  // 'ſ
  return 0;
}

// Case-sensitive form of GPT-2 / r50k: '(?:[sdmt]|ll|ve|re).
inline std::size_t contraction_cs(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
  if (i + 1 >= end || s[i] != '\'') return 0;
  const uint8_t c = s[i + 1];
  if (c == 's' || c == 'd' || c == 'm' || c == 't') return 2;
  if (i + 2 < end) {
    const uint8_t c2 = s[i + 2];
    if ((c == 'l' && c2 == 'l') || (c == 'v' && c2 == 'e') || (c == 'r' && c2 == 'e')) return 3;
  }
  return 0;
}

// The whitespace alternatives of the GPT patterns, at i where a whitespace run starts:
//   kEndRule:     \s++$         the whole run when it reaches the end
//   kNewlineRule: \s*[\r\n]+?   up to and including the run's last \r or \n
//   then          \s+(?!\S)     the run (at the end) or the run minus its last character
//   then          \s | \s+      one character
// Greedy backtracking turns \s*[\r\n] into "up to the last newline of the run", and \s*[\r\n]+
// into the same (after the last newline of a run comes a non-newline or the run's end).
template <bool kEndRule, bool kNewlineRule>
inline std::size_t whitespace_piece_end(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
  std::size_t q = i, last_newline_end = 0, last_start = i;
  while (q < end) {
    const uint8_t b = s[q];
    if (b < 0x80) {
      const uint8_t cls = kClassTables.ascii[b];
      if (!(cls & kSpace)) break;
      if (cls & kNewline) last_newline_end = q + 1;
      last_start = q++;
    } else {
      const Char c = read_char(s, q);
      if (!(c.cls & kSpace)) break;
      last_start = q;
      q += c.len;
    }
  }
  if (kEndRule && q == end) return q;
  if (kNewlineRule && last_newline_end != 0) return last_newline_end;
  if (q == end) return q;
  if (last_start > i) return last_start;
  return q;
}

}  // namespace ctxengine::detail
