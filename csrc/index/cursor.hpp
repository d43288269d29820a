// A document-at-a-time cursor over one term's posting list in a segment, for MaxScore and
// block-max WAND. It can move lazily: a skip moves it to the block that may hold the target and
// records the target as a lower bound of its next posting without decoding anything (most
// blocks a skip lands in are skipped again); resolve() decodes when the posting is needed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "index/kernels.hpp"
#include "index/postings.hpp"
#include "index/query.hpp"

namespace ctxengine::detail {

inline constexpr uint32_t kEnd = 0xFFFFFFFFu;

struct Cursor {
  const SegmentQuery* q = nullptr;
  const SegmentTerm* t = nullptr;
  std::size_t index = 0;  // position in q->terms: the summation order
  std::size_t block = 0, block_end = 0;
  bool decoded = false;
  std::size_t pos = 0, count = 0;
  // The cursor's doc. When `exact` is false it is only a lower bound of the next posting.
  uint32_t doc = 0;
  bool exact = false;
  std::size_t bound_block = static_cast<std::size_t>(-1);
  float bound = 0;
  bool scored = false;  // scores[] holds the decoded block's scores
  alignas(32) uint32_t docs[kBlockSize];
  alignas(32) uint32_t ids[kBlockSize];  // pair ids (segment.hpp)
  alignas(32) float scores[kBlockSize];

  void init(const SegmentQuery& query, std::size_t i) {
    q = &query;
    t = &query.terms[i];
    index = i;
    block = query.segment->block_begin(t->term);
    block_end = query.segment->block_end(t->term);
    decoded = false;
    doc = 0;
    exact = false;
  }
  // The scores of every posting of the decoded block, eight at a time (kernels.hpp).
  const float* block_scores() {
    if (!scored) {
      if (q->pair_parts != nullptr) {
        kernels().score_ids(ids, count, q->pair_parts, t->weight, t->idf, scores);
      } else {
        for (std::size_t i = 0; i < count; ++i)
          scores[i] = Scorer::combine(t->weight, t->idf, q->pair_part(ids[i]));
      }
      scored = true;
    }
    return scores;
  }
  // This term's score in the current (exact) doc.
  float score() const { return Scorer::combine(t->weight, t->idf, q->pair_part(ids[pos])); }
  // The bound of this term's score in the current block (kept while the block is).
  float block_bound() {
    if (bound_block != block) {
      bound_block = block;
      bound = q->block_bound(*t, block);
    }
    return bound;
  }
  // Moves to the block that may hold `target` (galloping over block ends), decoding nothing.
  void shallow(uint32_t target) {
    const uint32_t* last = q->segment->arrays().block_last_doc.data;
    if (block >= block_end || last[block] >= target) return;
    std::size_t lo = block + 1, step = 1;
    while (lo < block_end && last[lo] < target) {
      block = lo;
      lo += step;
      step *= 2;
    }
    // last[block] < target; the answer is in (block, min(lo, block_end)].
    std::size_t hi = lo < block_end ? lo : block_end;
    std::size_t b = block + 1;
    while (b < hi) {
      const std::size_t mid = b + (hi - b) / 2;
      if (last[mid] < target)
        b = mid + 1;
      else
        hi = mid;
    }
    block = b;
    decoded = false;
  }
  void to_end() {
    doc = kEnd;
    exact = true;
    block = block_end;
  }
  // First posting with doc >= target, lazily (see above).
  void advance_to(uint32_t target) {
    if (doc >= target) return;
    if (target == kEnd) return to_end();
    if (decoded && docs[count - 1] >= target) {
      while (docs[pos] < target) ++pos;
      doc = docs[pos];
      exact = true;
      return;
    }
    shallow(target);
    if (block == block_end) return to_end();
    doc = target;
    exact = false;
  }
  void load() {
    count = q->segment->decode_ids(t->term, block, docs, ids);
    decoded = true;
    scored = false;
    pos = 0;
  }
  // Turns a lower bound into the real next posting, decoding its block.
  void resolve() {
    if (exact) return;
    if (!decoded) load();
    while (docs[pos] < doc) ++pos;  // shallow() put the block's last doc >= doc
    doc = docs[pos];
    exact = true;
  }
  void next_geq(uint32_t target) {
    advance_to(target);
    resolve();
  }
  // The next posting after the current (exact) one.
  void next() {
    if (decoded && pos + 1 < count) {
      doc = docs[++pos];
      return;
    }
    ++block;
    decoded = false;
    if (block >= block_end) return to_end();
    load();
    doc = docs[0];
    exact = true;
  }
};

}  // namespace ctxengine::detail
