// The incremental index: adds, removes, statistics and queries over the segment set. Merges
// are in bm25_merge.cpp.
#include "index/bm25_index.hpp"

#include <unistd.h>

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "index/bm25_internal.hpp"

namespace ctxengine {

using detail::Entry;

Bm25Index::Bm25Index(const AnalyzerOptions& analyzer, const Bm25Params& params, IndexConfig config)
    : analyzer_(analyzer),
      params_(params),
      config_(config),
      memory_(std::make_unique<MemorySegment>()) {
  check_params(params);
  CTX_REQUIRE(config.flush_docs >= 1, "flush_docs must be at least 1");
  CTX_REQUIRE(config.merge_factor >= 2, "merge_factor must be at least 2");
}

Bm25Index::~Bm25Index() {
  if (merger_.joinable() && merger_pid_ != static_cast<int>(getpid())) {
    // Inherited through fork(): the thread does not exist here, and the locks it may have held
    // at the fork are never released; touch neither.
    merger_.detach();
    static_cast<void>(hold_cv_.release());
    return;
  }
  stop_.store(true);
  hold_merges(false);
  if (merger_.joinable()) merger_.join();
}

std::shared_ptr<Bm25Index> Bm25Index::build(std::string_view data, const int64_t* starts,
                                            const int64_t* ends, const int64_t* keys, std::size_t n,
                                            const AnalyzerOptions& analyzer,
                                            const Bm25Params& params, IndexConfig config,
                                            std::size_t threads) {
  auto index = std::make_shared<Bm25Index>(analyzer, params, config);
  for (std::size_t i = 1; i < n; ++i)
    CTX_REQUIRE(keys[i] > keys[i - 1], "document keys must be strictly increasing");
  if (auto seg = Segment::build(data, starts, ends, keys, n, analyzer, params, threads)) {
    auto e = std::make_shared<Entry>();
    e->seg = std::move(seg);
    index->entries_.push_back(std::move(e));
    index->last_key_ = keys[n - 1];
  }
  return index;
}

std::shared_ptr<Bm25Index> Bm25Index::from_segments(std::vector<SegmentState> segments,
                                                    const AnalyzerOptions& analyzer,
                                                    const Bm25Params& params, IndexConfig config,
                                                    bool verify, std::size_t threads) {
  auto index = std::make_shared<Bm25Index>(analyzer, params, config);
  for (auto& s : segments) {
    CTX_REQUIRE(s.segment != nullptr, "a segment is missing");
    const Segment& seg = *s.segment;
    if (!index->entries_.empty() && seg.first_key() <= index->entries_.back()->seg->last_key())
      throw_error(ErrorKind::Format, "the BM25 index's segments are out of key order; rebuild it");
    auto e = std::make_shared<Entry>();
    e->seg = s.segment;
    if (!s.deleted.empty()) {
      e->live.assign(seg.n_docs(), 1);
      for (std::size_t i = 0; i < s.deleted.size(); ++i) {
        const uint32_t d = s.deleted[i];
        if (d >= seg.n_docs() || (i > 0 && d <= s.deleted[i - 1]))
          throw_error(ErrorKind::Format,
                      "the BM25 index's deletions are out of range or order; rebuild it");
        e->live[d] = 0;
        e->deleted_length += seg.arrays().doc_lengths[d];
      }
      e->n_deleted = s.deleted.size();
    }
    for (const auto& [t, c] : s.deleted_df) {
      if (t >= seg.n_terms() || c == 0 || c > seg.arrays().term_df[t] || e->deleted_df.count(t))
        throw_error(ErrorKind::Format,
                    "the BM25 index's deleted-document counts are out of range; rebuild it");
      if (e->n_deleted == 0)
        throw_error(ErrorKind::Format, "the BM25 index counts deletions it does not have");
      e->deleted_df[t] = c;
    }
    if (verify) {
      std::vector<uint32_t> counted;
      seg.verify_postings(threads, e->live.empty() ? nullptr : e->live.data(), &counted);
      for (std::size_t t = 0; t < counted.size(); ++t) {
        const auto it = e->deleted_df.find(static_cast<uint32_t>(t));
        if (counted[t] != (it == e->deleted_df.end() ? 0u : it->second))
          throw_error(ErrorKind::Format,
                      "the BM25 index's deleted-document counts do not match its postings; "
                      "rebuild it");
      }
    }
    index->last_key_ = seg.last_key();
    index->entries_.push_back(std::move(e));
  }
  return index;
}

// ---- adding and removing ----------------------------------------------------------------------

void Bm25Index::add(std::string_view data, const int64_t* starts, const int64_t* ends,
                    const int64_t* keys, std::size_t n, std::size_t threads) {
  if (n == 0) return;
  for (std::size_t i = 0; i < n; ++i) {
    CTX_REQUIRE(
        starts[i] >= 0 && starts[i] <= ends[i] && static_cast<std::size_t>(ends[i]) <= data.size(),
        "document byte ranges must lie inside the data, with start <= end");
    CTX_REQUIRE(i == 0 || keys[i] > keys[i - 1], "document keys must be strictly increasing");
  }
  {
    std::shared_lock lock(mu_);
    CTX_REQUIRE(keys[0] > last_key_, "document keys must be above every key already added");
  }
  if (n >= config_.flush_docs) {
    // A large batch is built on all cores without holding the lock, then appended.
    auto seg = Segment::build(data, starts, ends, keys, n, analyzer_, params_, threads);
    std::unique_lock lock(mu_);
    CTX_REQUIRE(keys[0] > last_key_, "document keys must be above every key already added");
    flush_locked(threads);
    auto e = std::make_shared<Entry>();
    e->seg = std::move(seg);
    entries_.push_back(std::move(e));
    last_key_ = keys[n - 1];
    return;
  }
  std::unique_lock lock(mu_);
  CTX_REQUIRE(keys[0] > last_key_, "document keys must be above every key already added");
  for (std::size_t i = 0; i < n; ++i) {
    memory_->add(data.substr(static_cast<std::size_t>(starts[i]),
                             static_cast<std::size_t>(ends[i] - starts[i])),
                 keys[i], analyzer_);
    if (!memory_live_.empty()) memory_live_.push_back(1);
  }
  last_key_ = keys[n - 1];
  if (memory_->n_docs() >= config_.flush_docs) flush_locked(threads);
}

void Bm25Index::flush(std::size_t threads) {
  std::unique_lock lock(mu_);
  flush_locked(threads);
}

void Bm25Index::flush_locked(std::size_t threads) {
  if (memory_->n_docs() == 0) return;
  auto seg = memory_->write(memory_live_.empty() ? nullptr : memory_live_.data(), params_, threads);
  if (seg) {
    auto e = std::make_shared<Entry>();
    e->seg = std::move(seg);
    entries_.push_back(std::move(e));
  }
  memory_ = std::make_unique<MemorySegment>();
  memory_live_.clear();
  memory_deleted_df_.clear();
  memory_deleted_ = memory_deleted_length_ = 0;
}

namespace {

// A removal, checked and not yet applied.
struct Removal {
  Entry* entry;  // nullptr: the memory segment
  uint32_t doc;
  uint32_t length;
  std::vector<uint32_t> terms;  // distinct
};

}  // namespace

void Bm25Index::remove(const int64_t* keys, std::string_view data, const int64_t* starts,
                       const int64_t* ends, std::size_t n) {
  if (n == 0) return;
  for (std::size_t i = 0; i < n; ++i)
    CTX_REQUIRE(
        starts[i] >= 0 && starts[i] <= ends[i] && static_cast<std::size_t>(ends[i]) <= data.size(),
        "document byte ranges must lie inside the data, with start <= end");
  std::unique_lock lock(mu_);
  std::vector<Removal> todo;
  std::unordered_set<int64_t> seen;
  TermBuffer buf;
  std::unordered_map<std::string_view, uint32_t> counts;
  for (std::size_t i = 0; i < n; ++i) {
    const int64_t key = keys[i];
    CTX_REQUIRE(seen.insert(key).second, "key " + std::to_string(key) + " is given twice");
    Removal r{nullptr, 0, 0, {}};
    auto it = std::lower_bound(
        entries_.begin(), entries_.end(), key,
        [](const std::shared_ptr<Entry>& e, int64_t k) { return e->seg->last_key() < k; });
    int64_t local = -1;
    if (it != entries_.end() && (local = (*it)->seg->find_key(key)) >= 0) {
      r.entry = it->get();
      if (!r.entry->live.empty() && !r.entry->live[local]) local = -1;
    } else if ((local = memory_->find_key(key)) >= 0) {
      if (!memory_live_.empty() && !memory_live_[local]) local = -1;
    }
    CTX_REQUIRE(local >= 0, "no document with key " + std::to_string(key) + " in the index");
    r.doc = static_cast<uint32_t>(local);
    r.length = r.entry ? r.entry->seg->arrays().doc_lengths[r.doc] : memory_->doc_length(r.doc);
    buf.clear();
    counts.clear();
    analyze(data.substr(static_cast<std::size_t>(starts[i]),
                        static_cast<std::size_t>(ends[i] - starts[i])),
            analyzer_, buf);
    for (std::size_t j = 0; j < buf.size(); ++j) ++counts[buf.term(j)];
    bool same = buf.size() == r.length;
    for (const auto& [term, tf] : counts) {
      if (!same) break;
      const int64_t t = r.entry ? r.entry->seg->find_term(term) : memory_->find_term(term);
      const uint32_t got = t < 0     ? 0
                           : r.entry ? r.entry->seg->tf_of(static_cast<uint32_t>(t), r.doc)
                                     : memory_->tf_of(static_cast<uint32_t>(t), r.doc);
      same = got == tf;
      r.terms.push_back(static_cast<uint32_t>(t));
    }
    CTX_REQUIRE(same, "the text given for key " + std::to_string(key) +
                          " is not the text it was added with; pass the document's own text");
    todo.push_back(std::move(r));
  }
  for (const Removal& r : todo) {
    if (r.entry != nullptr) {
      Entry& e = *r.entry;
      if (e.live.empty()) e.live.assign(e.seg->n_docs(), 1);
      e.live[r.doc] = 0;
      ++e.n_deleted;
      e.deleted_length += r.length;
      for (uint32_t t : r.terms) ++e.deleted_df[t];
    } else {
      if (memory_live_.empty()) memory_live_.assign(memory_->n_docs(), 1);
      memory_live_[r.doc] = 0;
      ++memory_deleted_;
      memory_deleted_length_ += r.length;
      for (uint32_t t : r.terms) ++memory_deleted_df_[t];
    }
  }
  // Segments left without live documents go now, unless a merge may be reading them.
  if (!merging_.load()) {
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [](const std::shared_ptr<Entry>& e) {
                                    return e->n_deleted == e->seg->n_docs();
                                  }),
                   entries_.end());
  }
  if (memory_deleted_ == memory_->n_docs() && memory_->n_docs() > 0) {
    memory_ = std::make_unique<MemorySegment>();
    memory_live_.clear();
    memory_deleted_df_.clear();
    memory_deleted_ = memory_deleted_length_ = 0;
  }
}

// ---- statistics and queries -------------------------------------------------------------------

CorpusStats Bm25Index::stats() const {
  std::shared_lock lock(mu_);
  CorpusStats s;
  for (const auto& e : entries_) {
    s.n_docs += e->live_docs();
    s.total_length += e->live_length();
  }
  s.n_docs += memory_->n_docs() - memory_deleted_;
  s.total_length += memory_->total_length() - memory_deleted_length_;
  return s;
}

struct Bm25Index::Parsed {
  std::vector<std::string> terms;  // distinct, first-occurrence order
  std::vector<float> weights;
  std::vector<uint64_t> df;                 // live document frequency here
  std::vector<std::vector<int64_t>> local;  // [entry][term]: the entry's term id or -1
  std::vector<int64_t> memory_local;
  CorpusStats corpus;
};

Bm25Index::Parsed Bm25Index::parse(std::string_view query, const ExternalStats* stats) const {
  Parsed p;
  TermBuffer buf;
  analyze(query, analyzer_, buf);
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const std::string_view t = buf.term(i);
    const auto it = std::find(p.terms.begin(), p.terms.end(), t);
    if (it != p.terms.end()) {
      p.weights[it - p.terms.begin()] += 1.0f;
    } else {
      p.terms.emplace_back(t);
      p.weights.push_back(1.0f);
    }
  }
  const std::size_t m = p.terms.size();
  p.df.assign(m, 0);
  p.local.resize(entries_.size());
  for (std::size_t e = 0; e < entries_.size(); ++e) {
    const Entry& entry = *entries_[e];
    p.local[e].resize(m);
    for (std::size_t i = 0; i < m; ++i) {
      const int64_t t = entry.seg->find_term(p.terms[i]);
      p.local[e][i] = t;
      if (t >= 0) p.df[i] += entry.live_df(static_cast<uint32_t>(t));
    }
    p.corpus.n_docs += entry.live_docs();
    p.corpus.total_length += entry.live_length();
  }
  p.memory_local.resize(m);
  for (std::size_t i = 0; i < m; ++i) {
    const int64_t t = memory_->find_term(p.terms[i]);
    p.memory_local[i] = t;
    if (t >= 0) {
      const auto d = memory_deleted_df_.find(static_cast<uint32_t>(t));
      p.df[i] +=
          memory_->df(static_cast<uint32_t>(t)) - (d == memory_deleted_df_.end() ? 0 : d->second);
    }
  }
  p.corpus.n_docs += memory_->n_docs() - memory_deleted_;
  p.corpus.total_length += memory_->total_length() - memory_deleted_length_;
  if (stats != nullptr) {
    CTX_REQUIRE(stats->corpus.n_docs >= p.corpus.n_docs &&
                    stats->corpus.total_length >= p.corpus.total_length,
                "the statistics given cover fewer documents than this index holds; gather them "
                "from every part of the index (term_stats)");
    p.corpus = stats->corpus;
    for (std::size_t i = 0; i < m; ++i) {
      const auto it = stats->df.find(p.terms[i]);
      const uint64_t df = it == stats->df.end() ? 0 : it->second;
      CTX_REQUIRE(df >= p.df[i] && df <= p.corpus.n_docs,
                  "the statistics given do not cover term '" + p.terms[i] +
                      "' of this index; gather them from every part of the index (term_stats)");
      p.df[i] = df;
    }
  }
  return p;
}

std::vector<std::pair<std::string, uint64_t>> Bm25Index::term_stats(std::string_view query) const {
  std::shared_lock lock(mu_);
  Parsed p = parse(query, nullptr);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (std::size_t i = 0; i < p.terms.size(); ++i) out.emplace_back(p.terms[i], p.df[i]);
  return out;
}

std::shared_ptr<const Scorer> Bm25Index::scorer_for(const CorpusStats& stats,
                                                    uint32_t max_dl) const {
  std::lock_guard<std::mutex> lock(scorer_mu_);
  const uint32_t table = std::min<uint32_t>(max_dl, (1u << 14) - 1) + 1;
  if (!scorer_ || scorer_->stats().n_docs != stats.n_docs ||
      scorer_->stats().total_length != stats.total_length || scorer_->norm_table_size() < table)
    scorer_ = std::make_shared<Scorer>(params_, stats, max_dl);
  return scorer_;
}

std::vector<Hit> Bm25Index::search(std::string_view query, std::size_t k, const uint8_t* filter,
                                   std::size_t filter_size, const ExternalStats* stats,
                                   Strategy strategy, std::size_t threads) const {
  CTX_REQUIRE(k >= 1, "k must be at least 1");
  std::shared_lock lock(mu_);
  Parsed p = parse(query, stats);
  const std::size_t m = p.terms.size();
  uint32_t max_dl = memory_->max_dl();
  for (const auto& e : entries_) max_dl = std::max(max_dl, e->seg->max_dl());
  const std::shared_ptr<const Scorer> scorer = scorer_for(p.corpus, max_dl);
  std::vector<float> idf(m);
  for (std::size_t i = 0; i < m; ++i) idf[i] = p.df[i] > 0 ? scorer->idf(p.df[i]) : 0.0f;
  TopK top(k);
  for (std::size_t e = 0; e < entries_.size(); ++e) {
    const Entry& entry = *entries_[e];
    SegmentQuery q{
        entry.seg.get(), scorer.get(), {}, m, entry.live.empty() ? nullptr : entry.live.data(),
        filter,          filter_size};
    // Tables under this query's avgdl (pair tf parts, block bounds), held for the query.
    std::shared_ptr<Segment::BoundCache> cache;
    if (strategy != Strategy::Exhaustive) cache = entry.seg->bound_cache(*scorer, stats == nullptr);
    if (cache) q.pair_parts = cache->pair_parts();
    for (std::size_t i = 0; i < m; ++i) {
      const int64_t t = p.local[e][i];
      if (t < 0 || p.df[i] == 0) continue;
      const auto term = static_cast<uint32_t>(t);
      std::size_t n_imp;
      const Impact* imp = entry.seg->term_impacts(term, &n_imp);
      SegmentTerm st{term, static_cast<uint32_t>(i), p.weights[i], idf[i],
                     Scorer::combine(p.weights[i], idf[i], scorer->max_tf_part(imp, n_imp))};
      // Lists of a few blocks are bounded on the fly; longer ones from the cached bounds.
      if (cache && entry.seg->block_end(term) - entry.seg->block_begin(term) > 2)
        st.parts = cache->parts(*entry.seg, term, *scorer);
      q.terms.push_back(st);
    }
    if (!q.terms.empty()) run_strategy(strategy, q, k, top, threads);
  }
  if (memory_->n_docs() > 0) {
    std::vector<SegmentTerm> terms;
    for (std::size_t i = 0; i < m; ++i)
      if (p.memory_local[i] >= 0 && p.df[i] > 0)
        terms.push_back({static_cast<uint32_t>(p.memory_local[i]), static_cast<uint32_t>(i),
                         p.weights[i], idf[i], 0.0f});
    if (!terms.empty())
      memory_->search(terms, *scorer, memory_live_.empty() ? nullptr : memory_live_.data(), filter,
                      filter_size, top);
  }
  return top.sorted();
}

std::vector<std::vector<Hit>> Bm25Index::search_many(const std::vector<std::string_view>& queries,
                                                     std::size_t k, const uint8_t* filter,
                                                     std::size_t filter_size,
                                                     const ExternalStats* stats,
                                                     std::size_t threads) const {
  CTX_REQUIRE(k >= 1, "k must be at least 1");
  std::vector<std::vector<Hit>> out(queries.size());
  parallel_for(queries.size(), 16, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i)
      out[i] = search(queries[i], k, filter, filter_size, stats);
  });
  return out;
}

// ---- introspection ----------------------------------------------------------------------------

std::vector<SegmentState> Bm25Index::segments() const {
  std::shared_lock lock(mu_);
  std::vector<SegmentState> out;
  for (const auto& e : entries_) {
    SegmentState s;
    s.segment = e->seg;
    for (std::size_t d = 0; d < e->live.size(); ++d)
      if (!e->live[d]) s.deleted.push_back(static_cast<uint32_t>(d));
    s.deleted_df.assign(e->deleted_df.begin(), e->deleted_df.end());
    std::sort(s.deleted_df.begin(), s.deleted_df.end());
    out.push_back(std::move(s));
  }
  return out;
}

std::size_t Bm25Index::n_segments() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

std::size_t Bm25Index::memory_docs() const {
  std::shared_lock lock(mu_);
  return memory_->n_docs() - memory_deleted_;
}

std::vector<std::pair<std::size_t, std::size_t>> Bm25Index::segment_sizes() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (const auto& e : entries_) out.emplace_back(e->seg->n_docs(), e->n_deleted);
  if (memory_->n_docs() > 0) out.emplace_back(memory_->n_docs(), memory_deleted_);
  return out;
}

}  // namespace ctxengine
