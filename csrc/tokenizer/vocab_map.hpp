// An open-addressing hash map from byte strings to token ids, with the strings kept in one
// arena: the lookup structure of the WordPiece and HF BPE models, where most of the time goes
// into probing candidate substrings.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace ctxengine::hf {

class VocabMap {
 public:
  static constexpr uint32_t kMissing = 0xFFFFFFFFu;

  // Inserts or overwrites; returns false when the key was already present.
  bool insert(std::string_view key, uint32_t id);
  uint32_t find(std::string_view key) const noexcept { return find(key, hash(key)); }
  // find() with the key's hash() already computed (see prefetch).
  uint32_t find(std::string_view key, uint64_t h) const noexcept {
    if (slots_.empty()) return kMissing;
    const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1u;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.tag == 0) return kMissing;
      if (s.tag == tag && s.len == key.size() &&
          detail::same_bytes(reinterpret_cast<const uint8_t*>(arena_.data()) + s.offset,
                             reinterpret_cast<const uint8_t*>(key.data()), key.size())) {
        return s.id;
      }
    }
  }
  // Starts loading the slot of a key with hash h: batches of lookups overlap their misses.
  void prefetch(uint64_t h) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }
  std::size_t size() const noexcept { return size_; }
  void clear() {
    std::fill(slots_.begin(), slots_.end(), Slot{});
    arena_.clear();
    size_ = 0;
  }

  static uint64_t hash(std::string_view key) noexcept {
    // FNV-1a over 8-byte words, then a final avalanche (splitmix64).
    uint64_t h = 0xcbf29ce484222325ull ^ key.size();
    std::size_t i = 0;
    const auto* p = reinterpret_cast<const uint8_t*>(key.data());
    for (; i + 8 <= key.size(); i += 8) h = (h ^ detail::load_u64(p + i)) * 0x100000001b3ull;
    h = (h ^ detail::tail_word(p + i, key.size() - i)) * 0x100000001b3ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
  }

 private:
  struct Slot {
    uint32_t tag = 0;  // 0 = empty
    uint32_t len = 0;
    uint64_t offset = 0;
    uint32_t id = 0;
  };
  void grow();

  std::vector<Slot> slots_;
  std::string arena_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

inline bool VocabMap::insert(std::string_view key, uint32_t id) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const uint64_t h = hash(key);
  const uint32_t tag = static_cast<uint32_t>(h >> 32) | 1u;
  for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.tag == 0) {
      s = {tag, static_cast<uint32_t>(key.size()), arena_.size(), id};
      arena_.append(key);
      ++size_;
      return true;
    }
    if (s.tag == tag && s.len == key.size() &&
        std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0) {
      s.id = id;
      return false;
    }
  }
}

inline void VocabMap::grow() {
  std::vector<Slot> old = std::move(slots_);
  const std::size_t cap = old.empty() ? 64 : old.size() * 2;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  for (const Slot& s : old) {
    if (s.tag == 0) continue;
    const std::string_view key(arena_.data() + s.offset, s.len);
    for (std::size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].tag == 0) {
        slots_[i] = s;
        break;
      }
    }
  }
}

}  // namespace ctxengine::hf
