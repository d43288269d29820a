// Per-thread caches of BPE results for pieces that are not whole tokens. Words repeat (in 3 MB
// of the Python docs, 45,527 such pieces are 11,539 distinct strings), so remembering the
// tokens of recent pieces skips most merge loops. Direct-mapped; a short tier (4096 lines of 64
// bytes, pieces up to 32 bytes, with up to 6 ids) and a long tier (512 lines, pieces up to 160
// bytes such as reStructuredText rules, counts only). Entries carry the model's serial, so
// models sharing a thread never see each other's entries; keys are the full bytes (exact).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

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
    if (e.serial == serial && e.len == len && std::memcmp(e.bytes, p, len) == 0) return &e;
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
    for (; i + 8 <= len; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    uint64_t w = 0;
    std::memcpy(&w, p + i, len - i);
    h = (h ^ w) * 0x94d049bb133111ebull;
    return static_cast<std::size_t>(h >> (64 - kLineBits));
  }
  Entry entries_[kLines] = {};
};

struct PieceCache {
  PieceCacheTier<32, 6, 12> short_pieces;  // 4096 x 64 bytes
  PieceCacheTier<160, 1, 9> long_pieces;   // 512 x 172 bytes
  static_assert(sizeof(PieceCacheTier<32, 6, 12>::Entry) == 64, "one cache line per entry");

  // The calling thread's caches.
  static PieceCache& local();
};

}  // namespace ctxengine::detail
