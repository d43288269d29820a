// The newest documents of an index, held uncompressed so that adding one costs only its own
// analysis (Lucene's in-memory indexing buffer, tantivy's SegmentWriter): per term the list of
// (doc, tf), per document its length and key. It is small by construction (the index flushes it
// into an immutable Segment past a size), so it is searched exhaustively.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "index/analyzer.hpp"
#include "index/query.hpp"
#include "index/segment.hpp"
#include "index/term_dict.hpp"

namespace ctxengine {

class MemorySegment {
 public:
  // Analyses `text` and appends it as the next document; `key` must exceed every key so far.
  void add(std::string_view text, int64_t key, const AnalyzerOptions& analyzer);

  std::size_t n_docs() const { return lengths_.size(); }
  std::size_t n_postings() const { return n_postings_; }
  uint64_t total_length() const { return total_length_; }
  uint32_t max_dl() const { return max_dl_; }
  int64_t key(uint32_t d) const { return keys_[d]; }
  uint32_t doc_length(uint32_t d) const { return lengths_[d]; }
  const std::vector<int64_t>& keys() const { return keys_; }
  int64_t find_term(std::string_view term) const;
  uint32_t df(uint32_t t) const { return static_cast<uint32_t>(docs_[t].size()); }
  int64_t find_key(int64_t key) const;
  uint32_t tf_of(uint32_t t, uint32_t d) const;

  // Scores every posting of `terms` (in query order, ub unused) and pushes the accepted
  // documents: the same sums in the same order as every other path.
  void search(const std::vector<SegmentTerm>& terms, const Scorer& scorer, const uint8_t* live,
              const uint8_t* filter, std::size_t filter_size, TopK& top) const;

  // An immutable segment of the documents `live` keeps (nullable: all); nullptr when none.
  std::shared_ptr<Segment> write(const uint8_t* live, const Bm25Params& params,
                                 std::size_t threads) const;

 private:
  detail::TermDict dict_;
  std::vector<std::vector<uint32_t>> docs_, tfs_;  // per term
  std::vector<uint32_t> lengths_;
  std::vector<int64_t> keys_;
  uint64_t total_length_ = 0;
  uint32_t max_dl_ = 0;
  std::size_t n_postings_ = 0;
  TermBuffer buf_;
  std::vector<uint32_t> seen_;  // term -> last doc that holds it, + 1
};

}  // namespace ctxengine
