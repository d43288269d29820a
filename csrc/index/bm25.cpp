// The index's read side: checks mapped arrays, derives idf, document norms and per-term bounds,
// looks terms up and decodes posting blocks.
#include "index/bm25.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.hpp"
#include "index/postings.hpp"

namespace ctxengine {
namespace {

[[noreturn]] void corrupt(const std::string& what) {
  throw_error(ErrorKind::Format,
              "the BM25 index is corrupt (" + what + "); rebuild it from the source documents");
}

template <typename T>
bool non_decreasing(const ArrayView<T>& a) {
  for (std::size_t i = 1; i < a.size; ++i)
    if (a[i] < a[i - 1]) return false;
  return true;
}

}  // namespace

double bm25_idf(Bm25Variant variant, double n, double df) {
  switch (variant) {
    case Bm25Variant::Lucene:
      return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    case Bm25Variant::Robertson:
      return std::log(std::max(1.0, (n - df + 0.5) / (df + 0.5)));
    case Bm25Variant::Atire:
      return std::log(n / df);
  }
  return 0;
}

std::shared_ptr<Bm25Index> Bm25Index::from_arrays(const Bm25Arrays& a,
                                                  const AnalyzerOptions& analyzer,
                                                  const Bm25Params& params) {
  const std::size_t n_terms = a.term_df.size;
  const std::size_t n_blocks = a.block_last_doc.size;
  const std::size_t n_docs = a.doc_lengths.size;
  if (a.term_offsets.size != n_terms + 1 || a.term_blocks.size != n_terms + 1)
    corrupt("term arrays of different lengths");
  if (a.block_max.size != n_blocks || a.block_offsets.size != n_blocks + 1)
    corrupt("block arrays of different lengths");
  if (a.term_offsets[0] != 0 || a.term_offsets[n_terms] != a.term_bytes.size ||
      !non_decreasing(a.term_offsets))
    corrupt("term offsets out of order");
  if (a.term_blocks[0] != 0 || a.term_blocks[n_terms] != n_blocks || !non_decreasing(a.term_blocks))
    corrupt("term block ranges out of order");
  if (a.block_offsets[0] != 0 || a.block_offsets[n_blocks] != a.postings.size ||
      !non_decreasing(a.block_offsets))
    corrupt("block offsets out of order");
  if (n_docs >= 0xFFFFFFFFu) corrupt("too many documents");
  std::string_view prev;
  for (std::size_t t = 0; t < n_terms; ++t) {
    const uint64_t blocks = a.term_blocks[t + 1] - a.term_blocks[t];
    if (a.term_df[t] == 0 || a.term_df[t] > n_docs ||
        blocks != (a.term_df[t] + kBlockSize - 1) / kBlockSize)
      corrupt("a document frequency does not match its blocks");
    std::string_view term(a.term_bytes.data + a.term_offsets[t],
                          a.term_offsets[t + 1] - a.term_offsets[t]);
    if (term.empty() || (t > 0 && !(prev < term))) corrupt("terms not sorted");
    prev = term;
    for (uint64_t i = a.term_blocks[t]; i < a.term_blocks[t + 1]; ++i) {
      if (a.block_last_doc[i] >= n_docs) corrupt("a document id out of range");
      if (i > a.term_blocks[t] && a.block_last_doc[i] <= a.block_last_doc[i - 1])
        corrupt("blocks out of order");
      if (!(a.block_max[i] >= 0) || !std::isfinite(a.block_max[i])) corrupt("a bad block bound");
    }
  }
  std::shared_ptr<Bm25Index> index(new Bm25Index());
  index->a_ = a;
  index->analyzer_ = analyzer;
  index->params_ = params;
  index->prepare();
  return index;
}

void Bm25Index::prepare() {
  CTX_REQUIRE(params_.k1 >= 0 && std::isfinite(params_.k1), "k1 must be a finite number >= 0");
  CTX_REQUIRE(params_.b >= 0 && params_.b <= 1, "b must be between 0 and 1");
  const std::size_t n = n_docs();
  total_length_ = 0;
  for (std::size_t d = 0; d < n; ++d) total_length_ += a_.doc_lengths[d];
  const auto total = static_cast<double>(total_length_);
  avgdl_ = n == 0 || total == 0 ? 1.0 : total / static_cast<double>(n);
  tf_mult_ = params_.variant == Bm25Variant::Lucene ? 1.0f : static_cast<float>(params_.k1 + 1);
  norm_.resize(n);
  for (std::size_t d = 0; d < n; ++d)
    norm_[d] =
        static_cast<float>(params_.k1 * (1.0 - params_.b + params_.b * a_.doc_lengths[d] / avgdl_));
  idf_.resize(n_terms());
  for (std::size_t t = 0; t < n_terms(); ++t)
    idf_[t] = static_cast<float>(bm25_idf(params_.variant, static_cast<double>(n), a_.term_df[t]));
  term_max_.assign(n_terms(), 0.0f);
  for (std::size_t t = 0; t < n_terms(); ++t)
    for (uint64_t i = a_.term_blocks[t]; i < a_.term_blocks[t + 1]; ++i)
      term_max_[t] = std::max(term_max_[t], a_.block_max[i]);
}

std::string_view Bm25Index::term(std::size_t t) const {
  return std::string_view(a_.term_bytes.data + a_.term_offsets[t],
                          a_.term_offsets[t + 1] - a_.term_offsets[t]);
}

int64_t Bm25Index::find_term(std::string_view s) const {
  std::size_t lo = 0, hi = n_terms();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (term(mid) < s)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n_terms() && term(lo) == s ? static_cast<int64_t>(lo) : -1;
}

std::vector<QueryTerm> Bm25Index::parse_query(std::string_view query) const {
  TermBuffer buf;
  analyze(query, analyzer_, buf);
  std::vector<QueryTerm> out;
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const int64_t t = find_term(buf.term(i));
    if (t < 0) continue;
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const QueryTerm& q) { return q.term == static_cast<uint32_t>(t); });
    if (it != out.end())
      it->weight += 1.0f;
    else
      out.push_back({static_cast<uint32_t>(t), 1.0f});
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> Bm25Index::term_stats(std::string_view query) const {
  TermBuffer buf;
  analyze(query, analyzer_, buf);
  std::vector<std::pair<std::string, uint64_t>> out;
  for (std::size_t i = 0; i < buf.size(); ++i) {
    const std::string_view term = buf.term(i);
    if (std::any_of(out.begin(), out.end(), [&](const auto& p) { return p.first == term; }))
      continue;
    const int64_t t = find_term(term);
    out.emplace_back(std::string(term), t < 0 ? 0 : a_.term_df[static_cast<std::size_t>(t)]);
  }
  return out;
}

std::size_t Bm25Index::decode(uint32_t t, std::size_t block, uint32_t* docs, uint32_t* tfs) const {
  const std::size_t first = a_.term_blocks[t];
  const std::size_t n =
      std::min<std::size_t>(kBlockSize, a_.term_df[t] - (block - first) * kBlockSize);
  const auto* base = a_.postings.data;
  const int64_t prev = block == first ? -1 : static_cast<int64_t>(a_.block_last_doc[block - 1]);
  const unsigned char* end = decode_block(base + a_.block_offsets[block],
                                          base + a_.block_offsets[block + 1], n, prev, docs, tfs);
  if (end == nullptr || docs[n - 1] != a_.block_last_doc[block]) corrupt("a bad posting block");
  return n;
}

}  // namespace ctxengine
