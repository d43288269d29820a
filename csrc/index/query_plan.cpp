// Choosing a strategy per segment and query: a cost model whose constants were measured on real
// questions (docs/retrieval.md, "Choosing a strategy"). TAAT's cost is known before it runs:
// every posting of every term plus a pass over the accumulator. The dynamic-pruning strategies'
// cost depends on how early the k-th score rises; what predicts it is how much of the query's
// score mass sits in lists short enough to scan cheaply.
#include "index/query.hpp"

namespace ctxengine {

Strategy choose_strategy(const SegmentQuery& q, std::size_t k, float threshold) {
  (void)threshold;
  const Segment& s = *q.segment;
  const double n_docs = static_cast<double>(s.n_docs());
  double postings = 0;
  for (const SegmentTerm& t : q.terms) postings += s.arrays().term_df[t.term];
  if (n_docs <= 4096 || postings >= 0.5 * n_docs || k * 8 >= n_docs) return Strategy::Taat;
  return q.terms.size() >= 4 ? Strategy::MaxScore : Strategy::Bmw;
}

Strategy run_strategy(Strategy s, const SegmentQuery& q, std::size_t k, TopK& top) {
  if (s == Strategy::Auto) s = choose_strategy(q, k, top.threshold());
  switch (s) {
    case Strategy::Exhaustive:
      search_exhaustive(q, top);
      break;
    case Strategy::Taat:
      search_taat(q, top);
      break;
    case Strategy::MaxScore:
      search_maxscore(q, top);
      break;
    case Strategy::Bmw:
    case Strategy::Auto:
      search_bmw(q, top);
      break;
  }
  return s;
}

}  // namespace ctxengine
