// Greedy selection of context under an exact token budget: relevance per token, discounted by
// redundancy with what is already chosen (MMR, Carbonell and Goldstein 1998, in its
// multiplicative form), near-duplicates dropped, a cap per document, and chunks that may only
// join after the chunk they neighbour (neighbour expansion).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ctxengine {

// What became of each candidate.
enum class SelectStatus : int8_t {
  Candidate = 0,    // still eligible (only seen mid-selection)
  Selected = 1,     // chosen
  Duplicate = 2,    // a near-duplicate of a chosen candidate
  GroupFull = 3,    // its document already holds max_per_group chosen candidates
  NoRoom = 4,       // its cost exceeds the budget that was left
  NeedsAnchor = 5,  // a neighbour whose anchor was not chosen
};

struct SelectInput {
  std::size_t n = 0;
  const double* relevance = nullptr;   // in (0, 1]: the value of a candidate before redundancy
  const int64_t* cost = nullptr;       // >= 1: the tokens the candidate adds to the prompt
  const int32_t* group = nullptr;      // >= 0: its document
  const int32_t* anchor = nullptr;     // -1, or the candidate it neighbours (must be chosen first)
  const uint32_t* sketches = nullptr;  // n x k MinHash sketches (minhash.hpp)
  std::size_t k = 0;
};

struct SelectParams {
  int64_t budget = 0;                // tokens the costs of newly chosen candidates may add up to
  double diversity = 0.0;            // d in [0, 1]: value = r * (1 - d * max similarity)
  double duplicate_threshold = 1.0;  // similarity at or above which a candidate is a duplicate
  int64_t max_per_group = 0;         // chosen candidates per document; 0 = no cap
  bool by_density = true;            // divide by cost (false: value alone, as with no query)
};

// Chooses candidates greedily. The first pick (when nothing is chosen yet) is the most relevant
// candidate that fits, so that a single large relevant chunk is never starved by many small ones
// (the singleton check of budgeted greedy, Khuller, Moss and Naor 1999); every later pick has
// the highest value per token among the eligible candidates that fit:
//   r_i * (1 - diversity * max_sim_i) / cost_i,
// where max_sim_i is the largest similarity of i to a chosen candidate, ties going to the lower
// index (without by_density the division by cost is left out). A candidate whose similarity to
// a chosen one reaches duplicate_threshold becomes a Duplicate.
//
// The state carries over between calls, so that the room left after an exact count can be
// offered again cheaply: `status` and `max_sim` (length n) are in/out. Candidates marked
// Selected on input count as chosen (their per-document counts apply, their cost does not:
// `budget` is what is left) and Duplicates stay Duplicates; every other status is recomputed.
// max_sim must hold the similarities to the candidates chosen before (zeros on a first call);
// a caller that un-chooses a candidate may keep them (they then overstate redundancy a little).
// Returns the newly chosen candidates in the order chosen.
std::vector<int64_t> select_greedy(const SelectInput& in, const SelectParams& params,
                                   SelectStatus* status, double* max_sim);

}  // namespace ctxengine
