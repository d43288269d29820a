// Impact reduction (see impacts.hpp for why each step keeps the bound exact).
#include "index/impacts.hpp"

#include <algorithm>

namespace ctxengine {
bool tf_dominates(uint32_t tf1, uint32_t tf2, float n0) {
  constexpr double u = 1.0 / 16777216.0;  // 2^-24
  if (!(n0 > 0) || tf2 > (1u << 24)) return false;
  const double margin =
      static_cast<double>(n0) / (static_cast<double>(tf1) * (static_cast<double>(tf2) + n0));
  return margin >= 8 * u;
}

float min_norm_of(const Bm25Params& p) {
  return static_cast<float>(p.k1 * (1.0 - p.b));
}

void reduce_impacts(std::vector<Impact>& pairs, float min_norm) {
  // One pair per tf: the shortest document.
  std::sort(pairs.begin(), pairs.end(), [](const Impact& x, const Impact& y) {
    return x.tf < y.tf || (x.tf == y.tf && x.dl < y.dl);
  });
  std::size_t n = 0;
  for (std::size_t i = 0; i < pairs.size(); ++i)
    if (n == 0 || pairs[n - 1].tf != pairs[i].tf) pairs[n++] = pairs[i];
  pairs.resize(n);
  // Drop pairs beaten by a higher tf in a document no longer, where that is safe in float,
  // scanning from the highest tf down and comparing with the pairs kept so far (keeping a pair
  // is always safe; it only makes the bound cost a little more to evaluate).
  std::vector<Impact> kept;
  for (std::size_t i = n; i-- > 0;) {
    bool dominated = false;
    for (const Impact& k : kept) {
      if (k.dl <= pairs[i].dl && tf_dominates(pairs[i].tf, k.tf, min_norm)) {
        dominated = true;
        break;
      }
    }
    if (!dominated) kept.push_back(pairs[i]);
  }
  std::reverse(kept.begin(), kept.end());
  pairs.swap(kept);
}

}  // namespace ctxengine
