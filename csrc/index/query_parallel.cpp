// One query on several threads, as Lucene's concurrent segment search but within a segment:
// the segment's documents are cut into ranges of ParallelGrain::range_docs; threads claim
// ranges in any order and run term-at-a-time over each into a top-k of its own (starting from
// the threshold of the segments before it); the ranges' top-k lists are then pushed into the
// query's top-k in range order. Every range's list holds that range's k best documents, so the
// k best of their union are the k best of the segment: the same documents and the same scores
// (each one's sum is made in query-term order, as everywhere) whatever the number of threads or
// which thread ran which range. Worth it only for queries of many postings: waking a thread
// costs microseconds.
#include <atomic>
#include <vector>

#include "common/thread_pool.hpp"
#include "index/query.hpp"

namespace ctxengine {
namespace {

std::atomic<uint32_t> g_range_docs{ParallelGrain{}.range_docs};
std::atomic<uint64_t> g_min_postings{ParallelGrain{}.min_postings};

}  // namespace

ParallelGrain parallel_grain() {
  return {g_range_docs.load(std::memory_order_relaxed),
          g_min_postings.load(std::memory_order_relaxed)};
}

void set_parallel_grain(const ParallelGrain& grain) {
  g_range_docs.store(grain.range_docs < 1 ? 1 : grain.range_docs, std::memory_order_relaxed);
  g_min_postings.store(grain.min_postings, std::memory_order_relaxed);
}

bool taat_parallel(const SegmentQuery& q, TopK& top, std::size_t threads) {
  const ParallelGrain grain = parallel_grain();
  const std::size_t n_docs = q.segment->n_docs();
  const std::size_t n_ranges = (n_docs + grain.range_docs - 1) / grain.range_docs;
  if (n_ranges < 2 || resolve_threads(threads) < 2) return false;
  uint64_t postings = 0;
  for (const SegmentTerm& t : q.terms) postings += q.segment->arrays().term_df[t.term];
  if (postings < grain.min_postings) return false;
  std::vector<std::vector<Hit>> found(n_ranges);
  parallel_for(n_ranges, 1, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r) {
      TopK local(top.k());
      local.inherit(top);
      const auto from = static_cast<uint32_t>(r * grain.range_docs);
      const auto to = static_cast<uint32_t>(std::min<std::size_t>(n_docs, from + grain.range_docs));
      taat_range(q, from, to, local);
      found[r] = local.sorted();
    }
  });
  for (const auto& hits : found)
    for (const Hit& h : hits) top.push(h.score, h.key);
  return true;
}

}  // namespace ctxengine
