// The incremental BM25 index: immutable segments (segment.hpp) plus a small memory segment
// (memory_segment.hpp) for new documents, deletes as tombstones, and merges of adjacent
// segments by size tiers, on demand or on a background thread: the log-structured design of
// Lucene and tantivy. Segments are kept in key order, so a query visits documents in key order
// and ties go to the lower key.
//
// Scores equal those of one segment built from scratch over the same live documents, bit for
// bit: the statistics (live documents, their total length, each term's live document frequency)
// are sums over segments, with the deleted documents' terms subtracted (a removal passes the
// document's text, which is checked against the postings, so those counts are exact; Lucene and
// tantivy leave deleted documents in the statistics until a merge). They can also come from
// outside (a sharded index gathers them from every shard: term_stats, then search with them).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "index/analyzer.hpp"
#include "index/memory_segment.hpp"
#include "index/query.hpp"
#include "index/scoring.hpp"
#include "index/segment.hpp"

namespace ctxengine {

namespace detail {
struct Entry;
struct Merge;
}  // namespace detail

struct IndexConfig {
  std::size_t flush_docs = 4096;  // the memory segment becomes a segment past this many docs
  std::size_t merge_factor = 8;   // merge this many adjacent segments of one size tier
};

// Statistics given to a search from outside (e.g. summed over the shards of a sharded index):
// the corpus's and, per query term, its live document frequency.
struct ExternalStats {
  CorpusStats corpus;
  std::unordered_map<std::string, uint64_t> df;
};

// A segment with its deletions, as saved and loaded.
struct SegmentState {
  std::shared_ptr<const Segment> segment;
  std::vector<uint32_t> deleted;                          // local docs, ascending
  std::vector<std::pair<uint32_t, uint32_t>> deleted_df;  // (term, deleted docs holding it)
};

class Bm25Index {
 public:
  Bm25Index(const AnalyzerOptions& analyzer, const Bm25Params& params, IndexConfig config = {});
  ~Bm25Index();
  Bm25Index(const Bm25Index&) = delete;
  Bm25Index& operator=(const Bm25Index&) = delete;

  // Builds an index of one segment (the result of a from-scratch build) over documents
  // data[starts[i], ends[i]) with keys keys[i] (strictly increasing), on all cores.
  static std::shared_ptr<Bm25Index> build(std::string_view data, const int64_t* starts,
                                          const int64_t* ends, const int64_t* keys, std::size_t n,
                                          const AnalyzerOptions& analyzer, const Bm25Params& params,
                                          IndexConfig config, std::size_t threads);
  // An index of loaded segments (checked: keys in order across segments, deletions in range and
  // consistent with the postings when `verify`).
  static std::shared_ptr<Bm25Index> from_segments(std::vector<SegmentState> segments,
                                                  const AnalyzerOptions& analyzer,
                                                  const Bm25Params& params, IndexConfig config,
                                                  bool verify, std::size_t threads);

  // Adds documents (keys strictly increasing, above every key so far). A batch of at least
  // flush_docs documents becomes a segment of its own (built on all cores); smaller ones go to
  // the memory segment, which is flushed when it passes flush_docs.
  void add(std::string_view data, const int64_t* starts, const int64_t* ends, const int64_t* keys,
           std::size_t n, std::size_t threads);
  // Removes documents by key. texts[i] (data[starts[i], ends[i])) must be the text the document
  // was added with: its terms are checked against the postings (InvalidArgument when they
  // differ, or a key is unknown or given twice). All or nothing.
  void remove(const int64_t* keys, std::string_view data, const int64_t* starts,
              const int64_t* ends, std::size_t n);
  // Writes the memory segment out as a segment.
  void flush(std::size_t threads);
  // Merges adjacent segments until at most `max_segments` remain (also dropping deleted
  // documents); returns the number of merges. Waits for a background merge first.
  std::size_t force_merge(std::size_t max_segments, std::size_t threads);
  // Runs the merges the size tiers call for: here (background = false), or on a background
  // thread (one at a time; a merge there never blocks searches, adds or removes). Returns the
  // number of merges run here, or 1 when a background merge was started.
  std::size_t maintain(bool background, std::size_t threads);
  void wait_for_merges();
  // For tests: while held, a background merge waits after writing its segment and before
  // committing it, so that deletions made during a merge can be made deterministically.
  void hold_merges(bool hold);

  CorpusStats stats() const;
  // The query's distinct terms in first-occurrence order with their live document frequency
  // here (0 for terms this index lacks): what a sharded index sums over shards.
  std::vector<std::pair<std::string, uint64_t>> term_stats(std::string_view query) const;

  // The k best documents for the query: (score, key) pairs best first (score descending, then
  // key ascending), at most k; documents sharing no term with the query are never returned.
  // `filter` (nullable) keeps keys with filter[key] != 0 (keys >= filter_size are dropped);
  // `stats` (nullable) replaces the index's own statistics; `strategy` forces a strategy. A
  // large query may run on up to `threads` threads (0 = all cores); the result is the same.
  std::vector<Hit> search(std::string_view query, std::size_t k, const uint8_t* filter,
                          std::size_t filter_size, const ExternalStats* stats,
                          Strategy strategy = Strategy::Auto, std::size_t threads = 1) const;
  // Many queries in parallel (0 threads = all cores): each answered as by search().
  std::vector<std::vector<Hit>> search_many(const std::vector<std::string_view>& queries,
                                            std::size_t k, const uint8_t* filter,
                                            std::size_t filter_size, const ExternalStats* stats,
                                            std::size_t threads) const;

  // The segments and their deletions (after flush(): the memory segment is not included).
  std::vector<SegmentState> segments() const;
  std::size_t n_segments() const;
  std::size_t memory_docs() const;
  const AnalyzerOptions& analyzer() const { return analyzer_; }
  const Bm25Params& params() const { return params_; }
  const IndexConfig& config() const { return config_; }
  // Segment sizes (documents, deleted), in key order, the memory segment last.
  std::vector<std::pair<std::size_t, std::size_t>> segment_sizes() const;

 private:
  struct Parsed;
  using Merge = detail::Merge;

  Parsed parse(std::string_view query, const ExternalStats* stats) const;
  std::shared_ptr<const Scorer> scorer_for(const CorpusStats& stats, uint32_t max_dl) const;
  bool plan_merge(std::size_t max_segments, Merge& merge) const;  // under the lock
  // Plans, runs and commits merges on this thread until none is planned (max_segments as in
  // plan_merge); returns how many ran.
  std::size_t merge_inline(std::size_t max_segments, std::size_t threads);
  void run_merge(Merge& merge, std::size_t threads) const;  // no lock
  void commit_merge(Merge& merge);                          // under the lock
  void flush_locked(std::size_t threads);
  void forget_inherited_merger();  // under merge_mu_
  int64_t max_key_locked() const;

  AnalyzerOptions analyzer_;
  Bm25Params params_;
  IndexConfig config_;
  mutable std::shared_mutex mu_;
  std::vector<std::shared_ptr<detail::Entry>> entries_;  // key order
  std::unique_ptr<MemorySegment> memory_;
  std::vector<uint8_t> memory_live_;  // empty: none deleted
  std::unordered_map<uint32_t, uint32_t> memory_deleted_df_;
  uint64_t memory_deleted_ = 0, memory_deleted_length_ = 0;
  int64_t last_key_ = std::numeric_limits<int64_t>::min();

  mutable std::mutex scorer_mu_;
  mutable std::shared_ptr<const Scorer> scorer_;

  std::mutex merge_mu_;  // one merge at a time
  std::thread merger_;
  int merger_pid_ = 0;  // the process that started it: after fork() the child has no such thread
  std::atomic<bool> merging_{false};
  std::atomic<bool> stop_{false};
  std::mutex error_mu_;
  std::mutex hold_mu_;
  // On the heap: a child forked while the merge thread waited on it leaks it (destroying a
  // condition variable waits for its waiters, and that one is not in the child).
  std::unique_ptr<std::condition_variable> hold_cv_ = std::make_unique<std::condition_variable>();
  bool hold_ = false;
  std::string merge_error_;
};

}  // namespace ctxengine
