// What the index's query side and its merges share: a segment with its deletions, and a merge in
// progress.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "index/segment.hpp"

namespace ctxengine::detail {

// An immutable segment and its deletions (tombstones and, per term, how many deleted documents
// hold it, so that live statistics are exact).
struct Entry {
  std::shared_ptr<const Segment> seg;
  std::vector<uint8_t> live;  // empty: none deleted
  uint64_t n_deleted = 0, deleted_length = 0;
  std::unordered_map<uint32_t, uint32_t> deleted_df;

  uint64_t live_docs() const { return seg->n_docs() - n_deleted; }
  uint64_t live_length() const { return seg->total_length() - deleted_length; }
  uint64_t live_df(uint32_t t) const {
    const auto it = deleted_df.find(t);
    return seg->arrays().term_df[t] - (it == deleted_df.end() ? 0 : it->second);
  }
};

// Adjacent entries being merged: the sources and their deletions as they were when the merge
// was planned; deletions made while it runs are carried over when it is committed.
struct Merge {
  std::vector<std::shared_ptr<Entry>> sources;
  std::vector<std::vector<uint8_t>> live;
  std::vector<std::unordered_map<uint32_t, uint32_t>> deleted_df;
  std::vector<std::vector<int64_t>> renumber;  // per source: local doc -> merged doc, or -1
  std::shared_ptr<Segment> result;             // nullptr: nothing left alive
};

}  // namespace ctxengine::detail
