#include "tokenizer/bpe.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <queue>

#include "common/error.hpp"

namespace ctxengine {
namespace {

// Pieces up to this many bytes run the quadratic scan over a small array (tiktoken switches to
// its heap at 100 bytes too); it beats the heap on the short pieces of real text.
constexpr std::size_t kShortPiece = 128;

uint64_t next_serial() {
  static std::atomic<uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void BpeModel::init_pairs(std::size_t expected) {
  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * expected) ++bits;
  pairs_.assign(std::size_t{1} << bits, PairSlot{});
  mask_ = (std::size_t{1} << bits) - 1;
  shift_ = 64 - bits;
  pair_count_ = 0;
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
  // Count the pairs first so that the table is sized once: for every token, every split into
  // two tokens is a merge that produces it, with the token's rank as priority.
  std::vector<BpeMerge> found;
  found.reserve(v.size() * 4);
  for (std::size_t id = 0; id < v.id_bound(); ++id) {
    if (!v.contains(static_cast<uint32_t>(id))) continue;
    const std::string_view t = v.bytes(static_cast<uint32_t>(id));
    const auto* p = reinterpret_cast<const uint8_t*>(t.data());
    for (std::size_t k = 1; k < t.size(); ++k) {
      const uint32_t a = v.find(p, k, t.size());
      if (a == kNoToken) continue;
      const uint32_t b = v.find(p + k, t.size() - k, t.size() - k);
      if (b == kNoToken) continue;
      found.push_back(BpeMerge{a, b, static_cast<uint32_t>(id)});
    }
  }
  m.init_pairs(found.size());
  for (const BpeMerge& e : found) m.insert_pair(e.left, e.right, e.merged, e.merged, false);
  return m;
}

BpeModel BpeModel::from_merges(Vocabulary vocab, const std::vector<BpeMerge>& merges,
                               const uint32_t (&byte_ids)[256], bool whole_piece_lookup,
                               const std::string& source) {
  BpeModel m;
  m.vocab_ = std::move(vocab);
  m.serial_ = next_serial();
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
    m.insert_pair(e.left, e.right, static_cast<uint32_t>(i), e.merged, true);
  }
  return m;
}

template <bool kCount>
std::size_t BpeModel::merge_short(const uint8_t* p, std::size_t len,
                                  std::vector<uint32_t>* out) const {
  // parts[i] is a token; rank[i] / merged[i] describe the pair (parts[i], parts[i+1]).
  uint32_t parts[kShortPiece], rank[kShortPiece], merged[kShortPiece];
  std::size_t n = len;
  for (std::size_t i = 0; i < n; ++i) parts[i] = byte_ids_[p[i]];
  for (std::size_t i = 0; i + 1 < n; ++i) rank[i] = pair(parts[i], parts[i + 1], &merged[i]);
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
    if (best + 1 < n) rank[best] = pair(parts[best], parts[best + 1], &merged[best]);
    if (best > 0) rank[best - 1] = pair(parts[best - 1], parts[best], &merged[best - 1]);
  }
  if constexpr (!kCount) out->insert(out->end(), parts, parts + n);
  return n;
}

template <bool kCount>
std::size_t BpeModel::merge_long(const uint8_t* p, std::size_t len,
                                 std::vector<uint32_t>* out) const {
  // Parts form a linked list over byte positions; a min-heap keyed (priority, position) yields
  // the lowest-priority, leftmost pair. Entries go stale when a neighbour merges; they are
  // checked against the current pair when popped.
  constexpr uint32_t kNone = kNoToken;
  std::vector<uint32_t> id(len), next(len), prev(len);
  for (std::size_t i = 0; i < len; ++i) {
    id[i] = byte_ids_[p[i]];
    next[i] = i + 1 < len ? static_cast<uint32_t>(i + 1) : kNone;
    prev[i] = i > 0 ? static_cast<uint32_t>(i - 1) : kNone;
  }
  std::vector<uint64_t> heap;
  heap.reserve(len);
  uint32_t m = 0;
  for (std::size_t i = 0; i + 1 < len; ++i) {
    const uint32_t r = pair(id[i], id[i + 1], &m);
    if (r != kNoToken) heap.push_back((uint64_t{r} << 32) | i);
  }
  auto later = std::greater<uint64_t>();
  std::make_heap(heap.begin(), heap.end(), later);
  std::size_t n = len;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const uint64_t top = heap.back();
    heap.pop_back();
    const auto r = static_cast<uint32_t>(top >> 32);
    const auto i = static_cast<uint32_t>(top);
    if (id[i] == kNone || next[i] == kNone) continue;  // merged away, or now the last part
    const uint32_t j = next[i];
    if (pair(id[i], id[j], &m) != r) continue;  // stale: a neighbour changed
    id[i] = m;
    id[j] = kNone;
    next[i] = next[j];
    if (next[j] != kNone) prev[next[j]] = i;
    --n;
    if (prev[i] != kNone) {
      const uint32_t r2 = pair(id[prev[i]], id[i], &m);
      if (r2 != kNoToken) {
        heap.push_back((uint64_t{r2} << 32) | prev[i]);
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
    if (next[i] != kNone) {
      const uint32_t r3 = pair(id[i], id[next[i]], &m);
      if (r3 != kNoToken) {
        heap.push_back((uint64_t{r3} << 32) | i);
        std::push_heap(heap.begin(), heap.end(), later);
      }
    }
  }
  if constexpr (!kCount) {
    for (uint32_t i = 0; i != kNone; i = next[i]) out->push_back(id[i]);
  }
  return n;
}

void BpeModel::merge_piece(const uint8_t* p, std::size_t len, std::vector<uint32_t>& out) const {
  if (len == 0) return;
  if (len <= kShortPiece)
    merge_short<false>(p, len, &out);
  else
    merge_long<false>(p, len, &out);
}

void BpeModel::encode_piece(const uint8_t* p, std::size_t len, std::size_t avail,
                            std::vector<uint32_t>& out) const {
  if (whole_piece_lookup_) {
    const uint32_t id = vocab_.find(p, len, avail);
    if (id != kNoToken) {
      out.push_back(id);
      return;
    }
  }
  merge_piece(p, len, out);
}

std::size_t BpeModel::count_piece(const uint8_t* p, std::size_t len, std::size_t avail) const {
  if (whole_piece_lookup_ && vocab_.find(p, len, avail) != kNoToken) return 1;
  if (len == 0) return 0;
  return len <= kShortPiece ? merge_short<true>(p, len, nullptr)
                            : merge_long<true>(p, len, nullptr);
}

}  // namespace ctxengine
