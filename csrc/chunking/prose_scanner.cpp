// The scanner of plain text, for by="recursive" and by="sentences".
//
// Recursive levels follow semantic-text-splitter's TextSplitter (sentences, then runs of 1, 2,
// 3+ line breaks), plus sections: a line that is a heading (markdown "# Title", or a title
// underlined or over- and underlined as in reStructuredText and setext markdown) starts a
// section, and its underline never starts a chunk. By="sentences" keeps only sentence ends
// (a blank line also ends a sentence), so sentences are packed without regard to lines.
//
// Boundaries after a line break sit at the start of the line (before its indentation); a
// sentence end followed by spaces sits at the next word. Trimming makes both land on text.
#include <algorithm>
#include <array>
#include <memory>

#include "chunking/scanner.hpp"
#include "chunking/sentence.hpp"
#include "chunking/text_scan.hpp"

namespace ctxengine {
namespace detail {
namespace {

constexpr uint64_t kNone = kNoLineEnd;
constexpr uint64_t kMaxTitleBytes = 512;

bool is_adornment_char(unsigned char c) {
  switch (c) {
    case '=':
    case '-':
    case '`':
    case ':':
    case '\'':
    case '"':
    case '~':
    case '^':
    case '_':
    case '*':
    case '+':
    case '#':
    case '<':
    case '>':
    case '.':
      return true;
    default:
      return false;
  }
}

// An adornment line: up to 3 spaces, 3+ copies of one punctuation character, trailing blanks.
// Returns that character, or 0.
unsigned char adornment(const TextWindow& w, uint64_t line, uint64_t eol) {
  uint64_t p = line;
  while (p < eol && p - line < 3 && w.at(p) == ' ') ++p;
  if (p >= eol || !is_adornment_char(w.at(p))) return 0;
  const unsigned char ch = w.at(p);
  uint64_t run = 0;
  while (p < eol && w.at(p) == ch) ++p, ++run;
  while (p < eol && (w.at(p) == ' ' || w.at(p) == '\t')) ++p;
  return p == eol && run >= 3 ? ch : 0;
}

class ProseScanner final : public BoundaryScanner {
 public:
  explicit ProseScanner(bool sentences_only) : sentences_only_(sentences_only) {}

  void scan(const TextWindow& w, uint64_t limit, std::vector<Boundary>& out) override {
    uint64_t p = pos_;
    while (p < limit) {
      if (!in_ws_) {
        // Skip what cannot matter: plain bytes, and single spaces between words (unless a
        // sentence just ended, whose following space carries the boundary).
        const unsigned char* s = w.ptr(p);
        const unsigned char* e = w.ptr(limit);
        if (!sentence_end_) s = skip_plain(s, e);
        p = w.base + static_cast<uint64_t>(s - w.ptr(w.base));
        if (p >= limit) break;
      }
      const unsigned char c = w.at(p);
      std::size_t len = 1;
      bool ws;
      uint32_t cp = c;
      if (c < 0x80) {
        ws = is_ws_byte(c);
      } else {
        cp = char_at(w, p, &len);
        ws = is_white_space(cp);
      }
      if (ws) {
        if (!in_ws_) begin_ws(p);
        int weight;
        const std::size_t lb = line_break_at(w, p, w.end(), &weight);
        if (lb) {
          newlines_ += weight;
          p += lb;
          line_start_ = p;
        } else {
          p += len;
        }
        continue;
      }
      if (in_ws_) end_ws_run(w, p, out);
      if (terminator_kind(cp) != TerminatorKind::None) {
        p = terminator(w, p, out);
        continue;
      }
      p += len;
    }
    pos_ = p;
    if (w.eof && pos_ >= w.end()) in_ws_ = false;  // trailing whitespace needs no boundary
  }

  uint64_t committed() const override { return in_ws_ ? ws_start_ : pos_; }

 private:
  void begin_ws(uint64_t p) {
    in_ws_ = true;
    ws_start_ = p;
    newlines_ = 0;
  }

  uint64_t terminator(const TextWindow& w, uint64_t p, std::vector<Boundary>& out) {
    const SentenceEnd se = sentence_end_at(w, p);
    if (se.is_end && se.end < w.end()) {
      std::size_t len;
      if (ws_at(w, se.end, &len))
        sentence_end_ = true;  // the whitespace run that follows carries the boundary
      else
        out.push_back(make_boundary(se.end, kLevelSentence));
    }
    return se.end;
  }

  // A whitespace run ends at `p` (a non-whitespace character).
  void end_ws_run(const TextWindow& w, uint64_t p, std::vector<Boundary>& out) {
    in_ws_ = false;
    const uint64_t at = newlines_ > 0 ? line_start_ : p;
    uint8_t level = 0;
    if (sentences_only_) {
      if (sentence_end_ || newlines_ >= 2) level = kLevelSentence;
    } else if (newlines_ == 0) {
      if (sentence_end_) level = kLevelSentence;
    } else if (at == suppress_[0] || at == suppress_[1]) {
      level = 0;  // a heading's underline stays with its title
    } else {
      level = newlines_ == 1 ? kLevelLine : newlines_ == 2 ? kLevelParagraph : kLevelBreak;
      const bool heading = is_heading(w, at, p, newlines_ >= 2 || ws_start_ == 0);
      if (heading) level = kLevelSection;
      // A heading starts its section's first chunk: the break after it is weak, so a chunk never
      // holds a heading alone when some of its text fits too.
      if (after_heading_) level = std::min(level, kLevelSentence);
      after_heading_ = heading;
    }
    sentence_end_ = false;
    if (level >= kLevelSentence && at > 0) out.push_back(make_boundary(at, level));
  }

  // Whether the line at `line` (first non-blank character at `first`) is a heading. Setext and
  // reStructuredText titles must follow a blank line (`after_blank`); their adornment lines are
  // remembered so that no boundary separates them from the title.
  bool is_heading(const TextWindow& w, uint64_t line, uint64_t first, bool after_blank) {
    if (first - line <= 3 && w.at(first) == '#') {
      uint64_t q = first;
      while (q < w.end() && w.at(q) == '#' && q - first < 7) ++q;
      if (q - first <= 6) {
        std::size_t len;
        if (q == w.end() || ws_at(w, q, &len)) return true;
      }
    }
    if (!after_blank) return false;
    const uint64_t eol = line_end(w, line, kMaxTitleBytes);
    const uint64_t second = eol == kNone ? kNone : next_line(w, eol);
    if (second == kNone) return false;
    const uint64_t eol2 = line_end(w, second, kMaxTitleBytes);
    if (eol2 == kNone) return false;
    const unsigned char over = adornment(w, line, eol);
    if (!over) {  // a title and its underline
      if (!adornment(w, second, eol2)) return false;
      suppress_[0] = second;
      suppress_[1] = kNone;
      return true;
    }
    // An overline, a title, an underline of the same character.
    if (adornment(w, second, eol2)) return false;
    const uint64_t third = next_line(w, eol2);
    if (third == kNone) return false;
    const uint64_t eol3 = line_end(w, third, kMaxTitleBytes);
    if (eol3 == kNone || adornment(w, third, eol3) != over) return false;
    suppress_[0] = second;
    suppress_[1] = third;
    return true;
  }

  bool sentences_only_;
  uint64_t pos_ = 0;
  // The text starts as if after a line break, so that a title on its first line is found.
  bool in_ws_ = true;
  uint64_t ws_start_ = 0;
  int newlines_ = 1;
  uint64_t line_start_ = 0;                // just after the last line break of the current run
  bool sentence_end_ = false;              // the current whitespace run follows a sentence end
  bool after_heading_ = false;             // the last line start was a heading's
  uint64_t suppress_[2] = {kNone, kNone};  // line starts of heading adornments
};

}  // namespace

std::unique_ptr<BoundaryScanner> make_prose_scanner(bool sentences_only) {
  return std::make_unique<ProseScanner>(sentences_only);
}

}  // namespace detail
}  // namespace ctxengine
