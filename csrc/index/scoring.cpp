// The scorer: idf per variant, document norms through a table indexed by length (lengths
// repeat, so a table of the first 16K lengths covers almost every document and costs
// microseconds to rebuild when the statistics change).
#include "index/scoring.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace ctxengine {
namespace {

constexpr uint32_t kNormTable = 1u << 14;

}  // namespace

void check_params(const Bm25Params& p) {
  CTX_REQUIRE(p.k1 >= 0 && std::isfinite(p.k1), "k1 must be a finite number >= 0");
  CTX_REQUIRE(p.b >= 0 && p.b <= 1, "b must be between 0 and 1");
  CTX_REQUIRE(p.variant == Bm25Variant::Lucene || p.variant == Bm25Variant::Robertson ||
                  p.variant == Bm25Variant::Atire,
              "unknown BM25 variant");
}

double bm25_idf(Bm25Variant variant, double n, double df) {
  switch (variant) {
    case Bm25Variant::Lucene:
      return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    case Bm25Variant::Robertson:
      return std::log(std::max(1.0, (n - df + 0.5) / (df + 0.5)));
    case Bm25Variant::Atire:
      return std::log(n / df);
  }
  return 0;
}

Scorer::Scorer(const Bm25Params& params, const CorpusStats& stats, uint32_t max_dl)
    : params_(params), stats_(stats) {
  check_params(params);
  avgdl_ = stats.n_docs == 0 || stats.total_length == 0
               ? 1.0
               : static_cast<double>(stats.total_length) / static_cast<double>(stats.n_docs);
  tf_mult_ = params.variant == Bm25Variant::Lucene ? 1.0f : static_cast<float>(params.k1 + 1);
  table_.resize(std::min<uint64_t>(uint64_t{max_dl} + 1, kNormTable));
  for (uint32_t dl = 0; dl < table_.size(); ++dl) table_[dl] = norm_slow(dl);
}

float Scorer::norm_slow(uint32_t dl) const {
  return static_cast<float>(params_.k1 *
                            (1.0 - params_.b + params_.b * static_cast<double>(dl) / avgdl_));
}

float Scorer::idf(uint64_t df) const {
  return static_cast<float>(
      bm25_idf(params_.variant, static_cast<double>(stats_.n_docs), static_cast<double>(df)));
}

float Scorer::max_tf_part(const Impact* impacts, std::size_t n) const {
  float best = 0;
  for (std::size_t i = 0; i < n; ++i)
    best = std::max(best, tf_part(impacts[i].tf, norm(impacts[i].dl)));
  return best;
}

}  // namespace ctxengine
