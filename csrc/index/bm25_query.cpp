// Top-k BM25 queries. The fast path is block-max WAND (Ding & Suel, "Faster top-k document
// retrieval using block-max indexes", SIGIR 2011): document-at-a-time over cursors sorted by
// their current doc; a pivot is found from per-term upper bounds, then the block maxima of the
// blocks holding the pivot bound it again before any block is decoded. The reference path
// scores every posting term-at-a-time. Both sum a document's term scores in query-term order,
// so they give the same scores bit for bit, and ties go to the lower doc id in both.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

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

// How a query's terms are scored: under the index's own statistics (its precomputed idf and
// document norms), or under statistics given from outside (idf from the given frequencies, norms
// from the given average length, with the same float expressions, so equal statistics give equal
// scores bit for bit). Stored bounds (block maxima) were made under the index's own statistics;
// `scale` turns them into bounds under the given ones (see Scoring::make).
struct Scoring {
  const Bm25Index* index = nullptr;
  bool external = false;
  double avgdl = 0;
  std::vector<float> idf;    // per query term, when external
  std::vector<float> scale;  // per query term: stored bound -> bound under these statistics

  float tf_mult = 1;

  float term_score(std::size_t qi, uint32_t t, uint32_t tf, uint32_t d) const {
    if (!external) return index->term_score(t, tf, d);
    const Bm25Params& p = index->params();
    const float f = static_cast<float>(tf);
    const auto norm =
        static_cast<float>(p.k1 * (1.0 - p.b + p.b * index->arrays().doc_lengths[d] / avgdl));
    return idf[qi] * (f * tf_mult) / (f + norm);
  }
  // A stored bound of query term qi under these statistics (+inf when none can be derived).
  float bound(std::size_t qi, float stored) const {
    if (scale[qi] == 1.0f) return stored;
    if (std::isinf(scale[qi])) return scale[qi];
    return stored * scale[qi];
  }

  static Scoring make(const Bm25Index& index, const std::vector<QueryTerm>& query,
                      const ExternalStats* stats) {
    Scoring s;
    s.index = &index;
    s.scale.assign(query.size(), 1.0f);
    if (stats == nullptr) return s;
    s.external = true;
    const Bm25Params& p = index.params();
    s.tf_mult = p.variant == Bm25Variant::Lucene ? 1.0f : static_cast<float>(p.k1 + 1);
    const auto n = static_cast<double>(stats->n_docs);
    const auto total = static_cast<double>(stats->total_length);
    s.avgdl = stats->n_docs == 0 || stats->total_length == 0 ? 1.0 : total / n;
    // norm under avgdl' >= c x norm under avgdl, c = min(1, avgdl / avgdl') (both norms are
    // affine in the length with the same intercept), so tf/(tf + norm') <= tf/(tf + norm) / c,
    // and a term's score is at most (idf' / idf) / c times its stored bound. A little slack
    // covers float rounding; with no usable bound (idf 0 here), the bound is infinite.
    const double c = std::min(1.0, index.avgdl() / s.avgdl);
    for (std::size_t i = 0; i < query.size(); ++i) {
      const uint32_t t = query[i].term;
      auto it = stats->df.find(std::string(index.term(t)));
      const double df = it == stats->df.end() ? index.arrays().term_df[t] : it->second;
      s.idf.push_back(static_cast<float>(bm25_idf(index.params().variant, n, df)));
      const float own = index.idf(t);
      s.scale[i] = own > 0 ? static_cast<float>(s.idf[i] / own / c * (1.0 + 1e-5))
                           : std::numeric_limits<float>::infinity();
      if (s.idf[i] == 0) s.scale[i] = 0;
    }
    return s;
  }
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
  Wand(const Bm25Index& index, const std::vector<QueryTerm>& query, std::vector<double> term_max,
       const Scoring& scoring)
      : index_(index), scoring_(scoring), cursors_(query.size()) {
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
        if (c.block < c.block_end)
          block_acc += c.weight * scoring_.bound(c.qi, a.block_max[c.block]);
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
            score += c.weight * scoring_.term_score(c.qi, c.term, c.tfs[c.pos], d);
          } else if (c.doc < d && c.block < c.block_end) {
            score += c.weight * scoring_.bound(c.qi, a.block_max[c.block]);
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
  const Scoring& scoring_;
  std::vector<Cursor> cursors_;
  std::vector<Cursor*> order_;
  double slack_ = 1;
};

}  // namespace

std::size_t Bm25Index::search(const std::vector<QueryTerm>& query, std::size_t k,
                              const uint8_t* live, float* out_scores, int64_t* out_docs,
                              bool exhaustive, const ExternalStats* stats) const {
  CTX_REQUIRE(k >= 1, "k must be at least 1");
  if (query.empty() || n_docs() == 0) return 0;
  for (const auto& q : query)
    CTX_REQUIRE(q.term < n_terms() && q.weight > 0, "query terms must come from parse_query");
  const Scoring scoring = Scoring::make(*this, query, stats);
  if (!exhaustive) {
    std::vector<double> term_max;
    for (std::size_t i = 0; i < query.size(); ++i) {
      term_max.push_back(scoring.bound(i, term_max_[query[i].term]));
    }
    return Wand(*this, query, std::move(term_max), scoring).run(k, live, out_scores, out_docs);
  }
  // Reference: accumulate every posting's score, term by term in query order.
  std::vector<float> acc(n_docs(), 0.0f);
  std::vector<char> hit(n_docs(), 0);
  uint32_t docs[kBlockSize], tfs[kBlockSize];
  for (std::size_t qi = 0; qi < query.size(); ++qi) {
    const QueryTerm& q = query[qi];
    for (std::size_t b = a_.term_blocks[q.term]; b < a_.term_blocks[q.term + 1]; ++b) {
      const std::size_t n = decode(q.term, b, docs, tfs);
      for (std::size_t i = 0; i < n; ++i) {
        acc[docs[i]] += q.weight * scoring.term_score(qi, q.term, tfs[i], docs[i]);
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
                            int64_t* out_counts, std::size_t threads,
                            const ExternalStats* stats) const {
  CTX_REQUIRE(k >= 1, "k must be at least 1");
  parallel_for(queries.size(), 16, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
      out_counts[i] = static_cast<int64_t>(search(
          parse_query(queries[i]), k, live, out_scores + i * k, out_docs + i * k, false, stats));
  });
}

}  // namespace ctxengine
