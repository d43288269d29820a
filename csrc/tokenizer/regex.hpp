// A compiled pre-tokenizer regex: the dialect of regex_parse.hpp run with leftmost-first
// (backtracking) semantics, as fancy-regex, Oniguruma and Python's regex run it.
//
// Design (measured in bench/bench_pretokenize.py and docs/tokenizers.md):
// - Character classes become bits of a 64-bit mask. One table per pattern maps every code point
//   to an equivalence class id (two stages, blocks of 256 shared), and each id to the mask of
//   the classes holding it; ASCII is one table load.
// - The same table gives, per character, the top-level alternatives whose first character it
//   can be, so a match attempt tries only those, in order (leftmost-first is kept), and a search
//   skips characters no alternative can start with.
// - A class repeated (\p{L}+, \s{1,3}, [^\s\p{L}]*) is one instruction that scans the run and
//   gives characters back one at a time when what follows fails; everything else is a small
//   backtracking machine (split, jump, literal, look-ahead and atomic sub-matches, a progress
//   check for loops whose body can match empty).
// - Work is bounded: programs over 100,000 instructions are refused at compile time, and a
//   search that takes more than kMaxSteps steps (catastrophic backtracking) raises Limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/utf8.hpp"
#include "tokenizer/regex_parse.hpp"

namespace ctxengine {

class Regex {
 public:
  using Flavor = rx::Flavor;
  static constexpr std::size_t kMaxInstructions = 100000;
  static constexpr uint64_t kMaxSteps = uint64_t{1} << 26;  // Oniguruma stops at 10,000,000 retries

  // Throws as parse_regex does, and Limit for a program over kMaxInstructions.
  static std::shared_ptr<const Regex> compile(std::string_view pattern, Flavor flavor);

  const std::string& pattern() const noexcept { return pattern_; }
  Flavor flavor() const noexcept { return flavor_; }

  // The leftmost-first match in the text s[begin, end) (begin and end are the text's start and
  // end for anchors and look-ahead) found by searching from `from`: true with [*mb, *me).
  bool search(const uint8_t* s, std::size_t begin, std::size_t from, std::size_t end,
              std::size_t* mb, std::size_t* me) const;

  // A position in find_iter's walk over a text: where the next search starts and where the
  // last match ended.
  struct Cursor {
    std::size_t at;
    std::size_t last_end = static_cast<std::size_t>(-1);
    explicit Cursor(std::size_t begin) : at(begin) {}
  };
  struct Span {
    std::size_t begin, end;
  };
  // The next matches of find_iter in s[begin, end) from `cursor`, at most `cap` of them, into
  // out; returns how many (0: no more). After a match the search continues at its end; an empty
  // match right where the previous match ended is skipped, and after an empty match the search
  // moves one character (as the reference engines' find_iter).
  std::size_t next_matches(const uint8_t* s, std::size_t begin, std::size_t end, Cursor& cursor,
                           Span* out, std::size_t cap) const;

  // Calls fn(mb, me) for each successive match in s[begin, end). The matches are found in
  // batches, so that fn is inlined here and the scanner's loop stays hot between calls.
  template <class Fn>
  void for_each_match(const uint8_t* s, std::size_t begin, std::size_t end, Fn&& fn) const {
    constexpr std::size_t kBatch = 64;
    Span spans[kBatch];
    Cursor cursor(begin);
    while (const std::size_t n = next_matches(s, begin, end, cursor, spans, kBatch)) {
      for (std::size_t k = 0; k < n; ++k) fn(spans[k].begin, spans[k].end);
    }
  }

  // Anchored: the end of the leftmost-first match starting exactly at `at`, or npos.
  std::size_t match_at(const uint8_t* s, std::size_t begin, std::size_t at, std::size_t end) const;

  std::size_t num_instructions() const noexcept { return prog_.size(); }
  std::size_t num_classes() const noexcept { return num_classes_; }

  // One instruction of the backtracking machine (regex.cpp runs them).
  struct Inst {
    enum Op : uint8_t {
      Match,          // the alternative matched
      Lit,            // bytes literals_[x, x + y)
      Class,          // one character of class `cls`
      Run,            // [min, max] characters of class `cls`, greedy, lazy or possessive
      Split,          // try x, then y
      SplitIf,        // as Split, but straight to y when the next character is not in `cls`
                      // (the first characters of x): no choice point for a branch that fails
      Jmp,            // go to x
      Assert,         // anchor `flag` (rx::Anchor)
      Look,           // look-ahead: sub-match at x; `flag` 1 = negative
      LookClass,      // look-ahead of one character of `cls`; `flag` 1 = negative
      Atomic,         // sub-match at x, then continue after its end without backtracking in
      SetSlot,        // slot x = position (restored on backtracking)
      CheckProgress,  // fail when the position equals slot x (an empty loop iteration)
    };
    Op op = Match;
    uint8_t greed = 0;  // rx::Greed, for Run
    uint8_t flag = 0;   // Assert: anchor; Look*: negative; Run: 1/2 = SWAR run of ASCII letters
                        // (any case / lowercase) when those are the class's only ASCII members
    uint8_t cls = 0;
    uint32_t x = 0, y = 0;
    uint32_t min = 0, max = 0;
  };

 private:
  friend class RegexCompiler;
  friend class RegexMachine;
  static std::size_t char_len(uint8_t b) noexcept {
    return b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  }

  std::string pattern_;
  Flavor flavor_ = Flavor::Tiktoken;
  std::vector<Inst> prog_;
  std::string literals_;           // bytes of Lit instructions
  std::vector<uint32_t> entries_;  // entry pc of each top-level alternative
  uint64_t nullable_alts_ = 0;     // alternatives that may match empty or start with an assertion
  bool dispatch_ = true;           // false: more than 64 alternatives, try them all
  std::size_t num_classes_ = 0;
  std::size_t num_slots_ = 0;
  int word_class_ = -1;  // class bit of \w (for \b), or -1
  // Character tables: ASCII direct; others through two stages to an equivalence id.
  uint64_t ascii_cls_[128] = {};
  uint64_t ascii_alt_[128] = {};
  // Two-character dispatch for alternatives of the form P?REST (a space or punctuation before
  // a word, " ?X"): a character only in P starts alternative k when the next one is in
  // FIRST(REST): bit k of pre (first character) and of next (second character).
  uint64_t ascii_pre_[128] = {};
  uint64_t ascii_next_[128] = {};
  std::vector<uint16_t> stage1_;  // cp >> 8 -> block
  std::vector<uint16_t> stage2_;  // block * 256 + (cp & 255) -> id
  std::vector<uint64_t> eq_cls_, eq_alt_, eq_pre_, eq_next_;

 public:
  // The classes of the character at s[i] (valid UTF-8) and its byte length.
  inline uint64_t classes_at(const uint8_t* s, std::size_t i, uint32_t* len) const noexcept;
  // The equivalence id of the non-ASCII character at s[i], and its byte length.
  inline uint16_t eq_at(const uint8_t* s, std::size_t i, uint32_t* len) const noexcept;
  // The alternatives that can match at s[i] (i < end), with the two-character dispatch. Those
  // of the form P?REST that it admits only because s[i] is in P and not in FIRST(REST) are also
  // set in *consumed: P? must take that character, so their match is s[i] then REST's match at
  // i + *len (their entry + 1: P? compiles to one instruction), with nothing to give back.
  inline uint64_t candidates_at(const uint8_t* s, std::size_t i, std::size_t end,
                                uint64_t* consumed, uint32_t* len) const noexcept;
};

inline uint64_t Regex::classes_at(const uint8_t* s, std::size_t i, uint32_t* len) const noexcept {
  const uint8_t b = s[i];
  if (b < 0x80) {
    *len = 1;
    return ascii_cls_[b];
  }
  return eq_cls_[eq_at(s, i, len)];
}

inline uint16_t Regex::eq_at(const uint8_t* s, std::size_t i, uint32_t* len) const noexcept {
  uint32_t cp;
  *len = static_cast<uint32_t>(decode_utf8(s, i, &cp));
  return stage2_[(std::size_t{stage1_[cp >> 8]} << 8) | (cp & 0xFF)];
}

inline uint64_t Regex::candidates_at(const uint8_t* s, std::size_t i, std::size_t end,
                                     uint64_t* consumed, uint32_t* len) const noexcept {
  uint64_t alts, pre;
  *len = 1;
  *consumed = 0;
  const uint8_t b = s[i];
  if (b < 0x80) {
    alts = ascii_alt_[b];
    pre = ascii_pre_[b];
  } else {
    const uint16_t id = eq_at(s, i, len);
    alts = eq_alt_[id];
    pre = eq_pre_[id];
  }
  if (pre != 0 && i + *len < end) {
    const uint8_t c = s[i + *len];
    uint32_t l2;
    *consumed = pre & (c < 0x80 ? ascii_next_[c] : eq_next_[eq_at(s, i + *len, &l2)]);
    alts |= *consumed;
  }
  return alts;
}

}  // namespace ctxengine
