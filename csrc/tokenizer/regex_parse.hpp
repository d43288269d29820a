// The regex dialect of tokenizer files, parsed into a small syntax tree: alternation,
// concatenation, groups (capturing groups are plain groups: pre-tokenizers use only the whole
// match), classes with ranges, negation, nesting and intersection (&&), \p{..} categories and
// scripts, \s \d \w \S \D \W, '.', quantifiers ? * + {m,n} (greedy, lazy, possessive), (?i:..)
// and (?i), look-ahead (?=..) (?!..), atomic groups (?>..) and the anchors ^ $ \A \z \Z \b \B.
//
// Two flavors, because the reference engines disagree on a few points (checked against them in
// tests/test_regex.py):
//   Tiktoken   fancy-regex over the regex crate (tiktoken, HF's Whitespace pre-tokenizer):
//              ^ $ are text anchors, {m,n}+ is possessive, \w = Alphabetic|M|Nd|Pc|Join_Control,
//              (?i) is simple case folding.
//   Oniguruma  HF tokenizers' Split / ByteLevel regexes: ^ $ are line anchors, {m,n}+ is
//              ({m,n})+ and {n}? is ({n})?, \w = Alphabetic|M|Nd|Pc (and Latin-1's superscripts
//              and fractions), (?i) folds only the outermost bracket and no bare \p{..}, and
//              also matches multi-character foldings (U+00DF for "ss"), which the compiler
//              refuses rather than approximates.
// Anything else raises Unsupported naming the construct; repetition counts over 100,000 and
// nesting deeper than 256 raise Limit (bounded work for any file).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/charset.hpp"

namespace ctxengine::rx {

enum class Flavor : uint8_t { Tiktoken, Oniguruma };

inline constexpr uint32_t kInfinite = 0xFFFFFFFFu;
inline constexpr uint32_t kMaxRepeat = 100000;  // Oniguruma's ONIG_MAX_REPEAT_NUM

enum class Greed : uint8_t { Greedy, Lazy, Possessive };
enum class Anchor : uint8_t {
  TextStart,     // \A, ^ (Tiktoken)
  TextEnd,       // \z, $ (Tiktoken)
  LineStart,     // ^ (Oniguruma)
  LineEnd,       // $ (Oniguruma)
  EndOrNewline,  // \Z: the end, or before a final \n
  WordBoundary,
  NotWordBoundary,
};

struct Node {
  enum class Kind : uint8_t { Empty, Set, Literal, Concat, Alt, Repeat, Look, Atomic, Assert };
  Kind kind = Kind::Empty;
  CharSet set;                // Set
  uint32_t cp = 0;            // Literal (case-sensitive)
  std::vector<int> kids;      // Concat, Alt; Repeat, Look and Atomic have one
  uint32_t min = 0, max = 0;  // Repeat (max may be kInfinite)
  Greed greed = Greed::Greedy;
  bool negate = false;  // Look: (?!..)
  Anchor anchor = Anchor::TextStart;
};

struct Ast {
  std::vector<Node> nodes;
  int root = -1;
  Flavor flavor = Flavor::Tiktoken;
  CharSet word;  // the flavor's \w (for \b)
};

// Parses `pattern` (UTF-8). Throws Format for malformed patterns, Unsupported for constructs
// outside the dialect and Limit for repetition counts or nesting beyond the bounds above; each
// message names the construct and its character offset.
Ast parse_regex(std::string_view pattern, Flavor flavor);

}  // namespace ctxengine::rx
