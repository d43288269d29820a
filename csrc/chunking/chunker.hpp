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
  Step next(const TextWindow& w, const SpanCounter& counter,
            const std::vector<Boundary>& boundaries, uint64_t committed, ChunkRecord* out);

  // The earliest offset the next call may read (a stream keeps its text from here on).
  uint64_t needed_from() const { return cursor_; }

 private:
  struct Span;
  bool choose_end(const Span& span, uint64_t fe, ChunkRecord* out, uint64_t* raw_end);
  uint64_t overlap_start(const Span& span, uint64_t s, uint64_t e);

  ChunkOptions opt_;
  uint64_t cursor_ = 0;  // where the next chunk may start (before trimming)
  bool overlap_active_ = false;
  uint64_t prev_end_ = 0;      // end of the previous chunk, when the next one overlaps it
  uint64_t prev_raw_end_ = 0;  // the boundary it ended at
  uint64_t window_;            // bytes to offer fit() first; adapts to the text
};

}  // namespace ctxengine
