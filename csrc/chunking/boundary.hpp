// Boundaries: the byte offsets where a chunk may end, each with a level that says how strong a
// break it is (a heading beats a blank line beats a line break beats a sentence end). Word
// boundaries (whitespace runs, CJK characters) are not stored: the chunker finds them in the text
// when it needs them, which keeps the stored list about ten times shorter than the word count.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctxengine {

// Levels shared by every mode. Modes that know more structure (markdown headings, code depth)
// use the levels above kLevelParagraph; the chunker only compares levels.
inline constexpr uint8_t kLevelChar = 0;       // any character boundary (the last resort)
inline constexpr uint8_t kLevelWord = 1;       // implicit: the end of a whitespace run, CJK
inline constexpr uint8_t kLevelSentence = 2;   // after . ! ? 。 and friends
inline constexpr uint8_t kLevelLine = 3;       // one line break
inline constexpr uint8_t kLevelParagraph = 4;  // a blank line
inline constexpr uint8_t kLevelBreak = 5;      // two or more blank lines; markdown blocks
inline constexpr uint8_t kLevelSection = 6;    // a heading (recursive mode); markdown H6 .. H1
inline constexpr uint8_t kLevelTextEnd = 255;  // the end of the text

// A stored boundary packs its absolute byte offset and its level in one word.
using Boundary = uint64_t;
inline Boundary make_boundary(uint64_t pos, uint8_t level) {
  return (pos << 8) | level;
}
inline uint64_t boundary_pos(Boundary b) {
  return b >> 8;
}
inline uint8_t boundary_level(Boundary b) {
  return static_cast<uint8_t>(b & 0xFF);
}

// A view of the text the scanners and the chunker may read: bytes [base, base + bytes.size()) of
// the whole text. In memory the view is the whole text (base 0, eof); a stream slides it along.
struct TextWindow {
  std::string_view bytes;
  uint64_t base = 0;
  bool eof = true;  // the text ends where the view ends

  uint64_t end() const { return base + bytes.size(); }
  unsigned char at(uint64_t pos) const { return static_cast<unsigned char>(bytes[pos - base]); }
  const unsigned char* ptr(uint64_t pos) const {
    return reinterpret_cast<const unsigned char*>(bytes.data()) + (pos - base);
  }
};

// How far past a position a scanner may look to decide the boundary there. Capping look-ahead
// makes each decision depend on a bounded stretch of text, so a stream that holds this much
// beyond the point it commits makes exactly the decisions the in-memory scan makes.
inline constexpr uint64_t kLookahead = 4096;
// How far before a position a scanner may look (the word before a period).
inline constexpr uint64_t kLookbehind = 64;

// Headings found by the markdown scanner: the chunk's heading path is the chain of parents of
// the last heading at or before the chunk's start.
struct Heading {
  uint64_t pos = 0;     // where the heading's line starts
  uint8_t level = 0;    // 1..6
  int64_t parent = -1;  // index of the enclosing heading, or -1
  std::string title;    // the heading text without markers
};

}  // namespace ctxengine
