// Impacts: the (tf, document length) pairs of a block or a posting list that can hold its best
// score, whatever the corpus statistics. Lucene keeps such pairs per block for the same reason
// (its "impacts", used by block-max WAND since Lucene 8): a bound computed from them at query
// time stays exact as documents are added and removed, where a stored float maximum would go
// stale with every change of N, avgdl or df.
//
// For one tf, the shortest document scores best (the norm grows with length, and every step of
// the float expression is monotone), so a block needs at most one pair per distinct tf. A pair
// (tf1, dl1) may also be dropped for a pair (tf2, dl2) with tf2 > tf1 and dl2 <= dl1, but only
// where the float expression is provably increasing in tf: in exact arithmetic tf m / (tf + n)
// grows with tf by a factor of at least 1 + n / (tf1 (tf2 + n)); the three roundings between
// the two (tf m, tf + n, the quotient) shrink that by at most (1 - u)^2 / (1 + u)^2 with
// u = 2^-24, so a relative margin of 8u at the smallest possible norm n0 = k1 (1 - b) settles it.
// With b = 1 (n0 = 0) nothing is dropped that way: the pairs stay one per distinct tf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/scoring.hpp"

namespace ctxengine {

// Reduces `pairs` in place to the impacts described above, sorted by tf ascending. `min_norm` is
// the smallest norm any statistics can give: float(k1 (1 - b)).
void reduce_impacts(std::vector<Impact>& pairs, float min_norm);

// Whether tf m / (tf + n) is increasing from tf1 to tf2 > tf1 in float for every n >= n0.
bool tf_dominates(uint32_t tf1, uint32_t tf2, float n0);

float min_norm_of(const Bm25Params& params);

}  // namespace ctxengine
