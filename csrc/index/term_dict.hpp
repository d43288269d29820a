// A string -> dense id table for building the index: open addressing over 64-bit hashes, the
// strings kept in one arena. Ids are handed out in order of first insertion.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace ctxengine::detail {

// 64-bit hash of a short string, 8 bytes at a time (multiply-xorshift mixing as in wyhash).
inline uint64_t hash_bytes(std::string_view s) noexcept {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  for (; i + 8 <= s.size(); i += 8) {
    h = (h ^ load_u64(p + i)) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  if (i < s.size()) {
    h = (h ^ tail_word(p + i, s.size() - i)) * 0x94D049BB133111EBull;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

class TermDict {
 public:
  TermDict() { table_.assign(1024, 0); }

  std::size_t size() const { return hashes_.size(); }
  std::string_view term(uint32_t id) const {
    return std::string_view(arena_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  uint64_t hash(uint32_t id) const { return hashes_[id]; }

  // The id of s (hash h), or -1.
  int64_t find(std::string_view s, uint64_t h) const {
    const std::size_t mask = table_.size() - 1;
    for (std::size_t slot = h & mask;; slot = (slot + 1) & mask) {
      const uint32_t v = table_[slot];
      if (v == 0) return -1;
      if (hashes_[v - 1] == h && term(v - 1) == s) return v - 1;
    }
  }

  // The id of s (hash h), inserting it when new.
  uint32_t intern(std::string_view s, uint64_t h) {
    if ((hashes_.size() + 1) * 2 > table_.size()) grow();
    const std::size_t mask = table_.size() - 1;
    for (std::size_t slot = h & mask;; slot = (slot + 1) & mask) {
      const uint32_t v = table_[slot];
      if (v == 0) {
        const auto id = static_cast<uint32_t>(hashes_.size());
        table_[slot] = id + 1;
        hashes_.push_back(h);
        arena_.append(s.data(), s.size());
        offsets_.push_back(arena_.size());
        return id;
      }
      if (hashes_[v - 1] == h && term(v - 1) == s) return v - 1;
    }
  }

 private:
  void grow() {
    std::vector<uint32_t> bigger(table_.size() * 2, 0);
    const std::size_t mask = bigger.size() - 1;
    for (uint32_t id = 0; id < hashes_.size(); ++id) {
      std::size_t slot = hashes_[id] & mask;
      while (bigger[slot] != 0) slot = (slot + 1) & mask;
      bigger[slot] = id + 1;
    }
    table_.swap(bigger);
  }

  std::vector<uint32_t> table_;  // id + 1, 0 = empty
  std::vector<uint64_t> hashes_;
  std::vector<uint64_t> offsets_{0};
  std::string arena_;
};

}  // namespace ctxengine::detail
