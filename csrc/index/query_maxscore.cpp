// MaxScore with block-max checks (query.hpp). Terms are sorted by their bound; the longest
// prefix whose bounds together cannot beat the k-th score is non-essential: a document enters
// only through an essential list, and the non-essential lists are probed for it, best bound
// first, while the score so far plus the bounds left can still win. Before any non-essential
// block is decoded, the document's bound is summed exactly in query-term order from the
// essential terms' scores and the non-essential terms' block bounds: float addition is
// monotone, so when that sum does not beat the k-th score the document cannot either, which
// skips documents that could only tie (repeated text) without a decode.
#include <algorithm>
#include <numeric>
#include <vector>

#include "index/cursor.hpp"
#include "index/query.hpp"

namespace ctxengine {

using detail::Cursor;
using detail::kEnd;

void search_maxscore(const SegmentQuery& q, TopK& top) {
  const std::size_t m = q.terms.size();
  if (m == 0) return;
  std::vector<Cursor> cur(m);
  for (std::size_t i = 0; i < m; ++i) cur[i].init(q, i);
  std::vector<std::size_t> ord(m);  // by bound ascending
  std::iota(ord.begin(), ord.end(), 0);
  std::stable_sort(ord.begin(), ord.end(),
                   [&](std::size_t x, std::size_t y) { return q.terms[x].ub < q.terms[y].ub; });
  std::vector<double> prefix(m + 1, 0.0);  // prefix[j]: the bounds of ord[0..j) summed
  for (std::size_t j = 0; j < m; ++j) prefix[j + 1] = prefix[j] + q.terms[ord[j]].ub;
  // These sums are in another order than the score's; floats summed in another order differ by
  // a few ulps, so these tests keep this much slack (only ever deciding to look closer).
  const double slack = 1.0 + 1e-6 * static_cast<double>(m + 2);
  auto can_win = [&](double bound) { return bound * slack > top.threshold(); };
  std::size_t ne = 0;  // ord[0..ne) are non-essential
  while (ne < m && !can_win(prefix[ne + 1])) ++ne;
  for (std::size_t j = ne; j < m; ++j) cur[ord[j]].next_geq(0);

  std::vector<float> value(m);  // per term (query order): its score in d, or its block bound
  std::vector<char> known(m);   // value is the score (1) or a bound (0)
  for (;;) {
    if (ne == m) break;
    uint32_t d = kEnd;
    for (std::size_t j = ne; j < m; ++j) d = std::min(d, cur[ord[j]].doc);
    if (d == kEnd) break;
    double partial = 0;
    for (std::size_t j = ne; j < m; ++j) {
      Cursor& c = cur[ord[j]];
      known[c.index] = 1;
      value[c.index] = c.doc == d ? c.score() : 0.0f;
      partial += value[c.index];
    }
    if (q.accepts(d) && can_win(partial + prefix[ne])) {
      // Block bounds of the non-essential terms (0 where the list has passed d).
      double rest = 0;
      for (std::size_t j = 0; j < ne; ++j) {
        Cursor& c = cur[ord[j]];
        known[c.index] = 0;
        if (c.exact && c.doc > d) {
          value[c.index] = 0.0f;
          known[c.index] = 1;
          continue;
        }
        c.shallow(d);
        if (c.block == c.block_end) {
          c.to_end();
          value[c.index] = 0.0f;
          known[c.index] = 1;
          continue;
        }
        value[c.index] = c.block_bound();
        rest += value[c.index];
      }
      float exact_bound = 0;
      for (std::size_t i = 0; i < m; ++i) exact_bound += value[i];
      bool win = exact_bound > top.threshold();
      for (std::size_t j = ne; win && j-- > 0;) {
        Cursor& c = cur[ord[j]];
        if (known[c.index]) continue;
        rest -= value[c.index];
        c.next_geq(d);
        value[c.index] = c.doc == d ? c.score() : 0.0f;
        known[c.index] = 1;
        partial += value[c.index];
        win = can_win(partial + rest);
      }
      if (win) {
        float score = 0;
        for (std::size_t i = 0; i < m; ++i) score += value[i];
        const float before = top.threshold();
        top.push(score, q.key(d));
        if (top.threshold() != before)
          while (ne < m && !can_win(prefix[ne + 1])) ++ne;
      }
    }
    for (std::size_t j = ne; j < m; ++j)
      if (cur[ord[j]].doc == d) cur[ord[j]].next();
  }
}

}  // namespace ctxengine
