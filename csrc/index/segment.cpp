// A segment's read side: checks mapped arrays (cheap checks always, a full decode on request),
// looks terms and keys up, decodes posting blocks.
#include "index/segment.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "index/impacts.hpp"
#include "index/postings.hpp"
#include "index/term_dict.hpp"

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

// Whether impact `cover` bounds a posting (tf, dl): the same tf in a document no longer, or a
// higher tf where the reduction's float argument holds (impacts.hpp).
bool covers(const Impact& cover, uint32_t tf, uint32_t dl, float min_norm) {
  if (cover.dl > dl || cover.tf < tf) return false;
  return cover.tf == tf || tf_dominates(tf, cover.tf, min_norm);
}

bool covered(const Impact* impacts, std::size_t n, uint32_t tf, uint32_t dl, float min_norm) {
  for (std::size_t i = 0; i < n; ++i)
    if (covers(impacts[i], tf, dl, min_norm)) return true;
  return false;
}

}  // namespace

std::shared_ptr<Segment> Segment::from_arrays(const SegmentArrays& a, const Bm25Params& params) {
  check_params(params);
  const std::size_t n_terms = a.term_df.size;
  const std::size_t n_blocks = a.block_last_doc.size;
  const std::size_t n_docs = a.doc_lengths.size;
  if (n_docs == 0) corrupt("a segment without documents");
  if (n_docs >= 0xFFFFFFFFu) corrupt("too many documents");
  if (a.term_offsets.size != n_terms + 1 || a.term_blocks.size != n_terms + 1 ||
      a.term_impacts.size != n_terms + 1)
    corrupt("term arrays of different lengths");
  if (a.block_offsets.size != n_blocks + 1 || a.block_impacts.size != n_blocks + 1)
    corrupt("block arrays of different lengths");
  if (a.doc_keys.size != n_docs) corrupt("document arrays of different lengths");
  if (a.impacts.size % 2 != 0) corrupt("an odd impact array");
  if (a.impact_norm.size != 1 || !(a.impact_norm[0] >= 0) ||
      !(a.impact_norm[0] <= min_norm_of(params)))
    corrupt("impacts reduced for other BM25 parameters");
  const uint64_t n_impacts = a.impacts.size / 2;
  if (a.term_offsets[0] != 0 || a.term_offsets[n_terms] != a.term_bytes.size ||
      !non_decreasing(a.term_offsets))
    corrupt("term offsets out of order");
  if (a.term_blocks[0] != 0 || a.term_blocks[n_terms] != n_blocks || !non_decreasing(a.term_blocks))
    corrupt("term block ranges out of order");
  if (a.block_offsets[0] != 0 || a.block_offsets[n_blocks] != a.postings.size ||
      !non_decreasing(a.block_offsets))
    corrupt("block offsets out of order");
  if (a.block_impacts[0] != 0 || a.block_impacts[n_blocks] != a.term_impacts[0] ||
      a.term_impacts[n_terms] != n_impacts || !non_decreasing(a.block_impacts) ||
      !non_decreasing(a.term_impacts))
    corrupt("impact ranges out of order");
  uint32_t max_dl = 0;
  for (std::size_t d = 0; d < n_docs; ++d) max_dl = std::max(max_dl, a.doc_lengths[d]);
  for (std::size_t d = 1; d < n_docs; ++d)
    if (a.doc_keys[d] <= a.doc_keys[d - 1]) corrupt("document keys out of order");
  for (uint64_t i = 0; i < n_impacts; ++i) {
    const uint32_t tf = a.impacts[2 * i], dl = a.impacts[2 * i + 1];
    if (tf == 0 || dl < tf || dl > max_dl) corrupt("an impact out of range");
  }
  if (a.pairs.size % 2 != 0 || (a.pairs.size == 0 && n_blocks > 0)) corrupt("a bad pair table");
  for (std::size_t i = 0; i < a.pairs.size / 2; ++i) {
    const uint32_t tf = a.pairs[2 * i], dl = a.pairs[2 * i + 1];
    if (tf == 0 || dl < tf || dl > max_dl) corrupt("a pair out of range");
    if (i > 0 &&
        !(a.pairs[2 * i - 2] < tf || (a.pairs[2 * i - 2] == tf && a.pairs[2 * i - 1] < dl)))
      corrupt("pairs out of order");
  }
  for (std::size_t b = 0; b < n_blocks; ++b)
    if (a.block_impacts[b + 1] == a.block_impacts[b]) corrupt("a block without impacts");
  std::string_view prev;
  for (std::size_t t = 0; t < n_terms; ++t) {
    const uint64_t blocks = a.term_blocks[t + 1] - a.term_blocks[t];
    if (a.term_df[t] == 0 || a.term_df[t] > n_docs ||
        blocks != (a.term_df[t] + kBlockSize - 1) / kBlockSize)
      corrupt("a document frequency does not match its blocks");
    if (a.term_impacts[t + 1] == a.term_impacts[t]) corrupt("a term without impacts");
    std::string_view term(a.term_bytes.data + a.term_offsets[t],
                          a.term_offsets[t + 1] - a.term_offsets[t]);
    if (term.empty() || (t > 0 && !(prev < term))) corrupt("terms not sorted");
    prev = term;
    for (uint64_t i = a.term_blocks[t]; i < a.term_blocks[t + 1]; ++i) {
      if (a.block_last_doc[i] >= n_docs) corrupt("a document id out of range");
      if (i > a.term_blocks[t] && a.block_last_doc[i] <= a.block_last_doc[i - 1])
        corrupt("blocks out of order");
    }
  }
  std::shared_ptr<Segment> seg(new Segment());
  seg->a_ = a;
  seg->prepare();
  return seg;
}

void Segment::prepare() {
  total_length_ = 0;
  max_dl_ = 0;
  for (std::size_t d = 0; d < n_docs(); ++d) {
    total_length_ += a_.doc_lengths[d];
    max_dl_ = std::max(max_dl_, a_.doc_lengths[d]);
  }
  std::size_t size = 16;
  while (size < 2 * n_terms()) size *= 2;
  hash_.assign(size, 0);
  const std::size_t mask = size - 1;
  for (std::size_t t = 0; t < n_terms(); ++t) {
    std::size_t slot = detail::hash_bytes(term(t)) & mask;
    while (hash_[slot] != 0) slot = (slot + 1) & mask;
    hash_[slot] = static_cast<uint32_t>(t + 1);
  }
}

int64_t Segment::find_term(std::string_view s) const {
  const std::size_t mask = hash_.size() - 1;
  for (std::size_t slot = detail::hash_bytes(s) & mask;; slot = (slot + 1) & mask) {
    const uint32_t v = hash_[slot];
    if (v == 0) return -1;
    if (term(v - 1) == s) return static_cast<int64_t>(v - 1);
  }
}

int64_t Segment::find_key(int64_t key) const {
  const int64_t* begin = a_.doc_keys.data;
  const int64_t* end = begin + n_docs();
  const int64_t* it = std::lower_bound(begin, end, key);
  return it != end && *it == key ? it - begin : -1;
}

std::size_t Segment::decode_ids(uint32_t t, std::size_t block, uint32_t* docs,
                                uint32_t* ids) const {
  const std::size_t n = block_size(t, block);
  const auto* base = a_.postings.data;
  const int64_t prev =
      block == a_.term_blocks[t] ? -1 : static_cast<int64_t>(a_.block_last_doc[block - 1]);
  const unsigned char* end =
      decode_block(base + a_.block_offsets[block], base + a_.block_offsets[block + 1],
                   base + a_.postings.size, n, prev, docs, ids);
  if (end == nullptr || docs[n - 1] != a_.block_last_doc[block]) corrupt("a bad posting block");
  // Ids are below 2^(their width, the block's second byte): check them one by one only when
  // that does not keep them below the number of pairs.
  const unsigned width = base[a_.block_offsets[block] + 1];
  if (width > 30 || n_pairs() > 0x7FFFFFFFu) {
    uint32_t top = 0;
    for (std::size_t i = 0; i < n; ++i) top = std::max(top, ids[i]);
    if (top >= n_pairs()) corrupt("a posting's pair is out of range");
  } else if ((uint32_t{1} << width) > n_pairs()) {
    // Ids below 2^30 compare as signed ints, which vectorizes without SSE4.1's unsigned max.
    const auto limit = static_cast<int32_t>(n_pairs());
    int bad = 0;
    for (std::size_t i = 0; i < n; ++i) bad |= static_cast<int32_t>(ids[i]) >= limit;
    if (bad) corrupt("a posting's pair is out of range");
  }
  return n;
}

std::size_t Segment::decode(uint32_t t, std::size_t block, uint32_t* docs, uint32_t* tfs) const {
  const std::size_t n = decode_ids(t, block, docs, tfs);
  const Impact* p = pairs();
  for (std::size_t i = 0; i < n; ++i) tfs[i] = p[tfs[i]].tf;
  return n;
}

uint32_t Segment::tf_of(uint32_t t, uint32_t d) const {
  const uint32_t* first = a_.block_last_doc.data + a_.term_blocks[t];
  const uint32_t* last = a_.block_last_doc.data + a_.term_blocks[t + 1];
  const uint32_t* it = std::lower_bound(first, last, d);
  if (it == last) return 0;
  uint32_t docs[kBlockSize], tfs[kBlockSize];
  const std::size_t n = decode(t, static_cast<std::size_t>(it - a_.block_last_doc.data), docs, tfs);
  const uint32_t* at = std::lower_bound(docs, docs + n, d);
  return at != docs + n && *at == d ? tfs[at - docs] : 0;
}

std::shared_ptr<Segment::BoundCache> Segment::bound_cache(const Scorer& scorer,
                                                          bool may_reset) const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  if (cache_ && cache_->avgdl_ == scorer.avgdl()) return cache_;
  if (cache_ && !may_reset) return nullptr;
  auto fresh = std::make_shared<BoundCache>();
  fresh->avgdl_ = scorer.avgdl();
  fresh->pair_parts_.reset(new float[n_pairs() + 1]);
  const Impact* p = pairs();
  for (std::size_t i = 0; i < n_pairs(); ++i)
    fresh->pair_parts_[i] = scorer.tf_part(p[i].tf, scorer.norm(p[i].dl));
  fresh->parts_.reset(new float[n_blocks() + 1]);
  fresh->ready_.reset(new std::atomic<uint8_t>[n_terms() + 1]);
  for (std::size_t t = 0; t <= n_terms(); ++t) fresh->ready_[t].store(0, std::memory_order_relaxed);
  cache_ = fresh;
  return fresh;
}

const float* Segment::BoundCache::parts(const Segment& seg, uint32_t t, const Scorer& scorer) {
  float* out = parts_.get() + seg.block_begin(t);
  if (ready_[t].load(std::memory_order_acquire)) return out;
  std::lock_guard<std::mutex> lock(mu_);
  if (!ready_[t].load(std::memory_order_relaxed)) {
    for (std::size_t b = seg.block_begin(t); b < seg.block_end(t); ++b) {
      std::size_t n;
      const Impact* imp = seg.block_impacts(b, &n);
      parts_[b] = scorer.max_tf_part(imp, n);
    }
    ready_[t].store(1, std::memory_order_release);
  }
  return out;
}

void Segment::verify_postings(std::size_t threads, const uint8_t* live,
                              std::vector<uint32_t>* deleted_df) const {
  if (deleted_df != nullptr) deleted_df->assign(n_terms(), 0);
  const std::size_t parts = std::max<std::size_t>(1, resolve_threads(threads));
  const float min_norm = a_.impact_norm[0];
  std::vector<std::vector<uint64_t>> lengths(parts);
  parallel_for(parts, 1, parts, [&](std::size_t pb, std::size_t pe) {
    for (std::size_t p = pb; p < pe; ++p) {
      std::vector<uint64_t>& len = lengths[p];
      len.assign(n_docs(), 0);
      uint32_t docs[kBlockSize], ids[kBlockSize];
      const Impact* pair = pairs();
      const std::size_t t_begin = n_terms() * p / parts, t_end = n_terms() * (p + 1) / parts;
      for (std::size_t t = t_begin; t < t_end; ++t) {
        std::size_t tn;
        const Impact* ti = term_impacts(static_cast<uint32_t>(t), &tn);
        for (std::size_t b = block_begin(static_cast<uint32_t>(t));
             b < block_end(static_cast<uint32_t>(t)); ++b) {
          const std::size_t n = decode_ids(static_cast<uint32_t>(t), b, docs, ids);
          std::size_t bn;
          const Impact* bi = block_impacts(b, &bn);
          for (std::size_t i = 0; i < bn; ++i)
            if (!covered(ti, tn, bi[i].tf, bi[i].dl, min_norm))
              corrupt("a block's impacts exceed its list's");
          for (std::size_t i = 0; i < n; ++i) {
            const Impact& x = pair[ids[i]];
            if (x.dl != a_.doc_lengths[docs[i]]) corrupt("a posting's pair has another length");
            if (!covered(bi, bn, x.tf, x.dl, min_norm))
              corrupt("a posting exceeds its block's impacts");
            len[docs[i]] += x.tf;
            if (live != nullptr && !live[docs[i]] && deleted_df != nullptr) ++(*deleted_df)[t];
          }
        }
      }
    }
  });
  for (std::size_t d = 0; d < n_docs(); ++d) {
    uint64_t sum = 0;
    for (const auto& len : lengths) sum += len[d];
    if (sum != a_.doc_lengths[d]) corrupt("a document length does not match its postings");
  }
}

}  // namespace ctxengine
