// The scanner of markdown (CommonMark with GFM tables), for by="markdown".
//
// Levels, like semantic-text-splitter's MarkdownSplitter: a heading starts a section (H1 the
// strongest, kLevelSection + 5, down to H6 at kLevelSection); blocks (paragraphs after a blank
// line, fenced code, tables, thematic breaks) start at kLevelBreak; list items at
// kLevelParagraph; a soft line break, a table row or a line of code at kLevelLine; sentences
// only in prose. Nothing inside a fenced code block or a table is stronger than a line, so the
// chunker keeps a block whole whenever it fits. Headings are recorded with their parents for
// the chunks' heading paths.
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
constexpr uint64_t kMaxLineBytes = 1024;  // longer lines are never headings, fences or rules

bool only_blanks(const TextWindow& w, uint64_t p, uint64_t eol) {
  for (; p < eol; ++p)
    if (w.at(p) != ' ' && w.at(p) != '\t') return false;
  return true;
}

// The first non-blank byte of the line [line, eol) when it is indented by at most 3 spaces.
uint64_t block_start(const TextWindow& w, uint64_t line, uint64_t eol) {
  uint64_t p = line;
  while (p < eol && w.at(p) == ' ' && p - line < 3) ++p;
  return p < eol && w.at(p) != ' ' && w.at(p) != '\t' ? p : kNone;
}

// "***", "- - -", "___": a thematic break.
bool is_thematic_break(const TextWindow& w, uint64_t line, uint64_t eol) {
  const uint64_t p = block_start(w, line, eol);
  if (p == kNone) return false;
  const unsigned char ch = w.at(p);
  if (ch != '*' && ch != '-' && ch != '_') return false;
  int count = 0;
  for (uint64_t q = p; q < eol; ++q) {
    if (w.at(q) == ch)
      ++count;
    else if (w.at(q) != ' ' && w.at(q) != '\t')
      return false;
  }
  return count >= 3;
}

// A setext underline: "===" or "---" (two or more) and nothing else. Returns 1, 2 or 0.
int setext_level(const TextWindow& w, uint64_t line, uint64_t eol) {
  uint64_t p = block_start(w, line, eol);
  if (p == kNone || (w.at(p) != '=' && w.at(p) != '-')) return 0;
  const unsigned char ch = w.at(p);
  uint64_t run = 0;
  while (p < eol && w.at(p) == ch) ++p, ++run;
  return run >= 2 && only_blanks(w, p, eol) ? (ch == '=' ? 1 : 2) : 0;
}

// A GFM table delimiter row: "| --- | :-: |", made of pipes, dashes, colons and blanks.
bool is_delimiter_row(const TextWindow& w, uint64_t line, uint64_t eol) {
  bool pipe = false, dash = false;
  for (uint64_t p = line; p < eol; ++p) {
    const unsigned char c = w.at(p);
    if (c == '|')
      pipe = true;
    else if (c == '-')
      dash = true;
    else if (c != ':' && c != ' ' && c != '\t')
      return false;
  }
  return pipe && dash;
}

bool contains_pipe(const TextWindow& w, uint64_t line, uint64_t eol) {
  for (uint64_t p = line; p < eol; ++p)
    if (w.at(p) == '|') return true;
  return false;
}

// "- item", "* item", "+ item", "1. item", "2) item".
bool is_list_item(const TextWindow& w, uint64_t first, uint64_t eol) {
  uint64_t p = first;
  const unsigned char c = w.at(p);
  if (c == '-' || c == '*' || c == '+') {
    ++p;
  } else {
    while (p < eol && p - first < 9 && w.at(p) >= '0' && w.at(p) <= '9') ++p;
    if (p == first || p >= eol || (w.at(p) != '.' && w.at(p) != ')')) return false;
    ++p;
  }
  return p == eol || w.at(p) == ' ' || w.at(p) == '\t';
}

class MarkdownScanner final : public BoundaryScanner {
 public:
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
      uint32_t cp = c;
      bool ws;
      if (c < 0x80) {
        ws = is_ws_byte(c);
      } else {
        cp = char_at(w, p, &len);
        ws = is_white_space(cp);
      }
      if (ws) {
        if (!in_ws_) {
          in_ws_ = true;
          ws_start_ = p;
          newlines_ = 0;
        }
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
      if (prose_ && terminator_kind(cp) != TerminatorKind::None) {
        const SentenceEnd se = sentence_end_at(w, p);
        if (se.is_end && se.end < w.end()) {
          if (ws_at(w, se.end, &len))
            sentence_end_ = true;
          else
            out.push_back(make_boundary(se.end, kLevelSentence));
        }
        p = se.end;
        continue;
      }
      p += len;
    }
    pos_ = p;
    if (w.eof && pos_ >= w.end()) in_ws_ = false;
  }

  uint64_t committed() const override { return in_ws_ ? ws_start_ : pos_; }
  const std::vector<Heading>* headings() const override { return &headings_; }
  int64_t headings_base() const override { return base_; }
  void forget_headings_before(uint64_t pos) override {
    const auto it = std::lower_bound(headings_.begin(), headings_.end(), pos,
                                     [](const Heading& h, uint64_t p) { return h.pos < p; });
    if (it - headings_.begin() <= 1) return;
    const auto drop = (it - headings_.begin()) - 1;  // keep the last one before pos
    headings_.erase(headings_.begin(), headings_.begin() + drop);
    base_ += drop;
  }

 private:
  void end_ws_run(const TextWindow& w, uint64_t p, std::vector<Boundary>& out) {
    in_ws_ = false;
    uint8_t level = 0;
    uint64_t at = p;
    if (newlines_ == 0) {
      if (sentence_end_) level = kLevelSentence;
    } else {
      at = line_start_;
      line_heading_ = line_suppressed_ = keep_block_ = false;
      level = classify_line(w, at, p, newlines_ >= 2);
      if (!line_suppressed_) {
        // A heading starts its section's first chunk: the break after it is weak, so a chunk
        // never holds a heading alone when some of its text fits too. Fences and tables keep
        // their block level, so that one that fits is never split.
        if (after_heading_ && !keep_block_) level = std::min(level, kLevelSentence);
        after_heading_ = line_heading_;
      }
    }
    sentence_end_ = false;
    if (level >= kLevelSentence && at > 0) out.push_back(make_boundary(at, level));
  }

  // Classifies the line at `line` whose first non-blank character is at `first`, updating the
  // block state; returns the level of the boundary at the line's start.
  uint8_t classify_line(const TextWindow& w, uint64_t line, uint64_t first, bool blank_before) {
    const uint64_t eol = line_end(w, line, kMaxLineBytes);
    const uint64_t known_eol = eol == kNone ? line : eol;  // for checks that need the whole line
    prose_ = false;
    if (in_fence_) {
      if (eol != kNone && is_fence_close(w, line, eol)) {
        in_fence_ = false;
        after_block_ = true;
      }
      return blank_before ? kLevelParagraph : kLevelLine;
    }
    if (line == suppress_) {  // a setext underline or a table's delimiter row
      after_block_ = after_block_ || setext_underline_;
      line_suppressed_ = true;
      return 0;
    }
    const bool new_block = blank_before || after_block_;
    after_block_ = false;
    if (blank_before) in_table_ = false;
    const uint64_t lead = eol == kNone ? kNone : block_start(w, line, eol);
    if (lead != kNone && open_fence(w, lead, eol)) {
      keep_block_ = true;
      return kLevelBreak;
    }
    if (lead != kNone && w.at(lead) == '#') {
      uint64_t q = lead;
      while (q < eol && w.at(q) == '#') ++q;
      const auto hashes = static_cast<int>(q - lead);
      if (hashes <= 6 && (q == eol || w.at(q) == ' ' || w.at(q) == '\t')) {
        add_heading(w, line, q, eol, hashes, true);
        after_block_ = line_heading_ = true;
        return static_cast<uint8_t>(kLevelSection + 6 - hashes);
      }
    }
    if (eol != kNone && is_thematic_break(w, line, eol)) {
      after_block_ = true;
      return kLevelBreak;
    }
    if (in_table_) return kLevelLine;
    const uint64_t second = eol == kNone ? kNone : next_line(w, eol);
    const uint64_t eol2 = second == kNone ? kNone : line_end(w, second, kMaxLineBytes);
    if (eol2 != kNone && contains_pipe(w, line, known_eol) && is_delimiter_row(w, second, eol2)) {
      in_table_ = keep_block_ = true;
      suppress_ = second;
      setext_underline_ = false;
      return kLevelBreak;
    }
    if (new_block && eol2 != kNone && lead != kNone && !is_list_item(w, lead, eol)) {
      if (const int k = setext_level(w, second, eol2)) {
        add_heading(w, line, first, eol, k, false);
        line_heading_ = true;
        suppress_ = second;
        setext_underline_ = true;
        return static_cast<uint8_t>(kLevelSection + 6 - k);
      }
    }
    prose_ = true;
    if (is_list_item(w, first, eol == kNone ? w.end() : eol))
      return new_block ? kLevelBreak : kLevelParagraph;
    return new_block ? kLevelBreak : kLevelLine;
  }

  bool open_fence(const TextWindow& w, uint64_t lead, uint64_t eol) {
    const unsigned char ch = w.at(lead);
    if (ch != '`' && ch != '~') return false;
    uint64_t q = lead;
    while (q < eol && w.at(q) == ch) ++q;
    if (q - lead < 3) return false;
    if (ch == '`')
      for (uint64_t r = q; r < eol; ++r)
        if (w.at(r) == '`') return false;  // an inline code span, not a fence
    in_fence_ = true;
    fence_char_ = ch;
    fence_len_ = q - lead;
    return true;
  }

  bool is_fence_close(const TextWindow& w, uint64_t line, uint64_t eol) const {
    const uint64_t lead = block_start(w, line, eol);
    if (lead == kNone || w.at(lead) != fence_char_) return false;
    uint64_t q = lead;
    while (q < eol && w.at(q) == fence_char_) ++q;
    return q - lead >= fence_len_ && only_blanks(w, q, eol);
  }

  // Records a heading whose text runs from `text` to `eol` (ATX: without its closing #s).
  void add_heading(const TextWindow& w, uint64_t line, uint64_t text, uint64_t eol, int level,
                   bool atx) {
    uint64_t a = skip_ws(w, text, eol);
    uint64_t b = trim_end(w, a, eol);
    if (atx) {  // "## Title ##": the closing run of #s goes when a blank precedes it
      uint64_t c = b;
      while (c > a && w.at(c - 1) == '#') --c;
      if (c == a || w.at(c - 1) == ' ' || w.at(c - 1) == '\t') b = trim_end(w, a, c);
    }
    Heading h;
    h.pos = line;
    h.level = static_cast<uint8_t>(level);
    for (int k = level - 1; k >= 1; --k)
      if (stack_[k] >= 0) {
        h.parent = stack_[k];
        break;
      }
    h.title.assign(reinterpret_cast<const char*>(w.ptr(a)), b - a);
    stack_[level] = base_ + static_cast<int64_t>(headings_.size());
    for (int k = level + 1; k <= 6; ++k) stack_[k] = -1;
    headings_.push_back(std::move(h));
  }

  uint64_t pos_ = 0;
  bool in_ws_ = true;  // the text starts as if after a blank line: a new block
  uint64_t ws_start_ = 0;
  int newlines_ = 2;
  uint64_t line_start_ = 0;
  bool sentence_end_ = false;
  bool prose_ = false;  // the current line is prose: sentence ends count
  bool in_fence_ = false;
  unsigned char fence_char_ = 0;
  uint64_t fence_len_ = 0;
  bool in_table_ = false;
  bool after_block_ = false;  // the previous line closed a block (fence, heading, rule)
  uint64_t suppress_ = kNone;
  bool setext_underline_ = false;
  bool after_heading_ = false;    // the previous line start was a heading's
  bool line_heading_ = false;     // the line being classified is a heading
  bool line_suppressed_ = false;  // ... is a setext underline or a table delimiter row
  bool keep_block_ = false;       // ... opens a fence or a table
  std::array<int64_t, 7> stack_ = {-1, -1, -1, -1, -1, -1, -1};
  std::vector<Heading> headings_;
  int64_t base_ = 0;  // the number of headings_[0]
};

}  // namespace

std::unique_ptr<BoundaryScanner> make_markdown_scanner() {
  return std::make_unique<MarkdownScanner>();
}

}  // namespace detail
}  // namespace ctxengine
