#include "tokenizer/bpe.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>

#include "common/error.hpp"
#include "text/utf8.hpp"
#include "tokenizer/bpe_seams.hpp"
#include "tokenizer/piece_cache.hpp"

namespace ctxengine {
namespace {

// Pieces up to this many bytes run the quadratic scan over a small array (tiktoken switches to
// its heap at 100 bytes too); it beats the heap on the short pieces of real text.
constexpr std::size_t kShortPiece = 128;

// Pieces shorter than this (under two CJK characters) are merged without looking for seams.
constexpr std::size_t kSeamPiece = 6;

uint64_t next_serial() {
  static std::atomic<uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

namespace detail {

struct SeamsSlot {
  std::once_flag once;
  std::unique_ptr<BpeSeams> index;
};

}  // namespace detail

const detail::BpeSeams* BpeModel::seams() const {
  if (seams_ == nullptr) return nullptr;
  std::call_once(seams_->once, [this] {
    seams_->index = std::make_unique<detail::BpeSeams>(
        vocab_, [this](const uint8_t* p, std::size_t len, std::vector<uint32_t>& ids,
                       std::vector<uint32_t>& lens) {
          merge_short<false>(p, len, &ids, nullptr);
          for (uint32_t id : ids) lens.push_back(static_cast<uint32_t>(vocab_.bytes(id).size()));
          return true;
        });
  });
  return seams_->index.get();
}

void BpeModel::init_pairs(std::size_t expected) {
  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * expected) ++bits;
  pairs_.assign(std::size_t{1} << bits, PairSlot{});
  mask_ = (std::size_t{1} << bits) - 1;
  shift_ = 64 - bits;
  pair_count_ = 0;
}

void BpeModel::build_byte_pairs() {
  byte_pairs_.assign(65536, ~uint64_t{0});
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      uint32_t merged = 0;
      const uint32_t r = pair(byte_ids_[a], byte_ids_[b], &merged);
      if (r != kNoToken) byte_pairs_[(a << 8) | b] = (uint64_t{r} << 32) | merged;
    }
  }
}

void BpeModel::insert_pair(uint32_t a, uint32_t b, uint32_t priority, uint32_t merged,
                           bool overwrite) {
  const uint64_t key = (uint64_t{a} << 32) | b;
  std::size_t slot = detail::mix64(key) >> shift_;
  for (;; slot = (slot + 1) & mask_) {
    PairSlot& e = pairs_[slot];
    if (e.key == key) {
      if (overwrite) {
        e.priority = priority;
        e.merged = merged;
      }
      return;
    }
    if (e.key == kEmptyKey) {
      e = PairSlot{key, priority, merged};
      ++pair_count_;
      return;
    }
  }
}

BpeModel BpeModel::from_ranks(Vocabulary vocab, const std::string& source) {
  BpeModel m;
  m.vocab_ = std::move(vocab);
  m.serial_ = next_serial();
  m.seams_ = std::make_shared<detail::SeamsSlot>();
  m.whole_piece_lookup_ = true;
  const Vocabulary& v = m.vocab_;
  for (int b = 0; b < 256; ++b) {
    const auto byte = static_cast<uint8_t>(b);
    m.byte_ids_[b] = v.find(&byte, 1, 1);
    if (m.byte_ids_[b] == kNoToken)
      throw_error(ErrorKind::Format,
                  source + ": byte 0x" + "0123456789abcdef"[b >> 4] + "0123456789abcdef"[b & 15] +
                      " is not a token; a byte-level BPE rank file has all 256 single bytes");
  }
  m.build_byte_pairs();
  return m;
}

BpeModel BpeModel::from_merges(Vocabulary vocab, const std::vector<BpeMerge>& merges,
                               const uint32_t (&byte_ids)[256], bool whole_piece_lookup,
                               const std::string& source) {
  BpeModel m;
  m.vocab_ = std::move(vocab);
  m.serial_ = next_serial();
  m.seams_ = std::make_shared<detail::SeamsSlot>();
  m.whole_piece_lookup_ = whole_piece_lookup;
  for (int b = 0; b < 256; ++b) {
    if (!m.vocab_.contains(byte_ids[b]))
      throw_error(ErrorKind::Format, source + ": byte " + std::to_string(b) +
                                         " has no token; byte-level BPE needs all 256 bytes");
    m.byte_ids_[b] = byte_ids[b];
  }
  CTX_REQUIRE(merges.size() < kNoToken, source + ": too many merges");
  m.init_pairs(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const BpeMerge& e = merges[i];
    if (!m.vocab_.contains(e.left) || !m.vocab_.contains(e.right) || !m.vocab_.contains(e.merged))
      throw_error(ErrorKind::Format, source + ": merge " + std::to_string(i) +
                                         " names a token id that is not in the vocabulary");
    // Seams (bpe_seams.hpp) rely on a merge making the token of the two parts' bytes.
    const std::string_view l = m.vocab_.bytes(e.left), r = m.vocab_.bytes(e.right),
                           merged = m.vocab_.bytes(e.merged);
    if (merged.size() != l.size() + r.size() || merged.substr(0, l.size()) != l ||
        merged.substr(l.size()) != r)
      throw_error(ErrorKind::Format, source + ": merge " + std::to_string(i) +
                                         " makes a token whose bytes are not its parts' bytes");
    m.insert_pair(e.left, e.right, static_cast<uint32_t>(i), e.merged, true);
  }
  m.build_byte_pairs();
  return m;
}

BpeModel BpeModel::from_merge_pairs(Vocabulary vocab,
                                    const std::vector<std::pair<uint32_t, uint32_t>>& merges,
                                    bool whole_piece_lookup, const std::string& source) {
  uint32_t byte_ids[256];
  for (int b = 0; b < 256; ++b) {
    const auto byte = static_cast<uint8_t>(b);
    byte_ids[b] = vocab.find(&byte, 1, 1);
    if (byte_ids[b] == kNoToken)
      throw_error(ErrorKind::Format, source + ": byte " + std::to_string(b) +
                                         " is not a token; byte-level BPE needs all 256 bytes");
  }
  std::vector<BpeMerge> list;
  list.reserve(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const auto [a, b] = merges[i];
    if (!vocab.contains(a) || !vocab.contains(b))
      throw_error(ErrorKind::Format, source + ": merge " + std::to_string(i) +
                                         " names a token id that is not in the vocabulary");
    const uint32_t merged = vocab.find_concat(a, b);
    if (merged == kNoToken)
      throw_error(ErrorKind::Format, source + ": merge " + std::to_string(i) +
                                         " makes a token that is not in the vocabulary");
    list.push_back(BpeMerge{a, b, merged});
  }
  return from_merges(std::move(vocab), list, byte_ids, whole_piece_lookup, source);
}

uint32_t BpeModel::cached_pair(uint32_t a, uint32_t b, uint32_t* merged,
                               detail::PairCache* cache) const noexcept {
  if (cache == nullptr || !pairs_.empty()) return pair(a, b, merged);
  const int64_t hit = cache->find(serial_, a, b);
  if (hit >= 0) {
    *merged = hit == detail::PairCache::kMaxId ? kNoToken : static_cast<uint32_t>(hit);
    return *merged;
  }
  const uint32_t r = pair(a, b, merged);
  cache->put(a, b, r);
  return r;
}

template <bool kCount>
std::size_t BpeModel::merge_short(const uint8_t* p, std::size_t len, std::vector<uint32_t>* out,
                                  detail::PairCache* cache) const {
  // parts[i] is a token; rank[i] / merged[i] describe the pair (parts[i], parts[i+1]).
  uint32_t parts[kShortPiece], rank[kShortPiece], merged[kShortPiece];
  std::size_t n = len;
  for (std::size_t i = 0; i < n; ++i) parts[i] = byte_ids_[p[i]];
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const uint64_t bp = byte_pair(p[i], p[i + 1]);
    rank[i] = static_cast<uint32_t>(bp >> 32);
    merged[i] = static_cast<uint32_t>(bp);
  }
  while (n > 1) {
    std::size_t best = 0;
    uint32_t best_rank = rank[0];
    for (std::size_t i = 1; i + 1 < n; ++i) {
      if (rank[i] < best_rank) {  // strict: the leftmost of equal ranks wins, as in tiktoken
        best_rank = rank[i];
        best = i;
      }
    }
    if (best_rank == kNoToken) break;
    parts[best] = merged[best];
    for (std::size_t i = best + 1; i + 1 < n; ++i) {
      parts[i] = parts[i + 1];
      if (i + 2 < n) {
        rank[i] = rank[i + 1];
        merged[i] = merged[i + 1];
      }
    }
    --n;
    if (best + 1 < n) rank[best] = cached_pair(parts[best], parts[best + 1], &merged[best], cache);
    if (best > 0)
      rank[best - 1] = cached_pair(parts[best - 1], parts[best], &merged[best - 1], cache);
  }
  if constexpr (!kCount) out->insert(out->end(), parts, parts + n);
  return n;
}

namespace {

// A min-heap with 8 children per node: the children of a node share one cache line, so a pop
// touches about log8(n) lines instead of log2(n), which is what long pieces pay for.
class OctalHeap {
 public:
  explicit OctalHeap(std::size_t reserve) { v_.reserve(reserve); }
  bool empty() const noexcept { return v_.empty(); }
  // Builds the heap from the pushed items at once (bottom-up, O(n)).
  void push_unordered(uint64_t x) { v_.push_back(x); }
  void heapify() {
    if (v_.size() < 2) return;
    for (std::size_t i = (v_.size() - 2) / 8 + 1; i-- > 0;) sift_down(i);
  }
  void push(uint64_t x) {
    std::size_t i = v_.size();
    v_.push_back(x);
    while (i > 0) {
      const std::size_t parent = (i - 1) / 8;
      if (v_[parent] <= x) break;
      v_[i] = v_[parent];
      i = parent;
    }
    v_[i] = x;
  }
  uint64_t pop() {
    const uint64_t top = v_[0];
    v_[0] = v_.back();
    v_.pop_back();
    if (!v_.empty()) sift_down(0);
    return top;
  }

 private:
  void sift_down(std::size_t i) {
    const std::size_t n = v_.size();
    const uint64_t x = v_[i];
    while (true) {
      const std::size_t first = 8 * i + 1;
      if (first >= n) break;
      const std::size_t last = std::min(first + 8, n);
      std::size_t best = first;
      for (std::size_t c = first + 1; c < last; ++c)
        if (v_[c] < v_[best]) best = c;
      if (v_[best] >= x) break;
      v_[i] = v_[best];
      i = best;
    }
    v_[i] = x;
  }
  std::vector<uint64_t> v_;
};

}  // namespace

template <bool kCount>
std::size_t BpeModel::merge_long(const uint8_t* p, std::size_t len, std::vector<uint32_t>* out,
                                 detail::PairCache* cache) const {
  // Parts form a linked list over byte positions; a min-heap keyed (priority, position) yields
  // the lowest-priority, leftmost pair. Entries go stale when a neighbour merges; they are
  // checked against the current pair when popped.
  constexpr uint32_t kNone = kNoToken;
  struct Part {
    uint32_t id, prev, next;
  };
  std::vector<Part> part(len);
  for (std::size_t i = 0; i < len; ++i) {
    part[i] = Part{byte_ids_[p[i]], i > 0 ? static_cast<uint32_t>(i - 1) : kNone,
                   i + 1 < len ? static_cast<uint32_t>(i + 1) : kNone};
  }
  OctalHeap heap(len + len / 2);
  uint32_t m = 0;
  for (std::size_t i = 0; i + 1 < len; ++i) {
    const auto r = static_cast<uint32_t>(byte_pair(p[i], p[i + 1]) >> 32);
    if (r != kNoToken) heap.push_unordered((uint64_t{r} << 32) | i);
  }
  heap.heapify();
  std::size_t n = len;
  while (!heap.empty()) {
    const uint64_t top = heap.pop();
    const auto r = static_cast<uint32_t>(top >> 32);
    const auto i = static_cast<uint32_t>(top);
    Part& a = part[i];
    if (a.id == kNone || a.next == kNone) continue;  // merged away, or now the last part
    Part& b = part[a.next];
    if (cached_pair(a.id, b.id, &m, cache) != r) continue;  // stale: a neighbour changed
    a.id = m;
    b.id = kNone;
    a.next = b.next;
    if (b.next != kNone) part[b.next].prev = i;
    --n;
    if (a.prev != kNone) {
      const uint32_t r2 = cached_pair(part[a.prev].id, a.id, &m, cache);
      if (r2 != kNoToken) heap.push((uint64_t{r2} << 32) | a.prev);
    }
    if (a.next != kNone) {
      const uint32_t r3 = cached_pair(a.id, part[a.next].id, &m, cache);
      if (r3 != kNoToken) heap.push((uint64_t{r3} << 32) | i);
    }
  }
  if constexpr (!kCount) {
    for (uint32_t i = 0; i != kNone; i = part[i].next) out->push_back(part[i].id);
  }
  return n;
}

template <bool kCount>
std::size_t BpeModel::merge_by_seams(const detail::BpeSeams& seams, const uint8_t* p,
                                     std::size_t len, std::vector<uint32_t>* out,
                                     detail::PairCache* cache) const {
  const std::size_t first = kCount ? 0 : out->size();
  std::size_t total = 0;
  const bool valid = seams.cut(
      p, len,
      [&](const detail::BpeSeams::Char& c) {
        total += c.count;
        if constexpr (!kCount) out->insert(out->end(), c.ids, c.ids + c.count);
      },
      [&](std::size_t begin, std::size_t end) {
        total += end - begin <= kShortPiece
                     ? merge_short<kCount>(p + begin, end - begin, out, cache)
                     : merge_long<kCount>(p + begin, end - begin, out, cache);
      });
  if (valid) return total;
  if constexpr (!kCount) out->resize(first);
  return npos;
}

template <bool kCount>
std::size_t BpeModel::merge_any(const uint8_t* p, std::size_t len, std::vector<uint32_t>* out,
                                detail::PairCache* cache) const {
  if (len >= kSeamPiece && has_non_ascii(p, len)) {
    if (const detail::BpeSeams* seams = this->seams()) {
      const std::size_t n = merge_by_seams<kCount>(*seams, p, len, out, cache);
      if (n != npos) return n;
    }
  }
  return len <= kShortPiece ? merge_short<kCount>(p, len, out, cache)
                            : merge_long<kCount>(p, len, out, cache);
}

void BpeModel::merge_piece(const uint8_t* p, std::size_t len, std::vector<uint32_t>& out) const {
  if (len == 0) return;
  detail::PairCache* cache = pair_cacheable() ? &detail::PieceCache::local().pairs : nullptr;
  merge_any<false>(p, len, &out, cache);
}

namespace detail {

PieceCache& PieceCache::local() {
  thread_local std::unique_ptr<PieceCache> cache = std::make_unique<PieceCache>();
  return *cache;
}

}  // namespace detail

void BpeModel::encode_piece(const uint8_t* p, std::size_t len, std::size_t avail,
                            std::vector<uint32_t>& out) const {
  encode_piece(p, len, vocab_.probe(p, len, avail), out);
}

void BpeModel::encode_piece(const uint8_t* p, std::size_t len, const Vocabulary::Probe& probe,
                            std::vector<uint32_t>& out) const {
  if (whole_piece_lookup_) {
    const uint32_t id = vocab_.find(probe, p, len);
    if (id != kNoToken) {
      out.push_back(id);
      return;
    }
  }
  auto& cache = detail::PieceCache::local().short_pieces;
  if (len > cache.kMaxBytes) {
    merge_piece(p, len, out);
    return;
  }
  const auto serial = static_cast<uint32_t>(serial_);
  if (const auto* e = cache.find(serial, p, len)) {
    if (e->ids[0] != cache.kNoIds) {
      out.insert(out.end(), e->ids, e->ids + e->count);
      return;
    }
  }
  const std::size_t first = out.size();
  merge_piece(p, len, out);
  cache.put(serial, p, len, out.size() - first, out.data() + first);
}

std::size_t BpeModel::count_piece(const uint8_t* p, std::size_t len, std::size_t avail) const {
  return count_piece(p, len, vocab_.probe(p, len, avail));
}

std::size_t BpeModel::count_piece(const uint8_t* p, std::size_t len,
                                  const Vocabulary::Probe& probe) const {
  if (whole_piece_lookup_ && vocab_.find(probe, p, len) != kNoToken) return 1;
  if (len == 0) return 0;
  const auto serial = static_cast<uint32_t>(serial_);
  detail::PieceCache& caches = detail::PieceCache::local();
  detail::PairCache* pair_cache = pair_cacheable() ? &caches.pairs : nullptr;
  auto count_merged = [&] { return merge_any<true>(p, len, nullptr, pair_cache); };
  // A piece that starts with a 3- or 4-byte character (CJK and the like) is cut at seams into
  // characters counted from a table, which is cheaper than a cache line that such pieces,
  // mostly distinct, would rarely find filled (and would evict words from).
  if (p[0] >= 0xE0 && len >= kSeamPiece) return count_merged();
  if (len <= caches.short_pieces.kMaxBytes) {
    if (const auto* e = caches.short_pieces.find(serial, p, len)) return e->count;
    const std::size_t count = count_merged();
    caches.short_pieces.put(serial, p, len, count, nullptr);
    return count;
  }
  if (len <= caches.long_pieces.kMaxBytes) {
    if (const auto* e = caches.long_pieces.find(serial, p, len)) return e->count;
    const std::size_t count = count_merged();
    caches.long_pieces.put(serial, p, len, count, nullptr);
    return count;
  }
  return count_merged();
}

}  // namespace ctxengine
