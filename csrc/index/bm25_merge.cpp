// Merges: which adjacent segments to merge (size tiers, as Lucene's LogMergePolicy: a segment's
// tier is log_F of its live documents over the flush size, and F adjacent segments of one tier
// become one of the next; a segment more than half deleted is rewritten alone), writing the
// merged segment from the sources' postings with deleted documents dropped, and committing it
// with the deletions made while it was written carried over.
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <queue>

#include "common/error.hpp"
#include "index/bm25_index.hpp"
#include "index/bm25_internal.hpp"

namespace ctxengine {

using detail::Entry;

namespace {

struct MergeCancelled {};

std::size_t tier_of(uint64_t docs, std::size_t flush_docs, std::size_t factor) {
  std::size_t tier = 0;
  double size = static_cast<double>(flush_docs);
  while (static_cast<double>(docs) >= size * static_cast<double>(factor)) {
    size *= static_cast<double>(factor);
    ++tier;
  }
  return tier;
}

// The sources' postings, renumbered, as one sorted term list (a k-way merge of the sources'
// sorted dictionaries).
class MergedPostings : public PostingSource {
 public:
  MergedPostings(const detail::Merge& m, const std::atomic<bool>& stop) : m_(m), stop_(stop) {
    using Head = std::pair<std::string_view, std::size_t>;  // (term, source)
    auto later = [](const Head& x, const Head& y) {
      return x.first > y.first || (x.first == y.first && x.second > y.second);
    };
    std::priority_queue<Head, std::vector<Head>, decltype(later)> heads(later);
    std::vector<uint32_t> pos(m.sources.size(), 0);
    for (std::size_t s = 0; s < m.sources.size(); ++s)
      if (m.sources[s]->seg->n_terms() > 0) heads.push({m.sources[s]->seg->term(0), s});
    while (!heads.empty()) {
      const auto [term, s] = heads.top();
      heads.pop();
      if (terms_.empty() || terms_.back() != term) {
        terms_.push_back(term);
        first_.push_back(parts_.size());
      }
      parts_.emplace_back(s, pos[s]);
      const Segment& seg = *m.sources[s]->seg;
      if (++pos[s] < seg.n_terms()) heads.push({seg.term(pos[s]), s});
    }
    first_.push_back(parts_.size());
  }
  std::size_t n_terms() const override { return terms_.size(); }
  std::string_view term(std::size_t t) const override { return terms_[t]; }
  void postings(std::size_t t, std::vector<uint32_t>& docs,
                std::vector<uint32_t>& tfs) const override {
    if (stop_.load(std::memory_order_relaxed)) throw MergeCancelled{};
    uint32_t d[kBlockSize], f[kBlockSize];
    for (std::size_t p = first_[t]; p < first_[t + 1]; ++p) {
      const auto [s, term] = parts_[p];
      const Segment& seg = *m_.sources[s]->seg;
      const std::vector<int64_t>& renumber = m_.renumber[s];
      for (std::size_t b = seg.block_begin(term); b < seg.block_end(term); ++b) {
        const std::size_t n = seg.decode(term, b, d, f);
        for (std::size_t i = 0; i < n; ++i) {
          const int64_t nd = renumber[d[i]];
          if (nd < 0) continue;
          docs.push_back(static_cast<uint32_t>(nd));
          tfs.push_back(f[i]);
        }
      }
    }
  }

 private:
  const detail::Merge& m_;
  const std::atomic<bool>& stop_;
  std::vector<std::string_view> terms_;
  std::vector<std::size_t> first_;                       // per term: its first part
  std::vector<std::pair<std::size_t, uint32_t>> parts_;  // (source, its term id)
};

}  // namespace

bool Bm25Index::plan_merge(std::size_t max_segments, Merge& merge) const {
  const std::size_t n = entries_.size();
  std::size_t first = 0, count = 0;
  if (max_segments > 0) {
    if (n <= max_segments) return false;
    // Merge the adjacent window with the fewest live documents into one.
    count = n - max_segments + 1;
    uint64_t best = std::numeric_limits<uint64_t>::max();
    for (std::size_t i = 0; i + count <= n; ++i) {
      uint64_t docs = 0;
      for (std::size_t j = i; j < i + count; ++j) docs += entries_[j]->live_docs();
      if (docs < best) {
        best = docs;
        first = i;
      }
    }
  } else {
    for (std::size_t i = 0; i < n && count == 0; ++i)
      if (entries_[i]->n_deleted * 2 > entries_[i]->seg->n_docs()) {
        first = i;
        count = 1;
      }
    const std::size_t factor = config_.merge_factor;
    for (std::size_t i = 0; i < n && count == 0;) {
      const std::size_t tier = tier_of(entries_[i]->live_docs(), config_.flush_docs, factor);
      std::size_t j = i + 1;
      while (j < n && tier_of(entries_[j]->live_docs(), config_.flush_docs, factor) == tier) ++j;
      if (j - i >= factor) {
        first = i;
        count = factor;
      }
      i = j;
    }
    if (count == 0) return false;
  }
  merge = Merge();
  for (std::size_t j = first; j < first + count; ++j) {
    merge.sources.push_back(entries_[j]);
    merge.live.push_back(entries_[j]->live);
    merge.deleted_df.push_back(entries_[j]->deleted_df);
  }
  return true;
}

void Bm25Index::run_merge(Merge& merge, std::size_t threads) const {
  std::vector<uint32_t> lengths;
  std::vector<int64_t> keys;
  merge.renumber.resize(merge.sources.size());
  for (std::size_t s = 0; s < merge.sources.size(); ++s) {
    const Segment& seg = *merge.sources[s]->seg;
    const std::vector<uint8_t>& live = merge.live[s];
    merge.renumber[s].assign(seg.n_docs(), -1);
    for (std::size_t d = 0; d < seg.n_docs(); ++d) {
      if (!live.empty() && !live[d]) continue;
      merge.renumber[s][d] = static_cast<int64_t>(lengths.size());
      lengths.push_back(seg.arrays().doc_lengths[d]);
      keys.push_back(seg.arrays().doc_keys[d]);
    }
  }
  // The merged postings' (tf, dl) pairs are among the sources' (those of lengths still there).
  const uint32_t max_dl = lengths.empty() ? 0 : *std::max_element(lengths.begin(), lengths.end());
  std::vector<Impact> pairs;
  for (const auto& src : merge.sources)
    for (std::size_t i = 0; i < src->seg->n_pairs(); ++i)
      if (src->seg->pairs()[i].dl <= max_dl) pairs.push_back(src->seg->pairs()[i]);
  std::sort(pairs.begin(), pairs.end(), [](const Impact& x, const Impact& y) {
    return x.tf < y.tf || (x.tf == y.tf && x.dl < y.dl);
  });
  pairs.erase(
      std::unique(pairs.begin(), pairs.end(),
                  [](const Impact& x, const Impact& y) { return x.tf == y.tf && x.dl == y.dl; }),
      pairs.end());
  merge.result = Segment::write(MergedPostings(merge, stop_), std::move(lengths), std::move(keys),
                                params_, threads, std::move(pairs));
}

void Bm25Index::commit_merge(Merge& merge) {
  const auto at = std::find(entries_.begin(), entries_.end(), merge.sources[0]);
  const std::size_t first = static_cast<std::size_t>(at - entries_.begin());
  CTX_CHECK(at != entries_.end() && first + merge.sources.size() <= entries_.size(),
            "a merge's sources are gone");
  for (std::size_t s = 0; s < merge.sources.size(); ++s)
    CTX_CHECK(entries_[first + s] == merge.sources[s], "a merge's sources moved");
  std::shared_ptr<Entry> merged;
  if (merge.result) {
    merged = std::make_shared<Entry>();
    merged->seg = merge.result;
    const Segment& out = *merge.result;
    for (std::size_t s = 0; s < merge.sources.size(); ++s) {
      const Entry& now = *merge.sources[s];
      const std::vector<uint8_t>& then = merge.live[s];
      if (now.n_deleted == 0) continue;
      for (std::size_t d = 0; d < now.seg->n_docs(); ++d) {
        const bool was = then.empty() || then[d];
        if (!was || now.live[d]) continue;
        const int64_t nd = merge.renumber[s][d];
        CTX_CHECK(nd >= 0, "a merged document lost its number");
        if (merged->live.empty()) merged->live.assign(out.n_docs(), 1);
        merged->live[static_cast<std::size_t>(nd)] = 0;
        ++merged->n_deleted;
        merged->deleted_length += out.arrays().doc_lengths[static_cast<std::size_t>(nd)];
      }
      for (const auto& [t, c] : now.deleted_df) {
        const auto it = merge.deleted_df[s].find(t);
        const uint32_t before = it == merge.deleted_df[s].end() ? 0 : it->second;
        if (c <= before) continue;
        const int64_t mt = out.find_term(now.seg->term(t));
        CTX_CHECK(mt >= 0, "a deleted document's term is missing from the merged segment");
        merged->deleted_df[static_cast<uint32_t>(mt)] += c - before;
      }
    }
    if (merged->n_deleted == out.n_docs()) merged.reset();
  }
  const auto begin = entries_.begin() + static_cast<std::ptrdiff_t>(first);
  const auto end = begin + static_cast<std::ptrdiff_t>(merge.sources.size());
  if (merged) {
    *begin = merged;
    entries_.erase(begin + 1, end);
  } else {
    entries_.erase(begin, end);
  }
}

std::size_t Bm25Index::force_merge(std::size_t max_segments, std::size_t threads) {
  CTX_REQUIRE(max_segments >= 1, "max_segments must be at least 1");
  return merge_inline(max_segments, threads);
}

std::size_t Bm25Index::merge_inline(std::size_t max_segments, std::size_t threads) {
  wait_for_merges();
  std::size_t merges = 0;
  for (;;) {
    Merge m;
    merging_.store(true);  // before planning: removals keep the planned sources in place
    {
      std::shared_lock lock(mu_);
      if (!plan_merge(max_segments, m)) {
        merging_.store(false);
        break;
      }
    }
    try {
      run_merge(m, threads);
    } catch (...) {
      merging_.store(false);
      throw;
    }
    {
      std::unique_lock lock(mu_);
      commit_merge(m);
    }
    merging_.store(false);
    ++merges;
  }
  return merges;
}

std::size_t Bm25Index::maintain(bool background, std::size_t threads) {
  if (!background) return merge_inline(0, threads);  // 0: the tiered policy's merges
  std::lock_guard<std::mutex> guard(merge_mu_);
  forget_inherited_merger();
  if (merging_.load()) return 0;
  if (merger_.joinable()) merger_.join();
  // The first merge is planned here, so that its sources are those of this moment.
  auto first = std::make_shared<Merge>();
  merging_.store(true);  // before planning: removals keep the planned sources in place
  {
    std::shared_lock lock(mu_);
    if (!plan_merge(0, *first)) {
      merging_.store(false);
      return 0;
    }
  }
  merger_pid_ = static_cast<int>(getpid());
  merger_ = std::thread([this, first] {
    try {
      for (bool planned = true; !stop_.load(); planned = false) {
        Merge m;
        if (planned) {
          m = std::move(*first);
        } else {
          std::shared_lock lock(mu_);
          if (!plan_merge(0, m)) break;
        }
        run_merge(m, 1);  // one core: the foreground keeps the others
        {
          std::unique_lock<std::mutex> hold(hold_mu_);
          hold_cv_->wait(hold, [this] { return !hold_ || stop_.load(); });
        }
        std::unique_lock lock(mu_);
        commit_merge(m);
      }
    } catch (const MergeCancelled&) {
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(error_mu_);
      merge_error_ = e.what();
    }
    merging_.store(false);
  });
  return 1;
}

void Bm25Index::hold_merges(bool hold) {
  {
    std::lock_guard<std::mutex> lock(hold_mu_);
    hold_ = hold;
  }
  hold_cv_->notify_all();
}

void Bm25Index::forget_inherited_merger() {
  if (merger_.joinable() && merger_pid_ != static_cast<int>(getpid())) {
    merger_.detach();  // inherited through fork(): the thread (and its merge) is not here
    merging_.store(false);
  }
}

void Bm25Index::wait_for_merges() {
  {
    std::lock_guard<std::mutex> guard(merge_mu_);
    forget_inherited_merger();
    if (merger_.joinable()) merger_.join();
  }
  std::string error;
  {
    std::lock_guard<std::mutex> lock(error_mu_);
    error.swap(merge_error_);
  }
  if (!error.empty()) throw_error(ErrorKind::Internal, "a background merge failed: " + error);
}

}  // namespace ctxengine
