// Term-at-a-time strategies: the exhaustive reference (scalar, one posting at a time, nothing
// shared with the fast paths but the scoring expression) and the accumulator strategy.
#include <algorithm>
#include <vector>

#include "index/kernels.hpp"
#include "index/postings.hpp"
#include "index/query.hpp"

namespace ctxengine {
namespace {

float slow_norm(const void* scorer, uint32_t dl) {
  return static_cast<const Scorer*>(scorer)->norm(dl);
}

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
  const Segment& s = *q.segment;
  const Scorer& sc = *q.scorer;
  const Kernels& kern = kernels();
  const std::size_t n_docs = s.n_docs();
  // -1 marks a document no term has reached: max(acc, 0) + score then starts a sum at exactly
  // 0 + score, as the reference does, without a branch; the scan keeps only acc >= 0.
  thread_local std::vector<float> acc;
  acc.assign(n_docs, -1.0f);
  float* a = acc.data();
  BlockScoreArgs args{
      s.arrays().doc_lengths.data, sc.norm_table(), sc.norm_table_size(), sc.tf_mult(), 1.0f, 0.0f};
  alignas(32) uint32_t docs[kBlockSize], tfs[kBlockSize];
  alignas(32) float scores[kBlockSize];
  for (const SegmentTerm& t : q.terms) {
    args.weight = t.weight;
    args.idf = t.idf;
    for (std::size_t b = s.block_begin(t.term); b < s.block_end(t.term); ++b) {
      const std::size_t n = s.decode(t.term, b, docs, tfs);
      kern.score_block(args, docs, tfs, n, &slow_norm, &sc, scores);
      for (std::size_t i = 0; i < n; ++i) {
        float& x = a[docs[i]];
        x = std::max(x, 0.0f) + scores[i];
      }
    }
  }
  for (std::size_t d = 0;; ++d) {
    d = kern.next_above(a, d, n_docs, std::max(top.threshold(), -0.5f));
    if (d >= n_docs) break;
    if (q.accepts(static_cast<uint32_t>(d))) top.push(a[d], q.key(static_cast<uint32_t>(d)));
  }
}

}  // namespace ctxengine
