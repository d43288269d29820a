// Sets of code points as sorted, disjoint, non-adjacent closed intervals, with the set algebra
// and the Unicode properties a regex character class is built from: general categories,
// White_Space, Alphabetic, scripts and simple case folding (Unicode 16.0; see unicode.hpp and
// scripts/gen_unicode_tables.py).
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "text/unicode.hpp"

namespace ctxengine {

class CharSet {
 public:
  static constexpr uint32_t kMax = 0x10FFFF;

  CharSet() = default;
  static CharSet range(uint32_t lo, uint32_t hi);
  static CharSet single(uint32_t cp) { return range(cp, cp); }
  static CharSet all() { return range(0, kMax); }

  // Adds [lo, hi] (keeps the intervals normalized).
  void add(uint32_t lo, uint32_t hi);
  void add(const CharSet& other);
  CharSet complement() const;
  CharSet intersect(const CharSet& other) const;
  CharSet minus(const CharSet& other) const { return intersect(other.complement()); }
  // Every code point whose simple case folding equals that of a member ((?i) classes).
  CharSet case_closure() const;

  bool contains(uint32_t cp) const noexcept;
  bool empty() const noexcept { return runs_.empty(); }
  const std::vector<std::pair<uint32_t, uint32_t>>& runs() const noexcept { return runs_; }
  bool operator==(const CharSet& o) const noexcept { return runs_ == o.runs_; }

 private:
  std::vector<std::pair<uint32_t, uint32_t>> runs_;
};

// Members of the general categories whose bits are set in `mask` (bit i = GeneralCategory i).
CharSet category_set(uint32_t mask);
CharSet white_space_set();
CharSet alphabetic_set();
CharSet join_control_set();
// The Script property (not Script_Extensions: what \p{Han} means in the regex crate, Oniguruma
// and Python's regex); `ok` is false for a script name the tables do not carry.
CharSet script_set(std::string_view name, bool* ok);
// The code points that simple case folding relates to cp (cp included).
std::vector<uint32_t> case_variants(uint32_t cp);
// Whether some code point's full case folding is the multi-character string `folded` (e.g.
// "ss" for U+00DF): Oniguruma's (?i) matches such a code point where a pattern spells the string.
bool is_multi_char_folding(std::u32string_view folded);

}  // namespace ctxengine
