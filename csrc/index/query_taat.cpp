// Term-at-a-time strategies: the exhaustive reference (scalar, one posting at a time, nothing
// shared with the fast paths but the scoring expression) and the accumulator strategy.
#include <algorithm>
#include <vector>

#include "index/cursor.hpp"
#include "index/kernels.hpp"
#include "index/postings.hpp"
#include "index/query.hpp"

namespace ctxengine {
namespace {

constexpr uint32_t kTaatWindow = 1u << 15;
constexpr std::size_t kTakeBatch = 64;

// A thread's accumulator window; its first `filled` values hold `fill`.
struct Window {
  std::vector<float> acc = std::vector<float>(kTaatWindow);
  float fill = 0.0f;
  uint32_t filled = 0;
};

}  // namespace

void search_exhaustive(const SegmentQuery& q, TopK& top) {
  const Segment& s = *q.segment;
  const Scorer& sc = *q.scorer;
  const auto& dl = s.arrays().doc_lengths;
  std::vector<float> acc(s.n_docs(), 0.0f);
  std::vector<char> hit(s.n_docs(), 0);
  uint32_t docs[kBlockSize], tfs[kBlockSize];
  for (const SegmentTerm& t : q.terms) {
    for (std::size_t b = s.block_begin(t.term); b < s.block_end(t.term); ++b) {
      const std::size_t n = s.decode(t.term, b, docs, tfs);
      for (std::size_t i = 0; i < n; ++i) {
        const uint32_t d = docs[i];
        acc[d] += Scorer::combine(t.weight, t.idf, sc.tf_part(tfs[i], sc.norm(dl[d])));
        hit[d] = 1;
      }
    }
  }
  for (std::size_t d = 0; d < s.n_docs(); ++d)
    if (hit[d] && q.accepts(static_cast<uint32_t>(d)))
      top.push(acc[d], q.key(static_cast<uint32_t>(d)));
}

void search_taat(const SegmentQuery& q, TopK& top) {
  taat_range(q, 0, static_cast<uint32_t>(q.segment->n_docs()), top);
}

void taat_range(const SegmentQuery& q, uint32_t from, uint32_t to, TopK& top) {
  // In windows of documents, so that the accumulator and the document lengths a window reads
  // stay in cache (a 4 MB accumulator for a million documents, swept once per term, made
  // memory bandwidth the cost); within a window, term by term in query order.
  const Kernels& kern = kernels();
  const uint32_t n_docs = std::min<uint32_t>(to, static_cast<uint32_t>(q.segment->n_docs()));
  const std::size_t m = q.terms.size();
  std::vector<detail::Cursor> cur(m);
  // Every term's first block is asked for before any is decoded, so that a query whose index
  // data was evicted waits for the misses of all its terms at once, not one after another.
  for (std::size_t i = 0; i < m; ++i) {
    cur[i].init(q, i);
    q.segment->prefetch_block_meta(cur[i].block);
  }
  for (const auto& c : cur) q.segment->prefetch_block_bytes(c.block);
  for (auto& c : cur) c.next_geq(from);
  // -1 marks a document no term has reached: max(acc, 0) + score then starts a sum at exactly
  // 0 + score, as the reference does, without a branch; the scan keeps only acc >= 0.
  // When every term's idf is positive, every posting scores > 0 (the tf part of a posting is
  // > 0 and its weight >= 1): a zero accumulator then means "not reached", so the sums start
  // at 0 and need no sentinel.
  bool positive = true;
  for (const SegmentTerm& t : q.terms) positive = positive && t.idf > 0.0f;
  const float* parts = q.pair_parts;
  const float fill = positive ? 0.0f : -1.0f;
  // The window's accumulator is left filled by the scan that reads it (take_above), so only a
  // part never used before needs filling. While the loop runs the state says "nothing filled",
  // so that an error (a corrupt block) leaves no stale sums for the next query.
  thread_local Window win;
  if (win.fill != fill) win.filled = 0;
  win.fill = fill;
  uint32_t filled = win.filled;
  win.filled = 0;
  float* a = win.acc.data();
  // The first window's part of the accumulator is prefetched in order before the terms scatter
  // into it: after other work has evicted it, a query otherwise meets it one miss at a time.
  const uint32_t first_len = std::min<uint32_t>(filled, n_docs > from ? n_docs - from : 0);
  for (uint32_t i = 0; i < first_len; i += 16) __builtin_prefetch(a + i, 1, 3);
  alignas(32) uint32_t found_idx[kTakeBatch];
  alignas(32) float found_val[kTakeBatch];
  for (;;) {
    uint32_t start = detail::kEnd;
    for (const auto& c : cur) start = std::min(start, c.doc);
    if (start >= n_docs) break;
    const uint32_t end =
        static_cast<uint32_t>(std::min<uint64_t>(uint64_t{start} + kTaatWindow, n_docs));
    const uint32_t len = end - start;
    if (filled < len) {
      std::fill(a + filled, a + len, fill);
      filled = len;
    }
    for (auto& c : cur) {
      while (c.doc < end) {
        const uint32_t* docs = c.docs;
        std::size_t i = c.pos, stop = c.count;
        if (docs[stop - 1] >= end)
          stop = static_cast<std::size_t>(std::lower_bound(docs + i, docs + stop, end) - docs);
        if (positive && parts != nullptr) {
          // Scored as it is added: Scorer::combine's two multiplies, no scores array.
          const float w = c.t->weight, f = c.t->idf;
          const uint32_t* ids = c.ids;
          for (; i < stop; ++i) a[docs[i] - start] += w * (f * parts[ids[i]]);
        } else if (positive) {
          const float* sc = c.block_scores();
          for (; i < stop; ++i) a[docs[i] - start] += sc[i];
        } else {
          const float* sc = c.block_scores();
          for (; i < stop; ++i) {
            float& x = a[docs[i] - start];
            x = (x < 0.0f ? 0.0f : x) + sc[i];
          }
        }
        c.pos = stop;
        if (stop < c.count) {
          c.doc = docs[stop];
        } else {
          c.pos = c.count - 1;
          c.next();
        }
      }
    }
    // Sums above the k-th score (and above "not reached"), found in batches: the threshold
    // rises as they are pushed, so each is checked again against the threshold of its turn.
    const float floor = positive ? 0.0f : -0.5f;
    for (std::size_t d = 0; d < len;) {
      std::size_t n_found;
      d = kern.take_above(a, d, len, std::max(top.threshold(), floor), fill, found_idx, found_val,
                          kTakeBatch, &n_found);
      // A batch's keys are asked for together: a query's first window pushes dozens.
      for (std::size_t j = 0; j < n_found; ++j) q.prefetch_key(start + found_idx[j]);
      for (std::size_t j = 0; j < n_found; ++j) {
        const uint32_t doc = start + found_idx[j];
        if (found_val[j] > std::max(top.threshold(), floor) && q.accepts(doc))
          top.push(found_val[j], q.key(doc));
      }
    }
  }
  win.filled = filled;
}

}  // namespace ctxengine
