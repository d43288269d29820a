// Greedy merging to a token budget: from the current position, the chunk ends at the strongest
// boundary within reach, as far as possible; a unit larger than the budget falls through to
// weaker levels (words, then characters), so nothing is emitted oversized or dropped. Counts
// come from a SpanCounter and each chunk's count is the exact count of its own text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "chunking/boundary.hpp"
#include "tokenizer/span_counter.hpp"

namespace ctxengine {

struct ChunkOptions {
  std::size_t max_tokens = 512;
  std::size_t overlap = 0;  // tokens shared by consecutive chunks, at most
  bool trim = true;         // drop whitespace at chunk edges
};

struct ChunkRecord {
  uint64_t start = 0;  // byte offsets into the whole text
  uint64_t end = 0;
  uint64_t tokens = 0;
};

class Chunker {
 public:
  enum class Step { Chunk, NeedMore, Done };

  explicit Chunker(const ChunkOptions& options);

  // Finds the next chunk. `counter` counts spans of w.bytes (offsets relative to w.base);
  // `boundaries` are sorted and final below `committed` (which is w.end() when w.eof). Returns
  // NeedMore when the decision would read past `committed` in a stream that has not ended.
  // The decision is a function of the text and of the chunks before it, so a stream that is
  // asked again with more text makes the same one.
  Step next(const TextWindow& w, const SpanCounter& counter,
            const std::vector<Boundary>& boundaries, uint64_t committed, ChunkRecord* out);

  // The earliest offset the next call may read (a stream keeps its text from here on).
  uint64_t needed_from() const { return overlap_ ? starts_[first_start_] : cursor_; }

 private:
  struct Span;
  struct End {
    ChunkRecord chunk;
    uint64_t raw_end = 0;  // the boundary it ends at, before trimming
    int level = 0;         // that boundary's level (kLevelWord for words, kLevelChar for cuts)
  };
  enum class Found { Yes, No, NeedMore };

  Found find(const Span& span, uint64_t s, uint64_t min_end, End* out) const;
  bool choose_end(const Span& span, uint64_t s, uint64_t min_end, uint64_t fe, uint64_t reach,
                  End* out) const;
  bool prepend_overlap(const Span& span, const End& plain, End* out) const;
  void plan_overlap(const Span& span, const ChunkRecord& chunk);

  ChunkOptions opt_;
  uint64_t cursor_ = 0;  // where the next chunk starts (before trimming) when not overlapping
  uint64_t window_;      // bytes to offer fit() first; adapts to the text
  // The overlap with the previous chunk: where the next chunk may start inside it (trimmed,
  // ascending); the first `first_start_` of them would share more than `overlap` tokens.
  bool overlap_ = false;
  std::vector<uint64_t> starts_;
  std::size_t first_start_ = 0;
  uint64_t prev_end_ = 0;  // the previous chunk's end
};

}  // namespace ctxengine
