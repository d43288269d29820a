// The memory segment: appends, exhaustive search, and writing itself out as a Segment.
#include "index/memory_segment.hpp"

#include <algorithm>
#include <numeric>

#include "common/error.hpp"

namespace ctxengine {

void MemorySegment::add(std::string_view text, int64_t key, const AnalyzerOptions& analyzer) {
  CTX_REQUIRE(keys_.empty() || key > keys_.back(), "document keys must be strictly increasing");
  CTX_REQUIRE(lengths_.size() < 0xFFFFFFFEu, "the memory segment is full");
  buf_.clear();
  analyze(text, analyzer, buf_);
  CTX_REQUIRE(buf_.size() < 0xFFFFFFFFu, "a document has more than 4 billion terms");
  const auto d = static_cast<uint32_t>(lengths_.size());
  for (std::size_t i = 0; i < buf_.size(); ++i) {
    const std::string_view term = buf_.term(i);
    const uint32_t t = dict_.intern(term, detail::hash_bytes(term));
    if (t >= docs_.size()) {
      docs_.resize(t + 1);
      tfs_.resize(t + 1);
      seen_.resize(t + 1, 0);
    }
    if (seen_[t] != d + 1) {
      seen_[t] = d + 1;
      docs_[t].push_back(d);
      tfs_[t].push_back(1);
      ++n_postings_;
    } else {
      ++tfs_[t].back();
    }
  }
  const auto len = static_cast<uint32_t>(buf_.size());
  lengths_.push_back(len);
  keys_.push_back(key);
  total_length_ += len;
  max_dl_ = std::max(max_dl_, len);
}

int64_t MemorySegment::find_term(std::string_view term) const {
  if (dict_.size() == 0) return -1;
  return dict_.find(term, detail::hash_bytes(term));
}

int64_t MemorySegment::find_key(int64_t key) const {
  const auto it = std::lower_bound(keys_.begin(), keys_.end(), key);
  return it != keys_.end() && *it == key ? it - keys_.begin() : -1;
}

uint32_t MemorySegment::tf_of(uint32_t t, uint32_t d) const {
  const auto& docs = docs_[t];
  const auto it = std::lower_bound(docs.begin(), docs.end(), d);
  return it != docs.end() && *it == d ? tfs_[t][it - docs.begin()] : 0;
}

void MemorySegment::search(const std::vector<SegmentTerm>& terms, const Scorer& scorer,
                           const uint8_t* live, const uint8_t* filter, std::size_t filter_size,
                           TopK& top) const {
  thread_local std::vector<float> acc;
  acc.assign(n_docs(), -1.0f);  // -1: no term yet (see search_taat)
  for (const SegmentTerm& t : terms) {
    const auto& docs = docs_[t.term];
    const auto& tfs = tfs_[t.term];
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const uint32_t d = docs[i];
      const float s =
          Scorer::combine(t.weight, t.idf, scorer.tf_part(tfs[i], scorer.norm(lengths_[d])));
      acc[d] = std::max(acc[d], 0.0f) + s;
    }
  }
  for (std::size_t d = 0; d < n_docs(); ++d) {
    if (!(acc[d] >= 0) || !(acc[d] > top.threshold())) continue;
    if (live != nullptr && !live[d]) continue;
    const int64_t key = keys_[d];
    if (filter != nullptr &&
        !(key >= 0 && static_cast<uint64_t>(key) < filter_size && filter[key] != 0))
      continue;
    top.push(acc[d], key);
  }
}

namespace {

class MemoryPostings : public PostingSource {
 public:
  MemoryPostings(const detail::TermDict& dict, const std::vector<std::vector<uint32_t>>& docs,
                 const std::vector<std::vector<uint32_t>>& tfs,
                 const std::vector<int64_t>& renumber)
      : dict_(dict), docs_(docs), tfs_(tfs), renumber_(renumber), order_(dict.size()) {
    std::iota(order_.begin(), order_.end(), 0u);
    std::sort(order_.begin(), order_.end(),
              [&](uint32_t x, uint32_t y) { return dict.term(x) < dict.term(y); });
  }
  std::size_t n_terms() const override { return order_.size(); }
  std::string_view term(std::size_t t) const override { return dict_.term(order_[t]); }
  void postings(std::size_t t, std::vector<uint32_t>& docs,
                std::vector<uint32_t>& tfs) const override {
    const auto& d = docs_[order_[t]];
    const auto& f = tfs_[order_[t]];
    for (std::size_t i = 0; i < d.size(); ++i) {
      const int64_t nd = renumber_[d[i]];
      if (nd < 0) continue;
      docs.push_back(static_cast<uint32_t>(nd));
      tfs.push_back(f[i]);
    }
  }

 private:
  const detail::TermDict& dict_;
  const std::vector<std::vector<uint32_t>>& docs_;
  const std::vector<std::vector<uint32_t>>& tfs_;
  const std::vector<int64_t>& renumber_;
  std::vector<uint32_t> order_;
};

}  // namespace

std::shared_ptr<Segment> MemorySegment::write(const uint8_t* live, const Bm25Params& params,
                                              std::size_t threads) const {
  std::vector<int64_t> renumber(n_docs(), -1);
  std::vector<uint32_t> lengths;
  std::vector<int64_t> keys;
  for (std::size_t d = 0; d < n_docs(); ++d) {
    if (live != nullptr && !live[d]) continue;
    renumber[d] = static_cast<int64_t>(lengths.size());
    lengths.push_back(lengths_[d]);
    keys.push_back(keys_[d]);
  }
  return Segment::write(MemoryPostings(dict_, docs_, tfs_, renumber), std::move(lengths),
                        std::move(keys), params, threads);
}

}  // namespace ctxengine
