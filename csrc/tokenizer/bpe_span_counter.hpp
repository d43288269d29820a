// Exact token counts of spans of one text after one pass (the SpanCounter of BpeTokenizer).
//
// BPE never merges across pieces, and a regex scanner is stateless between matches, so the
// pieces of text[a, b) are the pieces of the whole text except near the two edges:
// - the start: when `a` falls inside a piece, scanning from `a` gives other pieces until one of
//   them ends on a boundary of the whole text; from there on both scans agree;
// - the end: a piece's match may look past its end (\s+(?!\S) and \s++$ see the whole
//   whitespace run and what follows it), so cutting the text at b can change the pieces before
//   b. A piece that holds a non-space character does not change when the text is cut at or
//   after its end, and neither does any piece before it (see safe_at), so the boundary after
//   the last such piece before b is safe.
// count(a, b) is then a re-scan of the head, a prefix-sum difference over the middle and a
// re-encode of the tail: O(log n) plus the edges' length. fit(a, b, limit) searches the prefix
// sums for the safe boundaries on either side of the limit and resolves only the piece between
// them (inside a long piece, from one encoding of it: see resolve()). Tests compare every
// answer with re-encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "tokenizer/span_counter.hpp"

namespace ctxengine {

class BpeTokenizer;

class BpeSpanCounter final : public SpanCounter {
 public:
  // Counts every piece of `text` (which must outlive this object).
  BpeSpanCounter(const BpeTokenizer& tokenizer, std::string_view text);
  // Counts pieces only until more than `limit` tokens are behind a safe boundary, or the text
  // ends, or the next piece is longer than `huge_piece` bytes (then huge_piece_end() is its
  // end): count/fit then work on [0, covered()).
  BpeSpanCounter(const BpeTokenizer& tokenizer, std::string_view text, std::size_t limit,
                 std::size_t huge_piece);
  // Continues a limited build past the huge piece it stopped before.
  void extend(std::size_t limit, std::size_t huge_piece);

  std::string_view text() const override { return text_; }
  std::size_t count(std::size_t begin, std::size_t end) const override;
  std::size_t fit(std::size_t begin, std::size_t end, std::size_t limit) const override;
  // The mirror of fit: a start s in [begin, end] on a character boundary with
  // count(s, end) <= limit such that s == begin or starting one character earlier exceeds it.
  std::size_t fit_start(std::size_t begin, std::size_t end, std::size_t limit) const;

  // Bytes of the text the table covers (text().size() unless built with a limit).
  std::size_t covered() const noexcept { return starts_.back(); }
  // Tokens of text[0, covered()).
  std::size_t total() const noexcept { return cum_.back(); }
  // Piece boundaries: piece k is [piece_starts()[k], piece_starts()[k + 1]).
  const std::vector<uint32_t>& piece_starts() const noexcept { return starts_; }
  // End of the huge piece a limited build stopped before, or 0.
  std::size_t huge_piece_end() const noexcept { return huge_end_; }
  // The last boundary <= pos after which cutting changes no earlier piece (see above).
  std::size_t safe_boundary_before(std::size_t pos) const noexcept;

 private:
  // A position and the exact count of text[begin, pos) for the span being searched.
  struct Point {
    std::size_t pos;
    std::size_t count;
  };
  template <class Scanner>
  void build_with(std::size_t limit, std::size_t huge_piece);
  void build(std::size_t limit, std::size_t huge_piece);
  // Whether boundary k (k >= 1) is safe: its piece holds a non-space character.
  bool safe_at(std::size_t k) const noexcept { return has_nonspace(starts_[k - 1], starts_[k]); }
  bool has_nonspace(std::size_t a, std::size_t b) const noexcept;
  // The last k with starts_[k] <= pos that is safe and after `begin`, or 0 when there is none.
  std::size_t safe_index_before(std::size_t begin, std::size_t pos) const noexcept;
  Point resolve(std::size_t a, std::size_t c, std::size_t hi, bool hi_over,
                std::size_t limit) const;
  Point bisect(std::size_t a, std::size_t c, Point lo, std::size_t hi, bool hi_over,
               std::size_t limit) const;
  std::size_t next_char(std::size_t i) const noexcept;
  std::size_t char_start(std::size_t i) const noexcept;
  std::size_t middle_char(std::size_t lo, std::size_t hi) const noexcept;
  bool memo_find(std::size_t begin, std::size_t end, std::size_t* count) const;
  void memo_put(std::size_t begin, std::size_t end, std::size_t count) const;

  const BpeTokenizer* tok_;
  std::string_view text_;
  std::vector<uint32_t> starts_;  // starts_[0] = 0, ..., starts_.back() = covered()
  std::vector<uint32_t> cum_;     // cum_[k] = tokens of the pieces before starts_[k]
  std::size_t huge_end_ = 0;

  // The counts of the last few long spans that fit() or count() computed: a chunker asks for
  // the count of the span fit() just returned, which inside a long piece costs an encoding.
  struct Memo {
    std::size_t begin = 0, end = 0, count = 0;
  };
  static constexpr std::size_t kMemoSize = 4;
  mutable std::mutex memo_mutex_;
  mutable Memo memo_[kMemoSize];
  mutable std::size_t memo_next_ = 0;
};

}  // namespace ctxengine
