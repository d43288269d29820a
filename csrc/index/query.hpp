// Top-k query strategies over one segment, sharing one top-k heap across the segments of a
// query (csrc/index/segment_set.cpp visits segments in key order, so a later document never
// wins a tie and the threshold found in one segment prunes the next).
//
//   exhaustive  every posting scored term at a time, scalar: the reference.
//   taat        term-at-a-time into a dense accumulator; blocks scored eight postings at a
//               time and the accumulator scanned eight at a time (kernels.hpp). No pruning,
//               no per-document branching: the fastest where lists are short or dense
//               relative to the segment (small segments, questions full of common words).
//   maxscore    MaxScore (Turtle & Flood, 1995) with block-max checks of the non-essential
//               lists (as PISA's block_max_maxscore): terms sorted by bound; a prefix whose
//               bounds cannot reach the k-th score is "non-essential" and only probed for
//               documents the essential lists bring. Long questions with a few rare words.
//   bmw         block-max WAND (Ding & Suel, SIGIR 2011) with lazy cursors.
//
// All four sum a document's term scores in query-term order with the one expression of
// scoring.hpp, so they give the same scores bit for bit, and ties go to the lower key in all.
// Bounds come from impacts evaluated under the query's statistics (impacts.hpp): exact floats
// that are >= every score they cover, so a document that can only tie the k-th score is
// skipped without decoding anything.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "index/scoring.hpp"
#include "index/segment.hpp"

namespace ctxengine {

enum class Strategy : uint8_t { Auto = 0, Exhaustive = 1, Taat = 2, MaxScore = 3, Bmw = 4 };

struct Hit {
  float score;
  int64_t key;
};

// "a ranks before b": higher score first, then lower key.
inline bool ranks_before(const Hit& a, const Hit& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.key < b.key);
}

class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(std::min<std::size_t>(k, 1 << 16)); }
  void push(float score, int64_t key) {
    const Hit h{score, key};
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
      if (heap_.size() == k_) theta_ = heap_.front().score;
    } else if (ranks_before(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), ranks_before);
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
      theta_ = heap_.front().score;
    }
  }
  // Documents are visited in increasing key order, so a later one must beat this strictly: the
  // k-th score so far, or, below that, the threshold inherited from earlier documents.
  float threshold() const { return theta_ > bar_ ? theta_ : bar_; }
  // Documents pushed here come after every document `earlier` has seen (a later part of the
  // key order), so they must beat its threshold too.
  void inherit(const TopK& earlier) {
    const float t = earlier.threshold();
    if (t > bar_) bar_ = t;
  }
  std::size_t k() const { return k_; }
  std::size_t size() const { return heap_.size(); }
  std::vector<Hit> sorted() const {
    std::vector<Hit> out = heap_;
    std::sort(out.begin(), out.end(), ranks_before);
    return out;
  }

 private:
  std::size_t k_;
  std::vector<Hit> heap_;
  float theta_ = -std::numeric_limits<float>::infinity();
  float bar_ = -std::numeric_limits<float>::infinity();
};

// A query term as one segment sees it.
struct SegmentTerm {
  uint32_t term;                 // the segment's term id
  uint32_t qi;                   // position in the query: the summation order
  float weight;                  // occurrences in the query
  float idf;                     // under the query's statistics
  float ub;                      // bound of its score in any document of this segment
  const float* parts = nullptr;  // per block of this term: its best tf part (nullable)
};

// One segment's part of a query.
struct SegmentQuery {
  const Segment* segment;
  const Scorer* scorer;
  std::vector<SegmentTerm> terms;     // in query order
  std::size_t n_query_terms;          // terms of the whole query (qi < n_query_terms)
  const uint8_t* live;                // tombstones: 0 = deleted (nullable: all live)
  const uint8_t* filter;              // by key: filter[key] != 0 keeps it (nullable)
  std::size_t filter_size;            // keys >= this are filtered out
  const float* pair_parts = nullptr;  // per pair of the segment: its tf part (nullable)

  // The tf part of pair `id` (from the table when there is one: the same float).
  float pair_part(uint32_t id) const {
    if (pair_parts != nullptr) return pair_parts[id];
    const Impact& p = segment->pairs()[id];
    return scorer->tf_part(p.tf, scorer->norm(p.dl));
  }

  bool accepts(uint32_t d) const {
    if (live != nullptr && !live[d]) return false;
    if (filter == nullptr) return true;
    const int64_t key = segment->arrays().doc_keys[d];
    return key >= 0 && static_cast<uint64_t>(key) < filter_size && filter[key] != 0;
  }
  int64_t key(uint32_t d) const { return segment->arrays().doc_keys[d]; }
  void prefetch_key(uint32_t d) const { __builtin_prefetch(segment->arrays().doc_keys.data + d); }
  // A term's bound in block b: weight x idf x the block's best tf part.
  float block_bound(const SegmentTerm& t, std::size_t b) const {
    if (t.parts != nullptr)
      return Scorer::combine(t.weight, t.idf, t.parts[b - segment->block_begin(t.term)]);
    std::size_t n;
    const Impact* imp = segment->block_impacts(b, &n);
    return Scorer::combine(t.weight, t.idf, scorer->max_tf_part(imp, n));
  }
};

void search_exhaustive(const SegmentQuery& q, TopK& top);
void search_taat(const SegmentQuery& q, TopK& top);
void search_maxscore(const SegmentQuery& q, TopK& top);
void search_bmw(const SegmentQuery& q, TopK& top);
// Term-at-a-time over the documents [from, to) only.
void taat_range(const SegmentQuery& q, uint32_t from, uint32_t to, TopK& top);

// The strategy the cost model (query_plan.cpp) picks for this segment's part of a query.
Strategy choose_strategy(const SegmentQuery& q, std::size_t k, float threshold);

// Runs `s` (Auto: the cost model's choice) on up to `threads` threads (0 = all cores; see
// query_parallel.cpp: the result is the same for any number); returns the strategy run.
Strategy run_strategy(Strategy s, const SegmentQuery& q, std::size_t k, TopK& top,
                      std::size_t threads = 1);

// Term-at-a-time split by document ranges over threads, when the query is large enough to pay
// for it; false (nothing done) when it is not.
bool taat_parallel(const SegmentQuery& q, TopK& top, std::size_t threads);

// When a query is split: ranges of `range_docs` documents (best a multiple of term-at-a-time's
// window of 32K), and only queries whose lists in the segment hold at least `min_postings`
// postings. Settable for tests, so that small corpora exercise the split.
struct ParallelGrain {
  uint32_t range_docs = 1u << 16;
  uint64_t min_postings = 1u << 16;
};
ParallelGrain parallel_grain();
void set_parallel_grain(const ParallelGrain& grain);

}  // namespace ctxengine
