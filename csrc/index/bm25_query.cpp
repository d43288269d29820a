// Top-k BM25 queries. The fast path is block-max WAND (Ding & Suel, "Faster top-k document
// retrieval using block-max indexes", SIGIR 2011): document-at-a-time over cursors sorted by
// their current doc; a pivot is found from per-term upper bounds, then the block maxima of the
// blocks holding the pivot bound it again before any block is decoded. The reference path
// scores every posting term-at-a-time. Both sum a document's term scores in query-term order,
// so they give the same scores bit for bit, and ties go to the lower doc id in both.
#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "index/bm25.hpp"
#include "index/postings.hpp"

namespace ctxengine {
namespace {

constexpr uint32_t kEnd = 0xFFFFFFFFu;

struct Hit {
  float score;
  uint32_t doc;
};

// "a ranks before b": higher score first, then lower doc id.
inline bool ranks_before(const Hit& a, const Hit& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.doc < b.doc);
}

class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(std::min<std::size_t>(k, 1 << 16)); }
  void push(float score, uint32_t doc) {
    const Hit h{score, doc};
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    } else if (ranks_before(h, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), ranks_before);
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    }
  }
  // Documents are visited in increasing id order, so a later one must beat this strictly.
  float threshold() const {
    return heap_.size() < k_ ? -std::numeric_limits<float>::infinity() : heap_.front().score;
  }
  std::size_t finish(float* scores, int64_t* docs) {
    std::sort(heap_.begin(), heap_.end(), ranks_before);
    for (std::size_t i = 0; i < heap_.size(); ++i) {
      scores[i] = heap_[i].score;
      docs[i] = heap_[i].doc;
    }
    return heap_.size();
  }

 private:
  std::size_t k_;
  std::vector<Hit> heap_;
};

struct Cursor {
  uint32_t term = 0;
  std::size_t qi = 0;  // position in the query: the summation order
  float weight = 1;
  double ub = 0;  // weight x the term's largest score
  std::size_t block = 0, block_end = 0;
  bool decoded = false;
  std::size_t pos = 0, count = 0;
  // The cursor's doc. When `exact` is false it is only a lower bound of the next posting: a
  // skip moves cursors without decoding the blocks it lands in (most are skipped again).
  uint32_t doc = 0;
  bool exact = false;
  uint32_t docs[kBlockSize];
  uint32_t tfs[kBlockSize];
};

class Wand {
 public:
  Wand(const Bm25Index& index, const std::vector<QueryTerm>& query, std::vector<double> term_max)
      : index_(index), cursors_(query.size()) {
    const auto& a = index.arrays();
    for (std::size_t i = 0; i < query.size(); ++i) {
      Cursor& c = cursors_[i];
      c.term = query[i].term;
      c.qi = i;
      c.weight = query[i].weight;
      c.ub = c.weight * term_max[i];
      c.block = a.term_blocks[c.term];
      c.block_end = a.term_blocks[c.term + 1];
      order_.push_back(&c);
    }
    // The pivot search sums term bounds in doc order, not query-term order; float sums in
    // another order differ by a few ulps, so it compares with this much slack (conservative:
    // a pivot found a little early is then checked exactly against the block maxima).
    slack_ = 1.0 + 1e-6 * static_cast<double>(query.size() + 2);
  }

  std::size_t run(std::size_t k, const uint8_t* live, float* scores, int64_t* docs) {
    const auto& a = index_.arrays();
    TopK top(k);
    const std::size_t m = order_.size();
    for (;;) {
      // Insertion sort by doc: cursors move a little between iterations.
      for (std::size_t i = 1; i < m; ++i) {
        Cursor* c = order_[i];
        std::size_t j = i;
        for (; j > 0 && order_[j - 1]->doc > c->doc; --j) order_[j] = order_[j - 1];
        order_[j] = c;
      }
      const float theta = top.threshold();
      // Pivot: the first cursor where the term bounds so far could beat the threshold.
      double acc = 0;
      std::size_t p = m;
      for (std::size_t i = 0; i < m && order_[i]->doc != kEnd; ++i) {
        acc += order_[i]->ub;
        if (acc * slack_ > theta) {
          p = i;
          break;
        }
      }
      if (p == m) break;
      const uint32_t d = order_[p]->doc;
      // Second bound: the block maxima of the blocks that may hold d, of every cursor at or
      // before d, summed in float in query-term order (cursors_ is in that order). Each is >=
      // the term's score in any doc of its block and float addition is monotone, so the sum is
      // >= the score of any doc up to the first block end: no slack is needed, and docs that
      // can only tie the threshold (repeated text) are skipped.
      float block_acc = 0;
      for (Cursor& c : cursors_) {
        if (c.doc > d) continue;
        shallow(c, d);
        if (c.block < c.block_end) block_acc += c.weight * a.block_max[c.block];
      }
      if (!(block_acc > theta)) {
        // Nothing in [d, next) can win: skip to the first doc past one of these blocks, or to
        // the first doc of a cursor beyond d.
        uint64_t next = kEnd;
        for (const Cursor& c : cursors_) {
          if (c.doc > d) {
            next = std::min<uint64_t>(next, c.doc);
          } else if (c.block < c.block_end) {
            next = std::min<uint64_t>(next, uint64_t{a.block_last_doc[c.block]} + 1);
          }
        }
        const auto target = static_cast<uint32_t>(std::min<uint64_t>(next, kEnd));
        for (Cursor& c : cursors_)
          if (c.doc <= d) advance_to(c, target);
        continue;
      }
      // Make the cursors on d exact; a loose lower bound may move on.
      bool moved = false;
      for (Cursor& c : cursors_) {
        if (c.doc != d) continue;
        resolve(c);
        moved = moved || c.doc != d;
      }
      if (moved) continue;
      // With no cursor behind d, this is d's score, summed in query-term order as the
      // exhaustive path sums it. With laggards, their block maxima stand in for them: if even
      // that cannot beat the threshold, d is skipped without decoding the laggards' blocks.
      const bool lagging = order_[0]->doc < d;
      bool skip = live != nullptr && !live[d];
      if (!skip) {
        float score = 0;
        for (const Cursor& c : cursors_) {
          if (c.doc == d) {
            score += c.weight * index_.term_score(c.term, c.tfs[c.pos], d);
          } else if (c.doc < d && c.block < c.block_end) {
            score += c.weight * a.block_max[c.block];
          }
        }
        if (lagging) {
          skip = !(score > theta);
        } else {
          top.push(score, d);
        }
      }
      if (!lagging || skip) {
        for (Cursor& c : cursors_)
          if (c.doc == d) advance_to(c, d + 1);
      } else {
        for (Cursor& c : cursors_)
          if (c.doc < d) advance_to(c, d);
      }
    }
    return top.finish(scores, docs);
  }

 private:
  // Moves to the block that may hold `target` without decoding it.
  void shallow(Cursor& c, uint32_t target) {
    const auto& last = index_.arrays().block_last_doc;
    while (c.block < c.block_end && last[c.block] < target) {
      ++c.block;
      c.decoded = false;
    }
  }
  // Moves to the first posting with doc >= target, lazily: within the decoded block it finds
  // the posting; otherwise it moves to the block that may hold target and records target as a
  // lower bound, decoding nothing (doc = kEnd when the list is exhausted).
  void advance_to(Cursor& c, uint32_t target) {
    if (c.doc >= target) return;
    if (target == kEnd) {
      c.doc = kEnd;
      c.exact = true;
      c.block = c.block_end;
      return;
    }
    if (c.decoded && c.docs[c.count - 1] >= target) {
      while (c.docs[c.pos] < target) ++c.pos;
      c.doc = c.docs[c.pos];
      c.exact = true;
      return;
    }
    shallow(c, target);
    if (c.block == c.block_end) {
      c.doc = kEnd;
      c.exact = true;
      return;
    }
    c.doc = target;
    c.exact = false;
  }
  // Turns a lower bound into the real next posting, decoding its block.
  void resolve(Cursor& c) {
    if (c.exact) return;
    if (!c.decoded) {
      c.count = index_.decode(c.term, c.block, c.docs, c.tfs);
      c.decoded = true;
      c.pos = 0;
    }
    while (c.docs[c.pos] < c.doc) ++c.pos;  // shallow() put the block's last doc >= c.doc
    c.doc = c.docs[c.pos];
    c.exact = true;
  }

  const Bm25Index& index_;
  std::vector<Cursor> cursors_;
  std::vector<Cursor*> order_;
  double slack_ = 1;
};

}  // namespace

std::size_t Bm25Index::search(const std::vector<QueryTerm>& query, std::size_t k,
                              const uint8_t* live, float* out_scores, int64_t* out_docs,
                              bool exhaustive) const {
  CTX_REQUIRE(k >= 1, "k must be at least 1");
  if (query.empty() || n_docs() == 0) return 0;
  for (const auto& q : query)
    CTX_REQUIRE(q.term < n_terms() && q.weight > 0, "query terms must come from parse_query");
  if (!exhaustive) {
    std::vector<double> term_max;
    for (const auto& q : query) term_max.push_back(term_max_[q.term]);
    return Wand(*this, query, std::move(term_max)).run(k, live, out_scores, out_docs);
  }
  // Reference: accumulate every posting's score, term by term in query order.
  std::vector<float> acc(n_docs(), 0.0f);
  std::vector<char> hit(n_docs(), 0);
  uint32_t docs[kBlockSize], tfs[kBlockSize];
  for (const auto& q : query) {
    for (std::size_t b = a_.term_blocks[q.term]; b < a_.term_blocks[q.term + 1]; ++b) {
      const std::size_t n = decode(q.term, b, docs, tfs);
      for (std::size_t i = 0; i < n; ++i) {
        acc[docs[i]] += q.weight * term_score(q.term, tfs[i], docs[i]);
        hit[docs[i]] = 1;
      }
    }
  }
  TopK top(k);
  for (std::size_t d = 0; d < n_docs(); ++d)
    if (hit[d] && (live == nullptr || live[d])) top.push(acc[d], static_cast<uint32_t>(d));
  return top.finish(out_scores, out_docs);
}

void Bm25Index::search_many(const std::vector<std::string_view>& queries, std::size_t k,
                            const uint8_t* live, float* out_scores, int64_t* out_docs,
                            int64_t* out_counts, std::size_t threads) const {
  CTX_REQUIRE(k >= 1, "k must be at least 1");
  parallel_for(queries.size(), 16, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
      out_counts[i] = static_cast<int64_t>(
          search(parse_query(queries[i]), k, live, out_scores + i * k, out_docs + i * k));
  });
}

}  // namespace ctxengine
