// Per-thread caches of BPE results for pieces that are not whole tokens. Words repeat (in 3 MB
// of the Python docs, 45,527 such pieces are 11,539 distinct strings), so remembering the
// tokens of recent pieces skips most merge loops. Direct-mapped; a short tier (16384 lines of 64
// bytes, pieces up to 32 bytes, with up to 6 ids) and a long tier (512 lines, pieces up to 160
// bytes such as reStructuredText rules, counts only). Entries carry the model's serial, so
// models sharing a thread never see each other's entries; keys are the full bytes (exact).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/bytes.hpp"

namespace ctxengine::detail {

template <std::size_t kMaxBytes_, std::size_t kMaxIds_, std::size_t kLineBits>
class PieceCacheTier {
 public:
  static constexpr std::size_t kMaxBytes = kMaxBytes_;  // longer pieces are not cached
  static constexpr std::size_t kMaxIds = kMaxIds_;      // pieces with more tokens cache the count

  struct Entry {
    uint32_t serial;  // 0 = empty
    uint16_t len;
    uint16_t count;
    uint32_t ids[kMaxIds];
    uint8_t bytes[kMaxBytes];
  };

  // The entry for these bytes under model `serial` (len <= kMaxBytes), or nullptr.
  const Entry* find(uint32_t serial, const uint8_t* p, std::size_t len) const noexcept {
    const Entry& e = entries_[slot(serial, p, len)];
    if (e.serial == serial && e.len == len && same_bytes(e.bytes, p, len)) return &e;
    return nullptr;
  }
  // Stores a result; `ids` may be null when only the count is known.
  void put(uint32_t serial, const uint8_t* p, std::size_t len, std::size_t count,
           const uint32_t* ids) noexcept {
    if (count > 0xFFFF) return;
    Entry& e = entries_[slot(serial, p, len)];
    e.serial = serial;
    e.len = static_cast<uint16_t>(len);
    e.count = static_cast<uint16_t>(count);
    std::memcpy(e.bytes, p, len);
    if (ids != nullptr && count <= kMaxIds) {
      std::memcpy(e.ids, ids, count * sizeof(uint32_t));
    } else {
      e.ids[0] = kNoIds;
    }
  }
  static constexpr uint32_t kNoIds = 0xFFFFFFFFu;  // ids[0] when only the count is cached

 private:
  static constexpr std::size_t kLines = std::size_t{1} << kLineBits;
  static std::size_t slot(uint32_t serial, const uint8_t* p, std::size_t len) noexcept {
    uint64_t h = 0x9e3779b97f4a7c15ull * (serial + len);
    std::size_t i = 0;
    for (; i + 8 <= len; i += 8) h = (h ^ load_u64(p + i)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ tail_word(p + i, len - i)) * 0x94d049bb133111ebull;
    return static_cast<std::size_t>(h >> (64 - kLineBits));
  }
  Entry entries_[kLines] = {};
};

// Results of pair lookups of one rank model, (a, b) -> bytes(a) + bytes(b) as a token or none:
// merge loops ask for the same pairs again and again, and an answer from this 32 KB table saves
// the three dependent loads of a vocabulary lookup. Ids must be below 2^21 (a 42-bit key and
// a 21-bit answer in one word); owned by one model at a time (cleared when another asks).
class PairCache {
 public:
  static constexpr uint32_t kMaxId = (1u << 21) - 1;  // also the "no token" answer
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  // Returns the cached answer (kMaxId for "does not merge") or -1 when not cached.
  int64_t find(uint64_t serial, uint32_t a, uint32_t b) noexcept {
    if (serial != owner_) {
      std::memset(entries_, 0xFF, sizeof(entries_));
      owner_ = serial;
    }
    const uint64_t key = (uint64_t{a} << 21) | b;
    const uint64_t e = entries_[slot(key)];
    if (e != kEmpty && (e >> 21) == key) return static_cast<int64_t>(e & kMaxId);
    return -1;
  }
  void put(uint32_t a, uint32_t b, uint32_t merged) noexcept {
    const uint64_t key = (uint64_t{a} << 21) | b;
    entries_[slot(key)] = (key << 21) | (merged > kMaxId ? kMaxId : merged);
  }

 private:
  static constexpr int kBits = 12;
  static std::size_t slot(uint64_t key) noexcept {
    return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15ull) >> (64 - kBits));
  }
  uint64_t owner_ = 0;
  uint64_t entries_[std::size_t{1} << kBits] = {};
};

struct PieceCache {
  PieceCacheTier<32, 6, 14> short_pieces;  // 16384 x 64 bytes
  PieceCacheTier<160, 1, 9> long_pieces;   // 512 x 172 bytes
  PairCache pairs;
  static_assert(sizeof(PieceCacheTier<32, 6, 12>::Entry) == 64, "one cache line per entry");

  // The calling thread's caches.
  static PieceCache& local();
};

}  // namespace ctxengine::detail
