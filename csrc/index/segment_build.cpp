// Building segments on all cores. From text: documents are split into parts; each part analyses
// its documents into a local dictionary and (local term, tf) pairs. Local dictionaries are merged
// by hash shard in parallel, the terms sorted, and each part then writes its postings straight
// into its slice of every term's list (parts are in document order, so lists come out sorted).
// Term ranges are then encoded into blocks with their impacts in parallel (SegmentWriter, also
// used by flushes and merges). Every step writes to state it owns and the outputs are canonical
// (sorted terms, postings in doc order), so a segment is the same byte for byte for any thread
// count.
#include <algorithm>
#include <numeric>
#include <queue>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "index/impacts.hpp"
#include "index/postings.hpp"
#include "index/segment.hpp"
#include "index/term_dict.hpp"

namespace ctxengine {

struct Segment::Owned {
  std::string term_bytes;
  std::vector<uint64_t> term_offsets, term_blocks, term_impacts, block_offsets, block_impacts;
  std::vector<uint32_t> term_df, block_last_doc, impacts, doc_lengths;
  std::vector<int64_t> doc_keys;
  std::vector<uint32_t> pairs;
  std::string postings;
  float impact_norm = 0;
};

class SegmentWriter {
 public:
  static std::shared_ptr<Segment> encode(const PostingSource& source,
                                         std::vector<uint32_t> doc_lengths,
                                         std::vector<int64_t> doc_keys, const Bm25Params& params,
                                         std::size_t threads, std::vector<Impact> pairs);
};

namespace {

constexpr std::size_t kShards = 64;
constexpr std::size_t kEncodeGrain = 2048;  // terms per encoding task

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

// One range of terms, encoded.
struct Encoded {
  std::vector<uint32_t> terms, df;  // the range's non-empty terms and their list lengths
  std::string bytes;
  std::vector<uint64_t> block_end;  // byte end of each block within `bytes`
  std::vector<uint32_t> last_doc;
  std::vector<uint32_t> block_impact_count, term_impact_count;
  std::vector<uint32_t> block_impacts, term_impacts;  // (tf, dl) pairs
};

// (tf, dl) -> its id in a sorted pair table: the pairs of one tf are a run, found by an index
// over tfs, then the length by binary search within the run.
class PairIndex {
 public:
  explicit PairIndex(const std::vector<Impact>& pairs) : pairs_(pairs) {
    const uint32_t max_tf = pairs.empty() ? 0 : pairs.back().tf;
    begin_.assign(static_cast<std::size_t>(max_tf) + 2, 0);
    for (const Impact& p : pairs) ++begin_[p.tf + 1];
    for (std::size_t i = 1; i < begin_.size(); ++i) begin_[i] += begin_[i - 1];
  }
  uint32_t id(uint32_t tf, uint32_t dl) const {
    CTX_CHECK(tf + 1 < begin_.size(), "a posting's tf is missing from the pair table");
    const Impact* first = pairs_.data() + begin_[tf];
    const Impact* last = pairs_.data() + begin_[tf + 1];
    const Impact* at =
        std::lower_bound(first, last, dl, [](const Impact& p, uint32_t v) { return p.dl < v; });
    CTX_CHECK(at != last && at->dl == dl, "a posting's pair is missing from the pair table");
    return static_cast<uint32_t>(at - pairs_.data());
  }

 private:
  const std::vector<Impact>& pairs_;
  std::vector<uint32_t> begin_;
};

void encode_term(const uint32_t* docs, const uint32_t* tfs, std::size_t n,
                 const std::vector<uint32_t>& dl, const PairIndex& pairs, float min_norm,
                 Encoded& out) {
  for (std::size_t i = 0; i < n; ++i)
    CTX_CHECK(docs[i] < dl.size() && (i == 0 || docs[i] > docs[i - 1]) && tfs[i] >= 1,
              "postings out of order or out of range");
  std::vector<Impact> block, list;
  uint32_t ids[kBlockSize];
  for (std::size_t i = 0; i < n; i += kBlockSize) {
    const std::size_t m = std::min(kBlockSize, n - i);
    for (std::size_t j = 0; j < m; ++j) ids[j] = pairs.id(tfs[i + j], dl[docs[i + j]]);
    encode_block(docs + i, ids, m, i == 0 ? -1 : static_cast<int64_t>(docs[i - 1]), out.bytes);
    out.block_end.push_back(out.bytes.size());
    out.last_doc.push_back(docs[i + m - 1]);
    block.clear();
    for (std::size_t j = i; j < i + m; ++j) block.push_back({tfs[j], dl[docs[j]]});
    reduce_impacts(block, min_norm);
    out.block_impact_count.push_back(static_cast<uint32_t>(block.size()));
    for (const Impact& x : block) {
      out.block_impacts.push_back(x.tf);
      out.block_impacts.push_back(x.dl);
    }
    list.insert(list.end(), block.begin(), block.end());
    if (list.size() > 4 * kBlockSize) reduce_impacts(list, min_norm);
  }
  reduce_impacts(list, min_norm);
  out.term_impact_count.push_back(static_cast<uint32_t>(list.size()));
  for (const Impact& x : list) {
    out.term_impacts.push_back(x.tf);
    out.term_impacts.push_back(x.dl);
  }
}

template <typename T>
ArrayView<T> view(const std::vector<T>& v) {
  return {v.data(), v.size()};
}

}  // namespace

// Every (tf, dl) of the source's postings, sorted and distinct (a pass over the postings).
static std::vector<Impact> collect_pairs(const PostingSource& source,
                                         const std::vector<uint32_t>& dl, std::size_t threads) {
  const std::size_t n_source = source.n_terms();
  const std::size_t n_ranges = (n_source + kEncodeGrain - 1) / kEncodeGrain;
  std::vector<std::vector<Impact>> found(n_ranges);
  auto less = [](const Impact& x, const Impact& y) {
    return x.tf < y.tf || (x.tf == y.tf && x.dl < y.dl);
  };
  auto same = [](const Impact& x, const Impact& y) { return x.tf == y.tf && x.dl == y.dl; };
  parallel_for(n_ranges, 1, threads, [&](std::size_t b, std::size_t e) {
    std::vector<uint32_t> docs, tfs;
    for (std::size_t r = b; r < e; ++r) {
      std::vector<Impact>& out = found[r];
      const std::size_t t_end = std::min(n_source, (r + 1) * kEncodeGrain);
      for (std::size_t t = r * kEncodeGrain; t < t_end; ++t) {
        docs.clear();
        tfs.clear();
        source.postings(t, docs, tfs);
        for (std::size_t i = 0; i < docs.size(); ++i) {
          CTX_CHECK(docs[i] < dl.size(), "a posting's document is out of range");
          out.push_back({tfs[i], dl[docs[i]]});
        }
        if (out.size() > (1u << 16)) {
          std::sort(out.begin(), out.end(), less);
          out.erase(std::unique(out.begin(), out.end(), same), out.end());
        }
      }
      std::sort(out.begin(), out.end(), less);
      out.erase(std::unique(out.begin(), out.end(), same), out.end());
    }
  });
  std::vector<Impact> all;
  for (auto& f : found) all.insert(all.end(), f.begin(), f.end());
  std::sort(all.begin(), all.end(), less);
  all.erase(std::unique(all.begin(), all.end(), same), all.end());
  return all;
}

std::shared_ptr<Segment> SegmentWriter::encode(const PostingSource& source,
                                               std::vector<uint32_t> doc_lengths,
                                               std::vector<int64_t> doc_keys,
                                               const Bm25Params& params, std::size_t threads,
                                               std::vector<Impact> pairs) {
  check_params(params);
  const std::size_t n_docs = doc_lengths.size();
  if (n_docs == 0) return nullptr;
  CTX_REQUIRE(n_docs < 0xFFFFFFFFu, "a segment holds at most 4,294,967,294 documents");
  CTX_REQUIRE(doc_keys.size() == n_docs, "one key per document");
  for (std::size_t d = 1; d < n_docs; ++d)
    CTX_REQUIRE(doc_keys[d] > doc_keys[d - 1], "document keys must be strictly increasing");
  auto own = std::make_shared<Segment::Owned>();
  own->impact_norm = min_norm_of(params);
  own->doc_lengths = std::move(doc_lengths);
  own->doc_keys = std::move(doc_keys);
  if (pairs.empty()) pairs = collect_pairs(source, own->doc_lengths, threads);
  const PairIndex pair_index(pairs);
  const std::size_t n_source = source.n_terms();
  const std::size_t n_ranges = (n_source + kEncodeGrain - 1) / kEncodeGrain;
  std::vector<Encoded> enc(n_ranges);
  parallel_for(n_ranges, 1, threads, [&](std::size_t b, std::size_t e) {
    std::vector<uint32_t> docs, tfs;
    for (std::size_t r = b; r < e; ++r) {
      const std::size_t t_end = std::min(n_source, (r + 1) * kEncodeGrain);
      for (std::size_t t = r * kEncodeGrain; t < t_end; ++t) {
        docs.clear();
        tfs.clear();
        source.postings(t, docs, tfs);
        CTX_CHECK(docs.size() == tfs.size() && docs.size() < 0xFFFFFFFFu, "bad postings");
        if (docs.empty()) continue;
        enc[r].terms.push_back(static_cast<uint32_t>(t));
        enc[r].df.push_back(static_cast<uint32_t>(docs.size()));
        encode_term(docs.data(), tfs.data(), docs.size(), own->doc_lengths, pair_index,
                    own->impact_norm, enc[r]);
      }
    }
  });
  own->term_offsets.push_back(0);
  for (const auto& r : enc)
    for (std::size_t i = 0; i < r.terms.size(); ++i) {
      const std::string_view term = source.term(r.terms[i]);
      CTX_CHECK(!term.empty() &&
                    (own->term_offsets.size() == 1 ||
                     std::string_view(own->term_bytes)
                             .substr(own->term_offsets[own->term_offsets.size() - 2]) < term),
                "terms out of order");
      own->term_bytes.append(term.data(), term.size());
      own->term_offsets.push_back(own->term_bytes.size());
      own->term_df.push_back(r.df[i]);
    }
  const std::size_t n_terms = own->term_df.size();
  const auto& df = own->term_df;
  auto& term_blocks = own->term_blocks;
  term_blocks.assign(n_terms + 1, 0);
  for (std::size_t t = 0; t < n_terms; ++t)
    term_blocks[t + 1] = term_blocks[t] + (df[t] + kBlockSize - 1) / kBlockSize;
  const std::size_t n_blocks = term_blocks[n_terms];
  std::size_t total_bytes = 0, block_pairs = 0, term_pairs = 0;
  for (const auto& r : enc) {
    total_bytes += r.bytes.size();
    block_pairs += r.block_impacts.size();
    term_pairs += r.term_impacts.size();
  }
  own->postings.reserve(total_bytes);
  own->block_offsets.reserve(n_blocks + 1);
  own->block_offsets.push_back(0);
  own->block_last_doc.reserve(n_blocks);
  own->block_impacts.reserve(n_blocks + 1);
  own->block_impacts.push_back(0);
  own->impacts.reserve(block_pairs + term_pairs);
  for (auto& r : enc) {
    const uint64_t base = own->postings.size();
    own->postings += r.bytes;
    for (uint64_t end : r.block_end) own->block_offsets.push_back(base + end);
    own->block_last_doc.insert(own->block_last_doc.end(), r.last_doc.begin(), r.last_doc.end());
    for (uint32_t c : r.block_impact_count)
      own->block_impacts.push_back(own->block_impacts.back() + c);
    own->impacts.insert(own->impacts.end(), r.block_impacts.begin(), r.block_impacts.end());
  }
  own->term_impacts.reserve(n_terms + 1);
  own->term_impacts.push_back(own->block_impacts.back());
  for (auto& r : enc) {
    for (uint32_t c : r.term_impact_count)
      own->term_impacts.push_back(own->term_impacts.back() + c);
    own->impacts.insert(own->impacts.end(), r.term_impacts.begin(), r.term_impacts.end());
    r = Encoded();
  }
  CTX_CHECK(own->block_last_doc.size() == n_blocks, "block count mismatch");
  own->pairs.reserve(2 * pairs.size());
  for (const Impact& p : pairs) {
    own->pairs.push_back(p.tf);
    own->pairs.push_back(p.dl);
  }
  std::shared_ptr<Segment> seg(new Segment());
  SegmentArrays& a = seg->a_;
  a.term_bytes = {own->term_bytes.data(), own->term_bytes.size()};
  a.term_offsets = view(own->term_offsets);
  a.term_df = view(own->term_df);
  a.term_blocks = view(own->term_blocks);
  a.term_impacts = view(own->term_impacts);
  a.block_last_doc = view(own->block_last_doc);
  a.block_offsets = view(own->block_offsets);
  a.block_impacts = view(own->block_impacts);
  a.impacts = view(own->impacts);
  a.postings = {reinterpret_cast<const unsigned char*>(own->postings.data()), own->postings.size()};
  a.doc_lengths = view(own->doc_lengths);
  a.doc_keys = view(own->doc_keys);
  a.impact_norm = {&own->impact_norm, 1};
  a.pairs = view(own->pairs);
  seg->own_ = std::move(own);
  seg->prepare();
  return seg;
}

std::shared_ptr<Segment> Segment::write(const PostingSource& source,
                                        std::vector<uint32_t> doc_lengths,
                                        std::vector<int64_t> doc_keys, const Bm25Params& params,
                                        std::size_t threads, std::vector<Impact> pairs) {
  return SegmentWriter::encode(source, std::move(doc_lengths), std::move(doc_keys), params, threads,
                               std::move(pairs));
}

namespace {

// The postings of a build from text: every list in one array, sorted terms.
class BuiltPostings : public PostingSource {
 public:
  BuiltPostings(const std::vector<std::string_view>& terms, const std::vector<uint64_t>& start,
                const std::vector<uint32_t>& docs, const std::vector<uint32_t>& tfs)
      : terms_(terms), start_(start), docs_(docs), tfs_(tfs) {}
  std::size_t n_terms() const override { return terms_.size(); }
  std::string_view term(std::size_t t) const override { return terms_[t]; }
  void postings(std::size_t t, std::vector<uint32_t>& docs,
                std::vector<uint32_t>& tfs) const override {
    docs.assign(docs_.begin() + start_[t], docs_.begin() + start_[t + 1]);
    tfs.assign(tfs_.begin() + start_[t], tfs_.begin() + start_[t + 1]);
  }

 private:
  const std::vector<std::string_view>& terms_;
  const std::vector<uint64_t>& start_;
  const std::vector<uint32_t>& docs_;
  const std::vector<uint32_t>& tfs_;
};

}  // namespace

std::shared_ptr<Segment> Segment::build(std::string_view data, const int64_t* starts,
                                        const int64_t* ends, const int64_t* keys,
                                        std::size_t n_docs, const AnalyzerOptions& analyzer,
                                        const Bm25Params& params, std::size_t threads) {
  if (n_docs == 0) return nullptr;
  CTX_REQUIRE(n_docs < 0xFFFFFFFFu, "a segment holds at most 4,294,967,294 documents");
  for (std::size_t d = 0; d < n_docs; ++d)
    CTX_REQUIRE(
        starts[d] >= 0 && starts[d] <= ends[d] && static_cast<std::size_t>(ends[d]) <= data.size(),
        "document byte ranges must lie inside the data, with start <= end");
  threads = resolve_threads(threads);
  std::vector<uint32_t> doc_lengths(n_docs, 0);

  // 1. Analyse parts in parallel.
  const std::size_t n_parts = std::max<std::size_t>(1, std::min(n_docs / 64, threads * 4));
  std::vector<Part> parts(n_parts);
  for (std::size_t p = 0; p < n_parts; ++p) {
    parts[p].doc_begin = n_docs * p / n_parts;
    parts[p].doc_end = n_docs * (p + 1) / n_parts;
  }
  parallel_for(n_parts, 1, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t p = b; p < e; ++p)
      analyze_part(data, starts, ends, analyzer, parts[p], doc_lengths);
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
  std::vector<std::string_view> sorted_terms;
  sorted_terms.reserve(n_terms);
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
      sorted_terms.push_back(term);
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
  std::vector<uint64_t> df(n_terms, 0);
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
  // Local dictionaries go; the shards hold the term bytes until the segment copies them.
  for (auto& part : parts) {
    part.dict = detail::TermDict();
    part.to_global = {};
    part.local_df = {};
    part.pair_term = {};
    part.pair_tf = {};
    part.doc_pairs_end = {};
    part.write_at = {};
  }

  // 4. Encode.
  std::vector<int64_t> doc_keys(keys, keys + n_docs);
  return SegmentWriter::encode(BuiltPostings(sorted_terms, list_start, post_doc, post_tf),
                               std::move(doc_lengths), std::move(doc_keys), params, threads, {});
}

}  // namespace ctxengine
