// Choosing a strategy per segment and query, from CPU times measured with every strategy forced
// (bench/bench_strategies.py, docs/retrieval.md "Choosing a strategy") on the 372 questions of
// bench/data and on two keyword sets made from them (each question's rarest and most common
// terms; its two rarest and its median one) at 7K, 85K and 1M documents. Term-at-a-time costs
// about 1.4 ns per posting plus a pass over the accumulator whatever the statistics, and was the
// fastest on 372, 370 and 347 of the questions (the best of the three per question would save
// 1% at 1M). Block-max WAND wins where a short query pairs a rare term with a long list, which
// it skips: in segments of at least 64K documents with 2 or 3 terms whose shortest list holds
// under a tenth of the postings (at 1M, median 0.05 against 0.22 ms for term-at-a-time on the
// rare-and-common pairs). MaxScore was never the better choice by enough to pick it; it stays
// available by name.
#include "index/query.hpp"

namespace ctxengine {

Strategy choose_strategy(const SegmentQuery& q, std::size_t k, float threshold) {
  (void)k;
  (void)threshold;
  const Segment& s = *q.segment;
  const std::size_t m = q.terms.size();
  if (s.n_docs() < (std::size_t{1} << 16) || m < 2 || m > 3) return Strategy::Taat;
  uint64_t total = 0, shortest = ~uint64_t{0};
  for (const SegmentTerm& t : q.terms) {
    const uint64_t df = s.arrays().term_df[t.term];
    total += df;
    shortest = df < shortest ? df : shortest;
  }
  return 10 * shortest < total ? Strategy::Bmw : Strategy::Taat;
}

Strategy run_strategy(Strategy s, const SegmentQuery& q, std::size_t k, TopK& top,
                      std::size_t threads) {
  if (s == Strategy::Auto) s = choose_strategy(q, k, top.threshold());
  switch (s) {
    case Strategy::Exhaustive:
      search_exhaustive(q, top);
      break;
    case Strategy::Taat:
      if (!taat_parallel(q, top, threads)) search_taat(q, top);
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
