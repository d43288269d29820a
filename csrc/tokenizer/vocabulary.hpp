// The token vocabulary of a byte-level tokenizer: token id <-> token bytes, with a hash table
// built for the hot path (looking a whole pre-token piece up before running BPE on it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.hpp"

namespace ctxengine {

inline constexpr uint32_t kNoToken = 0xFFFFFFFFu;

// Tables indexed by token id (id -> bytes, id -> token string, id -> added token) are sized by
// the largest id, so one huge id would let a file of a few bytes ask for gigabytes. Real
// vocabularies are dense, with a few reserved gaps: ids may reach four times the number of
// tokens plus kIdSlack, no further. Throws Format naming `source` otherwise.
inline constexpr std::size_t kIdSlack = std::size_t{1} << 20;
void check_id_range(std::size_t max_id, std::size_t count, const std::string& source);

namespace detail {

// Bytes p[0, len) (len <= 8) packed little-endian into a u64, zero-padded. `avail` is how many
// bytes may be read from p; with 8 or more it loads a whole word and masks it.
inline uint64_t pack_bytes(const uint8_t* p, std::size_t len, std::size_t avail) noexcept {
  uint64_t w = 0;
  if (avail >= 8) {
    std::memcpy(&w, p, 8);
    return len == 8 ? w : (w & ((uint64_t{1} << (8 * len)) - 1));
  }
  std::memcpy(&w, p, len);
  return w;
}

inline uint64_t mix64(uint64_t x) noexcept {
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  return x;
}

// Hash of a byte string longer than 8 bytes.
uint64_t hash_long_bytes(const uint8_t* p, std::size_t len) noexcept;

}  // namespace detail

class Vocabulary {
 public:
  Vocabulary() = default;

  // Builds a vocabulary from (bytes, id) pairs. Throws Format (naming `source`) on an empty
  // token, a duplicate id or duplicate bytes.
  static Vocabulary from_tokens(const std::vector<std::pair<std::string, uint32_t>>& tokens,
                                const std::string& source);

  // The same from token bytes laid end to end in `bytes`: token k is
  // bytes[refs[k].offset, refs[k].offset + refs[k].len) with id refs[k].id.
  struct TokenRef {
    std::size_t offset;
    uint32_t len;
    uint32_t id;
  };
  static Vocabulary from_refs(std::string_view bytes, const std::vector<TokenRef>& refs,
                              const std::string& source);

  // Id of the token with exactly these bytes, or kNoToken. `avail` (>= len) is how many bytes
  // may be read from p (a larger value lets short keys load as one word).
  uint32_t find(const uint8_t* p, std::size_t len, std::size_t avail) const noexcept {
    if (len == 0 || len > max_token_bytes_) return kNoToken;
    if (len <= 8) return find_packed(detail::pack_bytes(p, len, avail), len);
    const uint64_t key = detail::hash_long_bytes(p, len);
    std::size_t slot = detail::mix64(key + len) >> shift_;
    for (;; slot = (slot + 1) & mask_) {
      const Slot& e = slots_[slot];
      if (e.len == len && e.key == key && detail::same_bytes(token_data(e.id), p, len)) return e.id;
      if (e.len == 0) return kNoToken;
    }
  }
  // find() in two steps, so that a caller can prefetch the slot of the next piece while it
  // looks up the current one (the table is megabytes; its loads are what lookups wait on).
  struct Probe {
    uint64_t key;
    std::size_t slot;  // npos when the bytes cannot be a token (empty or too long)
  };
  Probe probe(const uint8_t* p, std::size_t len, std::size_t avail) const noexcept {
    if (len == 0 || len > max_token_bytes_) return Probe{0, static_cast<std::size_t>(-1)};
    const uint64_t key =
        len <= 8 ? detail::pack_bytes(p, len, avail) : detail::hash_long_bytes(p, len);
    return Probe{key, static_cast<std::size_t>(detail::mix64(key + len) >> shift_)};
  }
  void prefetch(const Probe& probe) const noexcept {
    if (probe.slot != static_cast<std::size_t>(-1)) __builtin_prefetch(&slots_[probe.slot]);
  }
  uint32_t find(const Probe& probe, const uint8_t* p, std::size_t len) const noexcept {
    if (probe.slot == static_cast<std::size_t>(-1)) return kNoToken;
    for (std::size_t slot = probe.slot;; slot = (slot + 1) & mask_) {
      const Slot& e = slots_[slot];
      if (e.len == len && e.key == probe.key &&
          (len <= 8 || detail::same_bytes(token_data(e.id), p, len)))
        return e.id;
      if (e.len == 0) return kNoToken;
    }
  }

  uint32_t find(std::string_view s) const noexcept {
    return find(reinterpret_cast<const uint8_t*>(s.data()), s.size(), s.size());
  }

  bool contains(uint32_t id) const noexcept {
    return id + std::size_t{1} < offsets_.size() && offsets_[id + 1] > offsets_[id];
  }
  // Bytes of token `id` (contains(id) must hold).
  std::string_view bytes(uint32_t id) const noexcept {
    return std::string_view(arena_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  std::size_t token_size(uint32_t id) const noexcept { return offsets_[id + 1] - offsets_[id]; }

  // Id of the token whose bytes are bytes(a) + bytes(b), or kNoToken (a, b must be tokens).
  // Short concatenations are packed from two word loads, without copying bytes.
  uint32_t find_concat(uint32_t a, uint32_t b) const noexcept {
    const std::size_t la = token_size(a), lb = token_size(b), len = la + lb;
    if (len > max_token_bytes_) return kNoToken;
    const auto* pa = reinterpret_cast<const uint8_t*>(arena_.data()) + offsets_[a];
    const auto* pb = reinterpret_cast<const uint8_t*>(arena_.data()) + offsets_[b];
    if (len <= 8) {
      // The arena has 8 bytes of padding, so word loads never run past it.
      const uint64_t key =
          detail::pack_bytes(pa, la, 8) | (detail::pack_bytes(pb, lb, 8) << (8 * la));
      return find_packed(key, len);
    }
    uint8_t buf[2 * kMaxLookupBytes];
    std::memcpy(buf, pa, la);
    std::memcpy(buf + la, pb, lb);
    return find(buf, len, len);
  }

  std::size_t size() const noexcept { return count_; }
  // One more than the largest id (0 when empty).
  std::size_t id_bound() const noexcept { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  std::size_t max_token_bytes() const noexcept { return max_token_bytes_; }

 private:
  // Tokens longer than this are rejected at load (tiktoken's longest is 128 bytes).
  static constexpr std::size_t kMaxLookupBytes = 1024;

  uint32_t find_packed(uint64_t key, std::size_t len) const noexcept {
    std::size_t slot = detail::mix64(key + len) >> shift_;
    for (;; slot = (slot + 1) & mask_) {
      const Slot& e = slots_[slot];
      if (e.len == len && e.key == key) return e.id;
      if (e.len == 0) return kNoToken;
    }
  }
  void insert(uint32_t id, const std::string& source);

  const uint8_t* token_data(uint32_t id) const noexcept {
    return reinterpret_cast<const uint8_t*>(arena_.data()) + offsets_[id];
  }
  struct Slot {
    uint64_t key = 0;  // packed bytes (len <= 8) or hash_long_bytes
    uint32_t id = 0;
    uint32_t len = 0;  // 0 = empty slot
  };
  std::string arena_;              // all token bytes, by id, then 8 bytes of padding
  std::vector<uint32_t> offsets_;  // token id's bytes are arena_[offsets_[id], offsets_[id+1])
  std::vector<Slot> slots_;        // open addressing, linear probing, load <= 1/2
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t count_ = 0;
  std::size_t max_token_bytes_ = 0;
};

}  // namespace ctxengine
