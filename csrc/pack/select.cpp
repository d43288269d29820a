// The greedy loop of select.hpp. Candidates number in the hundreds to low thousands (the hits of
// one search and their neighbours), so each pick scans them all: O(n) per pick plus one sketch
// comparison per remaining candidate to update its redundancy.
#include "pack/select.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.hpp"
#include "pack/minhash.hpp"

namespace ctxengine {

std::vector<int64_t> select_greedy(const SelectInput& in, const SelectParams& params,
                                   SelectStatus* status, double* max_sim) {
  const std::size_t n = in.n;
  CTX_REQUIRE(params.budget >= 0, "the budget must be >= 0");
  CTX_REQUIRE(params.diversity >= 0.0 && params.diversity <= 1.0,
              "diversity must be between 0 and 1");
  CTX_REQUIRE(params.duplicate_threshold > 0.0,
              "duplicate_threshold must be > 0 (use a value above 1 to keep duplicates)");
  CTX_REQUIRE(params.max_per_group >= 0, "max_per_group must be >= 0 (0 means no cap)");
  CTX_REQUIRE(n == 0 || in.k >= 1, "sketches need k >= 1");
  int32_t groups = 0;
  for (std::size_t i = 0; i < n; ++i) {
    CTX_REQUIRE(std::isfinite(in.relevance[i]) && in.relevance[i] > 0.0 && in.relevance[i] <= 1.0,
                "relevance must be in (0, 1]; candidate " + std::to_string(i) + " is not");
    CTX_REQUIRE(in.cost[i] >= 1, "costs must be >= 1 token; candidate " + std::to_string(i));
    CTX_REQUIRE(in.group[i] >= 0, "groups must be >= 0");
    CTX_REQUIRE(in.anchor[i] >= -1 && in.anchor[i] < static_cast<int64_t>(n) &&
                    in.anchor[i] != static_cast<int32_t>(i),
                "an anchor must be -1 or the index of another candidate");
    groups = std::max(groups, in.group[i] + 1);
  }

  std::vector<int64_t> per_group(static_cast<std::size_t>(groups), 0);
  const auto sketch = [&](std::size_t i) { return in.sketches + i * in.k; };
  bool any_selected = false;
  for (std::size_t i = 0; i < n; ++i) {
    CTX_REQUIRE(std::isfinite(max_sim[i]) && max_sim[i] >= 0.0 && max_sim[i] <= 1.0,
                "max_sim must be in [0, 1]");
    if (status[i] == SelectStatus::Selected) {
      any_selected = true;
      ++per_group[static_cast<std::size_t>(in.group[i])];
    } else if (status[i] != SelectStatus::Duplicate) {
      status[i] = SelectStatus::Candidate;
    }
  }

  std::vector<int64_t> chosen;
  int64_t left = params.budget;
  const auto eligible = [&](std::size_t i) {
    if (status[i] != SelectStatus::Candidate || in.cost[i] > left) return false;
    if (in.anchor[i] >= 0 && status[in.anchor[i]] != SelectStatus::Selected) return false;
    return params.max_per_group == 0 ||
           per_group[static_cast<std::size_t>(in.group[i])] < params.max_per_group;
  };
  while (true) {
    int64_t best = -1;
    double best_value = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!eligible(i)) continue;
      // The first pick goes by relevance alone; later picks by value per token.
      double value = in.relevance[i];
      if (any_selected) {
        value = in.relevance[i] * (1.0 - params.diversity * max_sim[i]);
        if (params.by_density) value /= static_cast<double>(in.cost[i]);
      }
      if (best < 0 || value > best_value) {
        best = static_cast<int64_t>(i);
        best_value = value;
      }
    }
    if (best < 0) break;
    const auto b = static_cast<std::size_t>(best);
    status[b] = SelectStatus::Selected;
    any_selected = true;
    left -= in.cost[b];
    ++per_group[static_cast<std::size_t>(in.group[b])];
    chosen.push_back(best);
    for (std::size_t i = 0; i < n; ++i) {
      if (status[i] != SelectStatus::Candidate) continue;
      const double sim = sketch_jaccard(sketch(i), sketch(b), in.k);
      if (sim >= params.duplicate_threshold) {
        status[i] = SelectStatus::Duplicate;
      } else {
        max_sim[i] = std::max(max_sim[i], sim);
      }
    }
  }

  // Say why each remaining candidate was left out.
  for (std::size_t i = 0; i < n; ++i) {
    if (status[i] != SelectStatus::Candidate) continue;
    if (in.anchor[i] >= 0 && status[in.anchor[i]] != SelectStatus::Selected) {
      status[i] = SelectStatus::NeedsAnchor;
    } else if (params.max_per_group != 0 &&
               per_group[static_cast<std::size_t>(in.group[i])] >= params.max_per_group) {
      status[i] = SelectStatus::GroupFull;
    } else {
      status[i] = SelectStatus::NoRoom;
    }
  }
  return chosen;
}

}  // namespace ctxengine
