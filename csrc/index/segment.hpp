// An immutable segment of the lexical index: a sorted term dictionary, block-compressed posting
// lists with per-block impacts, and per document its length and its key, all in flat arrays, so
// that a segment is either built in memory or mapped from files without copying. Segments hold
// no corpus statistics (csrc/index/scoring.hpp); the segment set (segment_set.hpp) combines
// them into one index.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "index/analyzer.hpp"
#include "index/postings.hpp"
#include "index/scoring.hpp"

namespace ctxengine {

template <typename T>
struct ArrayView {
  const T* data = nullptr;
  std::size_t size = 0;
  const T& operator[](std::size_t i) const { return data[i]; }
};

// Everything a segment is made of. Terms are sorted by their UTF-8 bytes; term t's bytes are
// term_bytes[term_offsets[t], term_offsets[t + 1]), its posting blocks [term_blocks[t],
// term_blocks[t + 1]) and its list's impacts impacts[term_impacts[t], term_impacts[t + 1]).
// Block i's bytes are postings[block_offsets[i], block_offsets[i + 1]), its last doc
// block_last_doc[i], its impacts impacts[block_impacts[i], block_impacts[i + 1]). Impacts are
// (tf, dl) pairs stored as two uint32 each. Documents are numbered 0..n_docs-1 in the order of
// their keys (doc_keys, strictly increasing): a key is the caller's id of the document.
//
// A posting stores the id of its (tf, document length) pair in `pairs` (sorted by tf, then
// length; a few thousand distinct pairs in a corpus of chunks). A query computes every pair's
// tf part once per avgdl (microseconds), so scoring a posting is a table lookup and two
// multiplies, with no per-document length to fetch and no division: the impact precomputation of
// impact-ordered indexes (Anh & Moffat), kept exact and valid under changing statistics.
struct SegmentArrays {
  ArrayView<char> term_bytes;
  ArrayView<uint64_t> term_offsets;  // n_terms + 1
  ArrayView<uint32_t> term_df;       // n_terms
  ArrayView<uint64_t> term_blocks;   // n_terms + 1
  ArrayView<uint64_t> term_impacts;  // n_terms + 1
  ArrayView<uint32_t> block_last_doc;
  ArrayView<uint64_t> block_offsets;  // n_blocks + 1
  ArrayView<uint64_t> block_impacts;  // n_blocks + 1
  ArrayView<uint32_t> impacts;        // 2 x n_impacts
  ArrayView<unsigned char> postings;
  ArrayView<uint32_t> doc_lengths;  // n_docs
  ArrayView<int64_t> doc_keys;      // n_docs
  ArrayView<float> impact_norm;     // 1: the smallest norm the impacts were reduced for
  ArrayView<uint32_t> pairs;        // 2 x n_pairs: (tf, dl), sorted, distinct
};

// Where a new segment's postings come from (a build, a flush, a merge): terms in sorted order,
// each with its postings (docs ascending and < n_docs, tf >= 1). A term whose list comes out
// empty (every document deleted) is left out. postings() is called from several threads at once
// for different terms.
class PostingSource {
 public:
  virtual ~PostingSource() = default;
  virtual std::size_t n_terms() const = 0;
  virtual std::string_view term(std::size_t t) const = 0;
  virtual void postings(std::size_t t, std::vector<uint32_t>& docs,
                        std::vector<uint32_t>& tfs) const = 0;
};

class Segment {
 public:
  // Builds a segment over documents given as byte ranges [starts[i], ends[i]) of `data` (UTF-8),
  // analysing them in parallel, with keys keys[i] (strictly increasing); nullptr for no
  // documents. The result does not depend on `threads` (0 = all cores).
  static std::shared_ptr<Segment> build(std::string_view data, const int64_t* starts,
                                        const int64_t* ends, const int64_t* keys,
                                        std::size_t n_docs, const AnalyzerOptions& analyzer,
                                        const Bm25Params& params, std::size_t threads);

  // Writes a segment from a postings source and per document its length and key (keys
  // strictly increasing); nullptr when there are no documents. `pairs` (sorted, distinct) must
  // hold every (tf, dl) the postings have; empty: collected from the source first.
  static std::shared_ptr<Segment> write(const PostingSource& source,
                                        std::vector<uint32_t> doc_lengths,
                                        std::vector<int64_t> doc_keys, const Bm25Params& params,
                                        std::size_t threads, std::vector<Impact> pairs = {});

  // Wraps existing arrays (e.g. memory-mapped files) without copying; they must outlive the
  // segment. Checks shapes, orders and value ranges, so that no later read goes out of bounds
  // (FormatError when they do not fit together). verify_postings() checks the rest.
  static std::shared_ptr<Segment> from_arrays(const SegmentArrays& arrays,
                                              const Bm25Params& params);

  // Decodes every block and checks it against everything else: doc ids in range and in order,
  // each list's length its df, every posting's (tf, dl) covered by its block's and its list's
  // impacts, and each document's length the sum of its tfs. O(postings), on all cores. With
  // `live` (nullable, n_docs bytes), also returns per term how many of its documents are
  // deleted (live[d] == 0) in *deleted_df.
  void verify_postings(std::size_t threads, const uint8_t* live = nullptr,
                       std::vector<uint32_t>* deleted_df = nullptr) const;

  const SegmentArrays& arrays() const { return a_; }
  std::size_t n_docs() const { return a_.doc_lengths.size; }
  std::size_t n_terms() const { return a_.term_df.size; }
  std::size_t n_blocks() const { return a_.block_last_doc.size; }
  std::size_t n_pairs() const { return a_.pairs.size / 2; }
  const Impact* pairs() const { return reinterpret_cast<const Impact*>(a_.pairs.data); }
  uint64_t total_length() const { return total_length_; }
  uint32_t max_dl() const { return max_dl_; }
  int64_t first_key() const { return a_.doc_keys[0]; }
  int64_t last_key() const { return a_.doc_keys[n_docs() - 1]; }
  std::string_view term(std::size_t t) const {
    return {a_.term_bytes.data + a_.term_offsets[t],
            static_cast<std::size_t>(a_.term_offsets[t + 1] - a_.term_offsets[t])};
  }
  // The term's id, or -1.
  int64_t find_term(std::string_view term) const;
  // The local doc number of a key, or -1.
  int64_t find_key(int64_t key) const;

  std::size_t block_begin(uint32_t t) const { return a_.term_blocks[t]; }
  std::size_t block_end(uint32_t t) const { return a_.term_blocks[t + 1]; }
  const Impact* block_impacts(std::size_t b, std::size_t* n) const {
    *n = a_.block_impacts[b + 1] - a_.block_impacts[b];
    return reinterpret_cast<const Impact*>(a_.impacts.data) + a_.block_impacts[b];
  }
  const Impact* term_impacts(uint32_t t, std::size_t* n) const {
    *n = a_.term_impacts[t + 1] - a_.term_impacts[t];
    return reinterpret_cast<const Impact*>(a_.impacts.data) + a_.term_impacts[t];
  }
  std::size_t block_size(uint32_t t, std::size_t block) const {
    const std::size_t i = block - a_.term_blocks[t];
    const std::size_t left = a_.term_df[t] - i * kBlockSize;
    return left < kBlockSize ? left : kBlockSize;
  }
  // Decodes block `block` (a global block index) of term t into docs and tfs; returns its
  // number of postings. Throws FormatError when the block is corrupt.
  std::size_t decode(uint32_t t, std::size_t block, uint32_t* docs, uint32_t* tfs) const;
  // The same, with each posting's pair id instead of its tf (ids checked < n_pairs).
  std::size_t decode_ids(uint32_t t, std::size_t block, uint32_t* docs, uint32_t* ids) const;
  // Cache hints for a query about to decode `block`: its offsets and last doc, then (once those
  // have arrived) its bytes.
  void prefetch_block_meta(std::size_t block) const {
    __builtin_prefetch(a_.block_offsets.data + block);
    __builtin_prefetch(a_.block_last_doc.data + block);
  }
  void prefetch_block_bytes(std::size_t block) const {
    if (block >= n_blocks()) return;
    const auto* p = a_.postings.data + a_.block_offsets[block];
    const uint64_t n = std::min<uint64_t>(a_.block_offsets[block + 1] - a_.block_offsets[block],
                                          kBlockSize * 8);  // a block holds at most this
    for (uint64_t o = 0; o < n; o += 64) __builtin_prefetch(p + o);
  }
  // The tf of doc d in term t's list, or 0 (finds the block by its last doc, decodes it).
  uint32_t tf_of(uint32_t t, uint32_t d) const;

  // Block bounds under one avgdl: per block, the best tf part (Scorer::tf_part) any of its
  // postings can get, i.e. max_tf_part of the block's impacts, computed per term on first use.
  // A query multiplies in its weight and idf. Kept for one avgdl at a time: a query with the
  // index's own statistics (may_reset) replaces the generation when avgdl moved; other
  // queries get nullptr then and evaluate impacts themselves. A generation lives as long as a
  // query holds it, so replacing it never disturbs a running query.
  class BoundCache {
   public:
    const float* parts(const Segment& seg, uint32_t t, const Scorer& scorer);
    // Every pair's tf part under this avgdl (filled when the generation is made).
    const float* pair_parts() const { return pair_parts_.get(); }

   private:
    friend class Segment;
    double avgdl_ = 0;
    std::unique_ptr<float[]> pair_parts_;
    std::unique_ptr<float[]> parts_;
    std::unique_ptr<std::atomic<uint8_t>[]> ready_;  // per term
    std::mutex mu_;
  };
  std::shared_ptr<BoundCache> bound_cache(const Scorer& scorer, bool may_reset) const;

 private:
  Segment() = default;
  void prepare();  // statistics and the term hash table

  SegmentArrays a_;
  uint64_t total_length_ = 0;
  uint32_t max_dl_ = 0;
  std::vector<uint32_t> hash_;  // open addressing: term id + 1, 0 = empty
  mutable std::mutex cache_mu_;
  mutable std::shared_ptr<BoundCache> cache_;

  // Storage when the segment was built here rather than mapped.
  struct Owned;
  std::shared_ptr<Owned> own_;
  friend class SegmentWriter;
};

}  // namespace ctxengine
