// The BM25 index: a sorted term dictionary, block-compressed posting lists with per-block max
// scores, and document lengths, all in flat arrays, so that an index is either built in memory
// or mapped from files without copying (csrc/index/bm25_build.cpp builds one,
// csrc/index/bm25_query.cpp answers top-k queries with block-max WAND).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "index/analyzer.hpp"

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

template <typename T>
struct ArrayView {
  const T* data = nullptr;
  std::size_t size = 0;
  const T& operator[](std::size_t i) const { return data[i]; }
};

// Everything an index is made of. Terms are sorted by their UTF-8 bytes; term t's bytes are
// term_bytes[term_offsets[t], term_offsets[t + 1]) and its posting blocks are
// [term_blocks[t], term_blocks[t + 1]); block i's bytes are postings[block_offsets[i],
// block_offsets[i + 1]), its last doc block_last_doc[i], its best term score block_max[i].
struct Bm25Arrays {
  ArrayView<char> term_bytes;
  ArrayView<uint64_t> term_offsets;  // n_terms + 1
  ArrayView<uint32_t> term_df;       // n_terms
  ArrayView<uint64_t> term_blocks;   // n_terms + 1
  ArrayView<uint32_t> block_last_doc;
  ArrayView<float> block_max;
  ArrayView<uint64_t> block_offsets;  // n_blocks + 1
  ArrayView<unsigned char> postings;
  ArrayView<uint32_t> doc_lengths;  // n_docs
};

struct QueryTerm {
  uint32_t term;  // term id
  float weight;   // how often the term occurs in the query (each occurrence adds its score)
};

// Corpus statistics given to a search from outside: a sharded index sums its shards' document
// counts, total lengths and per-term document frequencies (Elasticsearch's
// dfs_query_then_fetch) so that every shard scores as the one index holding all documents.
// A query term missing from `df` keeps this index's own frequency.
struct ExternalStats {
  uint64_t n_docs = 0;
  uint64_t total_length = 0;
  std::unordered_map<std::string, uint64_t> df;
};

class Bm25Index {
 public:
  // Builds an index over documents given as byte ranges [starts[i], ends[i]) of `data` (UTF-8),
  // analysing them in parallel. The result does not depend on `threads` (0 = all cores).
  static std::shared_ptr<Bm25Index> build(std::string_view data, const int64_t* starts,
                                          const int64_t* ends, std::size_t n_docs,
                                          const AnalyzerOptions& analyzer, const Bm25Params& params,
                                          std::size_t threads);

  // Wraps existing arrays (e.g. memory-mapped files) without copying; they must outlive the
  // index. Checks their shapes and bounds (FormatError when they do not fit together).
  static std::shared_ptr<Bm25Index> from_arrays(const Bm25Arrays& arrays,
                                                const AnalyzerOptions& analyzer,
                                                const Bm25Params& params);

  const Bm25Arrays& arrays() const { return a_; }
  const AnalyzerOptions& analyzer() const { return analyzer_; }
  const Bm25Params& params() const { return params_; }
  std::size_t n_docs() const { return a_.doc_lengths.size; }
  std::size_t n_terms() const { return a_.term_df.size; }
  std::size_t n_blocks() const { return a_.block_last_doc.size; }
  double avgdl() const { return avgdl_; }
  std::string_view term(std::size_t t) const;
  float idf(std::size_t t) const { return idf_[t]; }
  // The term's id, or -1 when the index does not have it.
  int64_t find_term(std::string_view term) const;

  // Analyses a query; terms the index does not have are dropped, repeated terms are merged into
  // one with a weight. In the order of first occurrence.
  std::vector<QueryTerm> parse_query(std::string_view query) const;

  // The k best documents for the query, best first (score descending, then doc id ascending);
  // returns how many were found (<= k; documents that share no term with the query are never
  // returned). `live` (nullable, n_docs bytes) excludes documents whose byte is 0: a filter
  // applied inside the search. `exhaustive` scores every posting (the reference path);
  // otherwise block-max WAND skips what cannot enter the top k. Both give identical results.
  // `stats` (nullable) replaces this index's corpus statistics; with statistics equal to its
  // own, the scores are those of a search without them, bit for bit.
  std::size_t search(const std::vector<QueryTerm>& query, std::size_t k, const uint8_t* live,
                     float* out_scores, int64_t* out_docs, bool exhaustive = false,
                     const ExternalStats* stats = nullptr) const;

  // Many queries at once, in parallel over queries (0 threads = all cores): query i's hits go to
  // out_scores/out_docs[i * k, i * k + out_counts[i]). Each query is answered as by search(),
  // so the results do not depend on the thread count.
  void search_many(const std::vector<std::string_view>& queries, std::size_t k, const uint8_t* live,
                   float* out_scores, int64_t* out_docs, int64_t* out_counts, std::size_t threads,
                   const ExternalStats* stats = nullptr) const;

  // This index's statistics: (documents, total length in terms).
  std::pair<uint64_t, uint64_t> stats() const { return {n_docs(), total_length_}; }
  // The query's distinct analysed terms, in first-occurrence order, with their document
  // frequency here (0 for terms this index lacks): what a sharded index sums over shards.
  std::vector<std::pair<std::string, uint64_t>> term_stats(std::string_view query) const;

  // The score of term t in doc d with frequency tf: the one expression both the block maxima and
  // the query loop use, so the maxima bound the scores exactly.
  float term_score(uint32_t t, uint32_t tf, uint32_t d) const {
    const float f = static_cast<float>(tf);
    return idf_[t] * (f * tf_mult_) / (f + norm_[d]);
  }

  // Decodes block `block` (a global block index) of term t; returns its number of postings.
  // Throws FormatError when the block is corrupt.
  std::size_t decode(uint32_t t, std::size_t block, uint32_t* docs, uint32_t* tfs) const;
  std::size_t block_count(uint32_t t) const {
    return static_cast<std::size_t>(a_.term_blocks[t + 1] - a_.term_blocks[t]);
  }

 private:
  Bm25Index() = default;
  void prepare();  // idf, per-doc norms, per-term max scores

  Bm25Arrays a_;
  AnalyzerOptions analyzer_;
  Bm25Params params_;
  double avgdl_ = 0;
  uint64_t total_length_ = 0;
  float tf_mult_ = 1;
  std::vector<float> idf_;       // per term
  std::vector<float> norm_;      // per doc: k1 (1 - b + b dl / avgdl)
  std::vector<float> term_max_;  // per term: the largest block max

  // Storage when the index was built here rather than mapped.
  std::string own_term_bytes_;
  std::vector<uint64_t> own_term_offsets_, own_term_blocks_, own_block_offsets_;
  std::vector<uint32_t> own_term_df_, own_block_last_doc_, own_doc_lengths_;
  std::vector<float> own_block_max_;
  std::string own_postings_;

  friend class Bm25Builder;
};

// The idf of a term with document frequency df among n documents, per variant (in double).
double bm25_idf(Bm25Variant variant, double n, double df);

}  // namespace ctxengine
