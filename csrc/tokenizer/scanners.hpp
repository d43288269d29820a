// Hand-written pre-tokenizer scanners, one per known pattern. Each `next(s, i, end)` returns the
// end of the piece that the pattern's leftmost-first regex match at byte i of s[.., end) yields
// (end acts as the end of the text: `$` and the look-aheads see it). Pieces tile the text: every
// character matches some alternative and no alternative matches the empty string.
//
// The patterns (the exact strings are in pretokenizer.cpp):
//   cl100k_base  '(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|
//                 ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s
//   llama3       (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//                 ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//                (also cl100k's pattern before tiktoken 0.6: no \s++$ rule)
//   qwen2        as llama3 with \p{N} (single digits)
//   r50k / gpt2  '(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s
//   o200k_base [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|
//                't|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}
//                \p{Lm}\p{Lo}\p{M}]*(?i:...)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|
//                \s+(?!\S)|\s+
// Possessive and greedy forms give the same matches here (nothing after them can fail), except
// where noted. The scanners are differential-tested against tiktoken and HF tokenizers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tokenizer/char_class.hpp"

namespace ctxengine::detail {

// How the letter runs are scanned: eight ASCII bytes at a time (SWAR, char_class.hpp). The
// template parameter lets csrc/bench/bench_scan_avx2.cpp measure a 32-byte AVX2 variant.
struct SwarRuns {
  static std::size_t letters(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
    return letter_run_end(s, i, end);
  }
};

// cl100k_base (kEndRule = true, 3 digits), llama3 (false, 3) and qwen2 (false, 1).
template <bool kEndRule, int kMaxDigits, class Runs = SwarRuns>
struct Cl100kFamilyScanner {
  static std::size_t next(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
    uint32_t len;
    const uint8_t cls = class_at(s, i, &len);
    // '(?i:[sdmt]|ll|ve|re)
    if (s[i] == '\'') {
      if (const std::size_t n = contraction_ci(s, i, end)) return i + n;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (cls & kLetter) return Runs::letters(s, i + len, end);
    if (!(cls & (kNewline | kNumber)) && i + len < end) {
      uint32_t len2;
      if (class_at(s, i + len, &len2) & kLetter) return Runs::letters(s, i + len + len2, end);
    }
    // \p{N}{1,kMaxDigits}
    if (cls & kNumber) {
      std::size_t q = i + len;
      for (int k = 1; k < kMaxDigits && q < end; ++k) {
        uint32_t l;
        if (!(class_at(s, q, &l) & kNumber)) break;
        q += l;
      }
      return q;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    constexpr uint8_t kNotOther = kSpace | kLetter | kNumber;
    std::size_t q = i;
    if (s[i] == ' ' && i + 1 < end) {
      uint32_t l;
      if (!(class_at(s, i + 1, &l) & kNotOther)) q = i + 1;
    }
    if (q > i || !(cls & kNotOther)) {
      q = run_end_not(s, q, end, kNotOther);
      while (q < end && (s[q] == '\r' || s[q] == '\n')) ++q;
      return q;
    }
    // The character is whitespace.
    return whitespace_piece_end<kEndRule, true>(s, i, end);
  }
};

using Cl100kScanner = Cl100kFamilyScanner<true, 3>;
using Llama3Scanner = Cl100kFamilyScanner<false, 3>;
using Qwen2Scanner = Cl100kFamilyScanner<false, 1>;

// r50k_base, p50k_base and GPT-2 (tiktoken's form and the original regex are equivalent).
struct R50kScanner {
  static std::size_t next(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
    if (s[i] == '\'') {
      if (const std::size_t n = contraction_cs(s, i, end)) return i + n;
    }
    constexpr uint8_t kNotOther = kSpace | kLetter | kNumber;
    uint32_t len;
    uint8_t cls = class_at(s, i, &len);
    std::size_t start = i;
    // ' ?': a space joins the run that follows it, whichever of the three it is.
    if (s[i] == ' ' && i + 1 < end) {
      uint32_t len2;
      const uint8_t next_cls = class_at(s, i + 1, &len2);
      if (!(next_cls & kSpace)) {
        start = i + 1;
        cls = next_cls;
        len = len2;
      }
    }
    if (cls & kLetter) return letter_run_end(s, start + len, end);
    if (cls & kNumber) return run_end(s, start + len, end, kNumber);
    if (!(cls & kNotOther)) return run_end_not(s, start + len, end, kNotOther);
    return whitespace_piece_end<true, false>(s, i, end);
  }
};

// o200k_base.
struct O200kScanner {
  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...)? at i; 0 if no match.
  // Greedy backtracking: the upper run takes all it can; if no lower-set character follows,
  // it gives back characters up to its last one that is in both sets, which W+ then takes.
  static std::size_t upper_then_lower(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
    std::size_t q = i, last_both = 0, last_both_len = 0;
    uint8_t cls = 0;
    uint32_t len = 0;
    while (q < end) {
      cls = class_at(s, q, &len);
      if (!(cls & kUpperSet)) break;
      if (cls & kLowerSet) {
        last_both = q;
        last_both_len = len;
      }
      q += len;
    }
    std::size_t e;
    if (q < end && (cls & kLowerSet)) {
      e = lower_run_end(s, q + len, end);
    } else if (last_both_len != 0) {
      e = last_both + last_both_len;
    } else {
      return 0;
    }
    return e + contraction_ci(s, e, end);
  }

  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...)? at i; 0 if no match.
  static std::size_t upper_run(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
    uint32_t len;
    if (i >= end || !(class_at(s, i, &len) & kUpperSet)) return 0;
    std::size_t e = run_end(s, i + len, end, kUpperSet);
    e = lower_run_end(s, e, end);
    return e + contraction_ci(s, e, end);
  }

  static std::size_t next(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
    uint32_t len;
    const uint8_t cls = class_at(s, i, &len);
    const bool prefix = !(cls & (kNewline | kLetter | kNumber));  // [^\r\n\p{L}\p{N}]
    const bool letter_or_mark = (cls & (kUpperSet | kLowerSet)) != 0;
    // Alternative 1, with the optional prefix taken first, then without it.
    if (prefix && i + len < end) {
      if (const std::size_t e = upper_then_lower(s, i + len, end)) return e;
    }
    if (letter_or_mark) {
      if (const std::size_t e = upper_then_lower(s, i, end)) return e;
    }
    // Alternative 2, likewise.
    if (prefix && i + len < end) {
      if (const std::size_t e = upper_run(s, i + len, end)) return e;
    }
    if (cls & kUpperSet) return upper_run(s, i, end);
    // \p{N}{1,3}
    if (cls & kNumber) {
      std::size_t q = i + len;
      for (int k = 1; k < 3 && q < end; ++k) {
        uint32_t l;
        if (!(class_at(s, q, &l) & kNumber)) break;
        q += l;
      }
      return q;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n/]*'
    constexpr uint8_t kNotOther = kSpace | kLetter | kNumber;
    std::size_t q = i;
    if (s[i] == ' ' && i + 1 < end) {
      uint32_t l;
      if (!(class_at(s, i + 1, &l) & kNotOther)) q = i + 1;
    }
    if (q > i || !(cls & kNotOther)) {
      q = run_end_not(s, q, end, kNotOther);
      while (q < end && (s[q] == '\r' || s[q] == '\n' || s[q] == '/')) ++q;
      return q;
    }
    return whitespace_piece_end<false, true>(s, i, end);
  }
};

}  // namespace ctxengine::detail
