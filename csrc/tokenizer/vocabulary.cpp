#include "tokenizer/vocabulary.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace ctxengine {

namespace detail {

uint64_t hash_long_bytes(const uint8_t* p, std::size_t len) noexcept {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) h = (h ^ mix64(load_u64(p + i))) * 0x94d049bb133111ebull;
  // the rest as the last eight bytes (len > 8), which overlap the words before
  if (i < len) h = (h ^ mix64(load_u64(p + len - 8))) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

}  // namespace detail

void check_id_range(std::size_t max_id, std::size_t count, const std::string& source) {
  const std::size_t limit = 4 * count + kIdSlack;
  if (max_id >= limit)
    throw_error(ErrorKind::Format,
                source + ": token id " + std::to_string(max_id) + " is far beyond the " +
                    std::to_string(count) +
                    " tokens it comes with (ids must be nearly dense: " + "below " +
                    std::to_string(limit) + " here); the file is damaged or not a " + "vocabulary");
}

Vocabulary Vocabulary::from_tokens(const std::vector<std::pair<std::string, uint32_t>>& tokens,
                                   const std::string& source) {
  std::string bytes;
  std::vector<TokenRef> refs;
  refs.reserve(tokens.size());
  for (const auto& [t, id] : tokens) {
    refs.push_back(TokenRef{bytes.size(),
                            static_cast<uint32_t>(std::min<std::size_t>(t.size(), kNoToken)), id});
    bytes += t;
  }
  return from_refs(bytes, refs, source);
}

Vocabulary Vocabulary::from_refs(std::string_view bytes, const std::vector<TokenRef>& refs,
                                 const std::string& source) {
  Vocabulary v;
  std::size_t bound = 0;
  for (const TokenRef& r : refs) {
    if (r.len == 0)
      throw_error(ErrorKind::Format, source + ": token " + std::to_string(r.id) +
                                         " has no bytes; tokens cannot be empty");
    if (r.len > kMaxLookupBytes)
      throw_error(ErrorKind::Format, source + ": token " + std::to_string(r.id) + " has " +
                                         std::to_string(r.len) + " bytes; at most " +
                                         std::to_string(kMaxLookupBytes) + " are supported");
    if (r.id == kNoToken)
      throw_error(ErrorKind::Format,
                  source + ": token id " + std::to_string(r.id) + " is too large");
    bound = std::max<std::size_t>(bound, std::size_t{r.id} + 1);
  }
  if (bound > 0) check_id_range(bound - 1, refs.size(), source);
  // Lay the bytes out by id so that bytes(id) is two loads.
  constexpr uint32_t kUnset = kNoToken;
  std::vector<uint32_t> ref_of_id(bound, kUnset);
  std::size_t total = 0;
  for (std::size_t k = 0; k < refs.size(); ++k) {
    uint32_t& slot = ref_of_id[refs[k].id];
    if (slot != kUnset)
      throw_error(ErrorKind::Format, source + ": token id " + std::to_string(refs[k].id) +
                                         " appears twice; each id must name one token");
    slot = static_cast<uint32_t>(k);
    total += refs[k].len;
  }
  if (total + 8 >= kNoToken)
    throw_error(ErrorKind::Unsupported, source + ": the vocabulary's tokens exceed 4 GiB");
  v.arena_.reserve(total + 8);
  v.offsets_.resize(bound + 1);
  for (std::size_t id = 0; id < bound; ++id) {
    v.offsets_[id] = static_cast<uint32_t>(v.arena_.size());
    if (ref_of_id[id] != kUnset) {
      const TokenRef& r = refs[ref_of_id[id]];
      v.arena_.append(bytes.data() + r.offset, r.len);
      v.max_token_bytes_ = std::max<std::size_t>(v.max_token_bytes_, r.len);
    }
  }
  v.offsets_[bound] = static_cast<uint32_t>(v.arena_.size());
  v.arena_.append(8, '\0');
  v.count_ = refs.size();

  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * refs.size()) ++bits;
  v.slots_.assign(std::size_t{1} << bits, Slot{});
  v.mask_ = (std::size_t{1} << bits) - 1;
  v.shift_ = 64 - bits;
  for (std::size_t id = 0; id < bound; ++id)
    if (ref_of_id[id] != kUnset) v.insert(static_cast<uint32_t>(id), source);
  return v;
}

void Vocabulary::insert(uint32_t id, const std::string& source) {
  const auto* p = reinterpret_cast<const uint8_t*>(arena_.data()) + offsets_[id];
  const std::size_t len = token_size(id);
  const uint64_t key = len <= 8 ? detail::pack_bytes(p, len, 8) : detail::hash_long_bytes(p, len);
  std::size_t slot = detail::mix64(key + len) >> shift_;
  for (;; slot = (slot + 1) & mask_) {
    Slot& e = slots_[slot];
    if (e.len == 0) break;
    if (e.len == len && e.key == key && std::memcmp(arena_.data() + offsets_[e.id], p, len) == 0)
      throw_error(ErrorKind::Format, source + ": tokens " + std::to_string(e.id) + " and " +
                                         std::to_string(id) +
                                         " have the same bytes; each token must be unique");
  }
  slots_[slot] = Slot{key, id, static_cast<uint32_t>(len)};
}

}  // namespace ctxengine
