// Sentence ends, after Unicode's sentence rules (UAX #29) with the usual practical additions:
// a period does not end a sentence before a lowercase word (UAX #29 SB8), inside a number
// ("3.14", no space follows), after a known abbreviation ("Dr.", "e.g."), after an initial
// ("J. R. R. Tolkien") or after a line-leading list number ("1. Install"); "!" and "?" end a
// sentence when a space and no lowercase word follow; CJK and fullwidth terminators (。！？．) end
// one with no space after them; closing quotes and brackets after the terminator belong to the
// sentence. tests/test_sentences.py holds a plain Python twin of these rules and hand-labelled
// sentences.
#pragma once

#include <cstdint>

#include "chunking/boundary.hpp"

namespace ctxengine::detail {

enum class TerminatorKind : uint8_t {
  None,
  Period,    // . (and fullwidth variants that still want a space after them)
  Ellipsis,  // …
  Stop,      // ! ? and other unambiguous terminators
  Wide,      // 。 ！ ？ ． ｡ and friends: end a sentence with no space after them
};

TerminatorKind terminator_kind(uint32_t cp);

// Bytes that can start a terminator: '.', '!', '?' or any non-ASCII lead byte.
inline bool may_start_terminator(unsigned char c) {
  return c == '.' || c == '!' || c == '?' || c >= 0xC0;
}

struct SentenceEnd {
  uint64_t end = 0;     // just past the terminators and closing punctuation
  bool is_end = false;  // whether a sentence ends there
  bool wide = false;    // ended by a CJK / fullwidth terminator (needs no space after it)
};

// Examines the terminator that starts at `pos` (the caller checked terminator_kind). Reads at
// most kLookbehind bytes before `pos` and kLookahead bytes after it.
SentenceEnd sentence_end_at(const TextWindow& w, uint64_t pos);

}  // namespace ctxengine::detail
