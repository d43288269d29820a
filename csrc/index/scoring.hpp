// BM25 scoring: the variants, the corpus statistics a score depends on, and the one float
// expression every query path uses, so that all of them (and the exhaustive reference) give the
// same scores bit for bit.
//
// Nothing that depends on corpus statistics is stored in an index: a posting holds (doc, tf),
// a document its length, a block its impacts. The statistics (live document count, total length,
// per-term document frequency) are summed over segments at query time, or supplied by the caller
// (a sharded index gathers them from every shard), so a score never depends on how the
// documents are split into segments or shards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ctxengine {

// The BM25 variants of Kamphuis et al., "Which BM25 do you mean?" (ECIR 2020), named as bm25s
// names them. With N documents, df the term's document frequency, tf its frequency in the
// document, dl the document's length and avgdl the mean length, norm = k1 (1 - b + b dl / avgdl):
//   Lucene:    ln(1 + (N - df + 0.5) / (df + 0.5)) * tf / (tf + norm)        (bm25s's default)
//   Robertson: max(0, ln((N - df + 0.5) / (df + 0.5))) * tf (k1 + 1) / (tf + norm)
//              (rank_bm25's BM25Okapi wherever its idf is positive)
//   Atire:     ln(N / df) * tf (k1 + 1) / (tf + norm)
enum class Bm25Variant : uint8_t { Lucene = 0, Robertson = 1, Atire = 2 };

struct Bm25Params {
  double k1 = 1.5;
  double b = 0.75;
  Bm25Variant variant = Bm25Variant::Lucene;
};

// Checks k1 and b (InvalidArgument when unusable).
void check_params(const Bm25Params& params);

// The idf of a term with document frequency df among n documents, per variant (in double).
double bm25_idf(Bm25Variant variant, double n, double df);

// Corpus-wide statistics: what a score depends on besides the document and the term.
struct CorpusStats {
  uint64_t n_docs = 0;        // live documents
  uint64_t total_length = 0;  // sum of their lengths (terms)
};

// A term's impact: a term frequency and a document length. A block (or a whole list) keeps the
// impacts that can hold its best score under any statistics (csrc/index/impacts.cpp).
struct Impact {
  uint32_t tf;
  uint32_t dl;
};

// Scores under fixed statistics. score = w * (idf * (tf * m / (tf + norm(dl)))) in float, with
// m = 1 (Lucene) or k1 + 1, norm(dl) = float(k1 (1 - b + b dl / avgdl)) computed in double, and
// w how often the term occurs in the query. Every path computes exactly this expression; each
// step is a correctly rounded, monotone IEEE operation, which is what makes bounds exact.
class Scorer {
 public:
  Scorer(const Bm25Params& params, const CorpusStats& stats, uint32_t max_dl);

  double avgdl() const { return avgdl_; }
  const CorpusStats& stats() const { return stats_; }
  float idf(uint64_t df) const;
  float norm(uint32_t dl) const { return dl < table_.size() ? table_[dl] : norm_slow(dl); }
  // The tf part: tf m / (tf + norm).
  float tf_part(uint32_t tf, float norm) const {
    const float f = static_cast<float>(tf);
    return (f * tf_mult_) / (f + norm);
  }
  static float combine(float weight, float idf, float tf_part) { return weight * (idf * tf_part); }
  // The largest tf part any posting an impact list covers can get (exact, not an estimate).
  float max_tf_part(const Impact* impacts, std::size_t n) const;
  const float* norm_table() const { return table_.data(); }
  std::size_t norm_table_size() const { return table_.size(); }
  float tf_mult() const { return tf_mult_; }

 private:
  float norm_slow(uint32_t dl) const;

  Bm25Params params_;
  CorpusStats stats_;
  double avgdl_ = 1;
  float tf_mult_ = 1;
  std::vector<float> table_;  // norm(dl) for small dl
};

}  // namespace ctxengine
