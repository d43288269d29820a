// Choosing a strategy per segment and query, from costs measured on the 372 real questions of
// bench/data at 7K, 85K and 1M documents (docs/retrieval.md, "Choosing a strategy"; the fit is
// reproduced by bench/bench_strategies.py). Term-at-a-time costs about 4 ns per posting plus a
// pass over the accumulator, whatever the statistics, and was the fastest on 94% of the
// questions below 100K documents. In segments of a million documents MaxScore wins when the two
// longest lists hold at least 80% of the postings: they become non-essential at once and are
// only probed, so its work follows the short lists (median 0.69 against 0.77 ms there). Block-max
// WAND was never the better choice by enough to pick it; it stays available by name.
#include "index/query.hpp"

namespace ctxengine {

Strategy choose_strategy(const SegmentQuery& q, std::size_t k, float threshold) {
  (void)k;
  (void)threshold;
  const Segment& s = *q.segment;
  if (s.n_docs() < (std::size_t{1} << 18) || q.terms.size() < 4) return Strategy::Taat;
  uint64_t total = 0, first = 0, second = 0;
  for (const SegmentTerm& t : q.terms) {
    const uint64_t df = s.arrays().term_df[t.term];
    total += df;
    if (df > first) {
      second = first;
      first = df;
    } else if (df > second) {
      second = df;
    }
  }
  return 5 * (first + second) >= 4 * total ? Strategy::MaxScore : Strategy::Taat;
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
