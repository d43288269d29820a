#include "tokenizer/vocabulary.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace ctxengine {

namespace detail {

uint64_t hash_long_bytes(const uint8_t* p, std::size_t len) noexcept {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ mix64(w)) * 0x94d049bb133111ebull;
  }
  if (i < len) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, len - i);
    h = (h ^ mix64(w)) * 0x94d049bb133111ebull;
  }
  return h ^ (h >> 31);
}

}  // namespace detail

Vocabulary Vocabulary::from_tokens(std::vector<std::pair<std::string, uint32_t>> tokens,
                                   const std::string& source) {
  Vocabulary v;
  std::size_t bound = 0, total = 0;
  for (const auto& [bytes, id] : tokens) {
    if (bytes.empty())
      throw_error(ErrorKind::Format, source + ": token " + std::to_string(id) +
                                         " has no bytes; tokens cannot be empty");
    if (id == kNoToken)
      throw_error(ErrorKind::Format, source + ": token id " + std::to_string(id) + " is too large");
    bound = std::max<std::size_t>(bound, std::size_t{id} + 1);
    total += bytes.size();
  }
  // Lay the bytes out by id so that bytes(id) is two loads.
  std::vector<const std::string*> by_id(bound, nullptr);
  for (const auto& [bytes, id] : tokens) {
    if (by_id[id] != nullptr)
      throw_error(ErrorKind::Format, source + ": token id " + std::to_string(id) +
                                         " appears twice; each id must name one token");
    by_id[id] = &bytes;
  }
  v.arena_.reserve(total);
  v.offsets_.resize(bound + 1);
  for (std::size_t id = 0; id < bound; ++id) {
    v.offsets_[id] = v.arena_.size();
    if (by_id[id] != nullptr) {
      v.arena_ += *by_id[id];
      v.max_token_bytes_ = std::max(v.max_token_bytes_, by_id[id]->size());
    }
  }
  v.offsets_[bound] = v.arena_.size();
  v.count_ = tokens.size();

  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * tokens.size()) ++bits;
  v.slots_.assign(std::size_t{1} << bits, Slot{});
  v.mask_ = (std::size_t{1} << bits) - 1;
  v.shift_ = 64 - bits;
  for (std::size_t id = 0; id < bound; ++id) {
    if (by_id[id] == nullptr) continue;
    const auto* p = reinterpret_cast<const uint8_t*>(by_id[id]->data());
    const std::size_t len = by_id[id]->size();
    if (v.find(p, len, len) != kNoToken)
      throw_error(ErrorKind::Format, source + ": tokens " + std::to_string(v.find(p, len, len)) +
                                         " and " + std::to_string(id) +
                                         " have the same bytes; each token must be unique");
    const uint64_t key =
        len <= 8 ? detail::pack_bytes(p, len, len) : detail::hash_long_bytes(p, len);
    std::size_t slot = detail::mix64(key + len) >> v.shift_;
    while (v.slots_[slot].len != 0) slot = (slot + 1) & v.mask_;
    v.slots_[slot] = Slot{key, static_cast<uint32_t>(id), static_cast<uint32_t>(len)};
  }
  return v;
}

}  // namespace ctxengine
