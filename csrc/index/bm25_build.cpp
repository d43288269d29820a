// Building the BM25 index on all cores. Documents are split into parts; each part analyses its
// documents into a local dictionary and (local term, tf) pairs. Local dictionaries are merged by
// hash shard in parallel, the terms sorted, and each part then writes its postings straight into
// its slice of every term's list (parts are in document order, so lists come out sorted). Term
// ranges are then encoded into blocks in parallel. Every step writes to state it owns and the
// outputs are canonical (sorted terms, postings in doc order), so the index is the same byte for
// byte for any thread count.
#include <algorithm>
#include <numeric>
#include <queue>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "index/bm25.hpp"
#include "index/postings.hpp"
#include "index/term_dict.hpp"

namespace ctxengine {
namespace {

struct Part {
  std::size_t doc_begin = 0, doc_end = 0;
  detail::TermDict dict;
  std::vector<uint32_t> local_df;   // per local term
  std::vector<uint32_t> pair_term;  // per (doc, distinct term): local term id
  std::vector<uint32_t> pair_tf;
  std::vector<uint64_t> doc_pairs_end;  // per doc of the part
  std::vector<uint32_t> to_global;      // local id -> sorted global id
  std::vector<uint64_t> write_at;       // local id -> next slot in the global postings
};

constexpr std::size_t kShards = 64;
constexpr std::size_t kEncodeGrain = 2048;  // terms per encoding task

void analyze_part(std::string_view data, const int64_t* starts, const int64_t* ends,
                  const AnalyzerOptions& options, Part& part, std::vector<uint32_t>& doc_lengths) {
  TermBuffer buf;
  std::vector<uint32_t> seen_in_doc;  // local id -> doc stamp + 1
  std::vector<uint64_t> slot;         // local id -> its pair in the current doc
  for (std::size_t d = part.doc_begin; d < part.doc_end; ++d) {
    buf.clear();
    analyze(data.substr(static_cast<std::size_t>(starts[d]),
                        static_cast<std::size_t>(ends[d] - starts[d])),
            options, buf);
    const auto stamp = static_cast<uint32_t>(d - part.doc_begin + 1);
    for (std::size_t i = 0; i < buf.size(); ++i) {
      const std::string_view term = buf.term(i);
      const uint32_t id = part.dict.intern(term, detail::hash_bytes(term));
      if (id >= seen_in_doc.size()) {
        seen_in_doc.resize(id + 1, 0);
        slot.resize(id + 1, 0);
        part.local_df.resize(id + 1, 0);
      }
      if (seen_in_doc[id] != stamp) {
        seen_in_doc[id] = stamp;
        slot[id] = part.pair_term.size();
        part.pair_term.push_back(id);
        part.pair_tf.push_back(1);
        ++part.local_df[id];
      } else {
        ++part.pair_tf[slot[id]];
      }
    }
    CTX_REQUIRE(buf.size() < 0xFFFFFFFFu, "a document has more than 4 billion terms");
    doc_lengths[d] = static_cast<uint32_t>(buf.size());
    part.doc_pairs_end.push_back(part.pair_term.size());
  }
}

}  // namespace

class Bm25Builder {
 public:
  static std::shared_ptr<Bm25Index> build(std::string_view data, const int64_t* starts,
                                          const int64_t* ends, std::size_t n_docs,
                                          const AnalyzerOptions& analyzer, const Bm25Params& params,
                                          std::size_t threads);
};

std::shared_ptr<Bm25Index> Bm25Index::build(std::string_view data, const int64_t* starts,
                                            const int64_t* ends, std::size_t n_docs,
                                            const AnalyzerOptions& analyzer,
                                            const Bm25Params& params, std::size_t threads) {
  return Bm25Builder::build(data, starts, ends, n_docs, analyzer, params, threads);
}

std::shared_ptr<Bm25Index> Bm25Builder::build(std::string_view data, const int64_t* starts,
                                              const int64_t* ends, std::size_t n_docs,
                                              const AnalyzerOptions& analyzer,
                                              const Bm25Params& params, std::size_t threads) {
  CTX_REQUIRE(n_docs < 0xFFFFFFFFu, "an index holds at most 4,294,967,294 documents");
  for (std::size_t d = 0; d < n_docs; ++d)
    CTX_REQUIRE(
        starts[d] >= 0 && starts[d] <= ends[d] && static_cast<std::size_t>(ends[d]) <= data.size(),
        "document byte ranges must lie inside the data, with start <= end");
  threads = resolve_threads(threads);
  std::shared_ptr<Bm25Index> index(new Bm25Index());
  index->analyzer_ = analyzer;
  index->params_ = params;
  index->own_doc_lengths_.assign(n_docs, 0);

  // 1. Analyse parts in parallel.
  const std::size_t n_parts = std::max<std::size_t>(1, std::min(n_docs / 64, threads * 4));
  std::vector<Part> parts(n_parts);
  for (std::size_t p = 0; p < n_parts; ++p) {
    parts[p].doc_begin = n_docs * p / n_parts;
    parts[p].doc_end = n_docs * (p + 1) / n_parts;
  }
  parallel_for(n_parts, 1, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t p = b; p < e; ++p)
      analyze_part(data, starts, ends, analyzer, parts[p], index->own_doc_lengths_);
  });

  // 2. Merge the local dictionaries, one hash shard per task; then sort each shard's terms.
  std::vector<detail::TermDict> shards(kShards);
  std::vector<std::vector<uint32_t>> shard_order(kShards);  // shard id -> rank within shard
  // to_global first holds shard-local ids; the shard is recomputed from the hash.
  for (auto& part : parts) part.to_global.assign(part.dict.size(), 0);
  parallel_for(kShards, 1, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t s = b; s < e; ++s) {
      for (auto& part : parts)
        for (uint32_t id = 0; id < part.dict.size(); ++id) {
          const uint64_t h = part.dict.hash(id);
          if ((h >> 58) != s) continue;
          part.to_global[id] = shards[s].intern(part.dict.term(id), h);
        }
      std::vector<uint32_t> order(shards[s].size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(),
                [&](uint32_t x, uint32_t y) { return shards[s].term(x) < shards[s].term(y); });
      shard_order[s] = std::move(order);
    }
  });
  // k-way merge of the sorted shards into global sorted ids.
  std::vector<std::vector<uint32_t>> shard_to_sorted(kShards);
  std::size_t n_terms = 0;
  for (std::size_t s = 0; s < kShards; ++s) {
    shard_to_sorted[s].resize(shards[s].size());
    n_terms += shards[s].size();
  }
  index->own_term_offsets_.reserve(n_terms + 1);
  index->own_term_offsets_.push_back(0);
  {
    using Head = std::pair<std::string_view, std::size_t>;  // (term, shard)
    auto later = [](const Head& x, const Head& y) { return x.first > y.first; };
    std::priority_queue<Head, std::vector<Head>, decltype(later)> heads(later);
    std::vector<std::size_t> pos(kShards, 0);
    for (std::size_t s = 0; s < kShards; ++s)
      if (!shard_order[s].empty()) heads.push({shards[s].term(shard_order[s][0]), s});
    uint32_t next = 0;
    while (!heads.empty()) {
      const auto [term, s] = heads.top();
      heads.pop();
      shard_to_sorted[s][shard_order[s][pos[s]]] = next++;
      index->own_term_bytes_.append(term.data(), term.size());
      index->own_term_offsets_.push_back(index->own_term_bytes_.size());
      if (++pos[s] < shard_order[s].size()) heads.push({shards[s].term(shard_order[s][pos[s]]), s});
    }
  }
  parallel_for(n_parts, 1, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t p = b; p < e; ++p)
      for (uint32_t id = 0; id < parts[p].dict.size(); ++id)
        parts[p].to_global[id] =
            shard_to_sorted[parts[p].dict.hash(id) >> 58][parts[p].to_global[id]];
  });

  // 3. Document frequencies, list offsets, and each part's slice of every list.
  auto& df = index->own_term_df_;
  df.assign(n_terms, 0);
  for (auto& part : parts)
    for (uint32_t id = 0; id < part.dict.size(); ++id) df[part.to_global[id]] += part.local_df[id];
  std::vector<uint64_t> list_start(n_terms + 1, 0);
  for (std::size_t t = 0; t < n_terms; ++t) list_start[t + 1] = list_start[t] + df[t];
  {
    std::vector<uint64_t> cursor(list_start.begin(), list_start.end() - 1);
    for (auto& part : parts) {
      part.write_at.resize(part.dict.size());
      for (uint32_t id = 0; id < part.dict.size(); ++id) {
        part.write_at[id] = cursor[part.to_global[id]];
        cursor[part.to_global[id]] += part.local_df[id];
      }
    }
  }
  std::vector<uint32_t> post_doc(list_start[n_terms]), post_tf(list_start[n_terms]);
  parallel_for(n_parts, 1, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t p = b; p < e; ++p) {
      Part& part = parts[p];
      uint64_t pair = 0;
      for (std::size_t d = part.doc_begin; d < part.doc_end; ++d) {
        const uint64_t end = part.doc_pairs_end[d - part.doc_begin];
        for (; pair < end; ++pair) {
          const uint64_t at = part.write_at[part.pair_term[pair]]++;
          post_doc[at] = static_cast<uint32_t>(d);
          post_tf[at] = part.pair_tf[pair];
        }
      }
    }
  });
  parts.clear();
  parts.shrink_to_fit();

  // 4. Statistics, then blocks with their maxima, encoded per term range in parallel.
  index->a_.doc_lengths = {index->own_doc_lengths_.data(), n_docs};
  index->a_.term_df = {df.data(), n_terms};
  index->a_.term_offsets = {index->own_term_offsets_.data(), n_terms + 1};
  index->a_.term_bytes = {index->own_term_bytes_.data(), index->own_term_bytes_.size()};
  // idf and norms do not need the blocks; prepare() computes them, and again below for bounds.
  index->a_.term_blocks = {};
  {
    // prepare() reads term_blocks for the per-term maxima; give it an empty block structure.
    index->own_term_blocks_.assign(n_terms + 1, 0);
    index->a_.term_blocks = {index->own_term_blocks_.data(), n_terms + 1};
    index->prepare();
  }
  const std::size_t n_ranges = (n_terms + kEncodeGrain - 1) / kEncodeGrain;
  struct Encoded {
    std::string bytes;
    std::vector<uint64_t> block_end;  // byte end of each block within `bytes`
    std::vector<uint32_t> last_doc;
    std::vector<float> max;
  };
  std::vector<Encoded> enc(n_ranges);
  parallel_for(n_ranges, 1, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t r = b; r < e; ++r) {
      Encoded& out = enc[r];
      const std::size_t t_end = std::min(n_terms, (r + 1) * kEncodeGrain);
      for (std::size_t t = r * kEncodeGrain; t < t_end; ++t) {
        const uint32_t* docs = post_doc.data() + list_start[t];
        const uint32_t* tfs = post_tf.data() + list_start[t];
        const std::size_t n = df[t];
        for (std::size_t i = 0; i < n; i += kBlockSize) {
          const std::size_t m = std::min(kBlockSize, n - i);
          encode_block(docs + i, tfs + i, m, i == 0 ? -1 : static_cast<int64_t>(docs[i - 1]),
                       out.bytes);
          float best = 0;
          for (std::size_t j = i; j < i + m; ++j)
            best = std::max(best, index->term_score(static_cast<uint32_t>(t), tfs[j], docs[j]));
          out.block_end.push_back(out.bytes.size());
          out.last_doc.push_back(docs[i + m - 1]);
          out.max.push_back(best);
        }
      }
    }
  });
  post_doc = {};
  post_tf = {};
  auto& term_blocks = index->own_term_blocks_;
  for (std::size_t t = 0; t < n_terms; ++t)
    term_blocks[t + 1] = term_blocks[t] + (df[t] + kBlockSize - 1) / kBlockSize;
  const std::size_t n_blocks = term_blocks[n_terms];
  index->own_block_offsets_.reserve(n_blocks + 1);
  index->own_block_offsets_.push_back(0);
  index->own_block_last_doc_.reserve(n_blocks);
  index->own_block_max_.reserve(n_blocks);
  std::size_t total_bytes = 0;
  for (const auto& r : enc) total_bytes += r.bytes.size();
  index->own_postings_.reserve(total_bytes);
  for (auto& r : enc) {
    const uint64_t base = index->own_postings_.size();
    index->own_postings_ += r.bytes;
    for (uint64_t end : r.block_end) index->own_block_offsets_.push_back(base + end);
    index->own_block_last_doc_.insert(index->own_block_last_doc_.end(), r.last_doc.begin(),
                                      r.last_doc.end());
    index->own_block_max_.insert(index->own_block_max_.end(), r.max.begin(), r.max.end());
    r = Encoded();
  }
  CTX_CHECK(index->own_block_last_doc_.size() == n_blocks, "block count mismatch");
  index->a_.term_blocks = {term_blocks.data(), n_terms + 1};
  index->a_.block_last_doc = {index->own_block_last_doc_.data(), n_blocks};
  index->a_.block_max = {index->own_block_max_.data(), n_blocks};
  index->a_.block_offsets = {index->own_block_offsets_.data(), n_blocks + 1};
  index->a_.postings = {reinterpret_cast<const unsigned char*>(index->own_postings_.data()),
                        index->own_postings_.size()};
  index->prepare();
  return index;
}

}  // namespace ctxengine
