#include "tokenizer/bpe_seams.hpp"

#include <algorithm>

namespace ctxengine::detail {
namespace {

bool is_continuation(uint8_t b) {
  return (b & 0xC0) == 0x80;
}

// The length a first byte announces; 0 for a continuation byte or one no character starts with.
uint32_t announced_length(uint8_t b) {
  return b < 0x80 ? 1 : b < 0xC0 ? 0 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : b < 0xF8 ? 4 : 0;
}

// The code point of a character of `len` bytes, by the decoding rule the scan of a piece uses
// (so that a token's character and the text's, byte for byte equal, get the same key).
uint32_t code_point(const uint8_t* p, uint32_t len) {
  switch (len) {
    case 1:
      return p[0];
    case 2:
      return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    case 3:
      return ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    default:
      return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
             (p[3] & 0x3Fu);
  }
}

bool continuations(const uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_continuation(p[i])) return false;
  }
  return true;
}

uint32_t utf8_bytes(uint32_t cp, uint8_t* b) {
  if (cp < 0x80) return b[0] = static_cast<uint8_t>(cp), 1;
  if (cp < 0x800) {
    b[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
    b[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 2;
  }
  b[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
  b[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
  b[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
  return 3;
}

bool listed(const std::vector<uint64_t>& sorted, uint64_t kind, uint32_t key) {
  return std::binary_search(sorted.begin(), sorted.end(), (kind << 32) | key);
}

}  // namespace

BpeSeams::BpeSeams(const Vocabulary& vocab, const MergeFn& merge)
    : BpeSeams(
          vocab.id_bound(),
          [&vocab](std::size_t id) {
            const auto i = static_cast<uint32_t>(id);
            return vocab.contains(i) ? vocab.bytes(i) : std::string_view();
          },
          merge) {}

BpeSeams::BpeSeams(std::size_t count, const TokenFn& token, const MergeFn& merge) {
  chars_.assign(0x10000, Char{});
  // Tokens share most pairs (ASCII letter pairs above all): a set that grows with the distinct
  // pairs stays small and in cache while the crossings of all tokens go in.
  pairs_.assign(1 << 12, 0);
  mask_ = pairs_.size() - 1;
  shift_ = 64 - 12;
  std::vector<uint64_t> left_parts, right_parts;  // kind << 32 | part key
  for (std::size_t index = 0; index < count; ++index) {
    const std::string_view tok = token(index);
    const auto* t = reinterpret_cast<const uint8_t*>(tok.data());
    const std::size_t n = tok.size();
    for (std::size_t i = 1; i < n; ++i) {
      if (is_continuation(t[i])) continue;  // not a character start
      // The left side: the character that ends at i, or the bytes of one the token starts in.
      std::size_t k = i - 1;
      while (k > 0 && is_continuation(t[k])) --k;
      uint32_t left;
      bool left_whole = !is_continuation(t[k]);
      if (left_whole) {
        const uint32_t len = announced_length(t[k]);
        if (len != i - k) continue;  // a cut-off character: no valid text matches here
        left = code_point(t + k, len);
      } else {
        if (i > 3) continue;  // more continuation bytes than a character has
        left = part_key(t, i);
      }
      // The right side: the character that starts at i, or the part of it the token ends with.
      const uint32_t len = announced_length(t[i]);
      if (len == 0) continue;
      uint32_t right;
      const bool right_whole = i + len <= n;
      if (right_whole) {
        if (!continuations(t + i + 1, len - 1)) continue;
        right = code_point(t + i, len);
      } else {
        if (!continuations(t + i + 1, n - i - 1)) continue;
        right = part_key(t + i, n - i);
      }
      insert(pair_key(left, right));
      // the kind: WW 1, WP 2, PW 4, PP 8 (left bits; right bits are these << 4)
      const uint8_t kind =
          static_cast<uint8_t>(1u << ((left_whole ? 0 : 2) + (right_whole ? 0 : 1)));
      if (!left_whole) {
        left_parts.push_back((uint64_t{kind} << 32) | left);
      } else if (left < 0x10000) {
        chars_[left].flags |= kind;
      }
      if (!right_whole) {
        right_parts.push_back((uint64_t{kind} << 32) | right);
      } else if (right < 0x10000) {
        chars_[right].flags |= static_cast<uint8_t>(kind << 4);
      }
    }
  }
  for (auto* v : {&left_parts, &right_parts}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  uint8_t b[4];
  std::vector<uint32_t> ids, lens;
  for (uint32_t cp = 0; cp < 0x10000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;  // surrogates are not characters of UTF-8 text
    const uint32_t len = utf8_bytes(cp, b);
    Char& c = chars_[cp];
    for (uint32_t j = 1; j < len; ++j) {
      for (uint8_t kind : {kLeftPW, kLeftPP}) {
        if (listed(left_parts, kind, part_key(b + len - j, j))) c.flags |= kind;
      }
      for (uint8_t kind : {kLeftWP, kLeftPP}) {
        if (listed(right_parts, kind, part_key(b, j))) c.flags |= static_cast<uint8_t>(kind << 4);
      }
    }
    ids.clear();
    lens.clear();
    if (!merge(b, len, ids, lens) || ids.size() > 3) {
      c.opaque = 1;
      continue;
    }
    c.count = static_cast<uint8_t>(ids.size());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      c.ids[k] = ids[k];
      c.lens = static_cast<uint8_t>(c.lens | (lens[k] & 3u) << (2 * k));
    }
  }
}

void BpeSeams::insert(uint64_t key) {
  for (std::size_t slot = mix64(key) >> shift_;; slot = (slot + 1) & mask_) {
    if (pairs_[slot] == key) return;
    if (pairs_[slot] == 0) {
      pairs_[slot] = key;
      break;
    }
  }
  if (2 * ++pair_count_ <= pairs_.size()) return;
  std::vector<uint64_t> old(2 * pairs_.size(), 0);  // load above 1/2: twice the slots
  old.swap(pairs_);
  mask_ = pairs_.size() - 1;
  --shift_;
  for (uint64_t k : old) {
    if (k == 0) continue;
    std::size_t slot = mix64(k) >> shift_;
    while (pairs_[slot] != 0) slot = (slot + 1) & mask_;
    pairs_[slot] = k;
  }
}

bool BpeSeams::may_cross_parts(const uint8_t* pa, uint32_t la, uint32_t cpa, const uint8_t* pb,
                               uint32_t lb, uint32_t cpb, uint8_t kinds) const noexcept {
  // the parts a side may be: its bytes' suffixes (left) or prefixes (right), 1 to len - 1 bytes
  uint32_t lefts[3], rights[3];
  const uint32_t nl = la - 1, nr = lb - 1;
  for (uint32_t j = 1; j < la; ++j) lefts[j - 1] = part_key(pa + la - j, j);
  for (uint32_t j = 1; j < lb; ++j) rights[j - 1] = part_key(pb, j);
  if (kinds & kLeftWP) {
    for (uint32_t y = 0; y < nr; ++y) {
      if (contains(cpa, rights[y])) return true;
    }
  }
  if (kinds & kLeftPW) {
    for (uint32_t x = 0; x < nl; ++x) {
      if (contains(lefts[x], cpb)) return true;
    }
  }
  if (kinds & kLeftPP) {
    for (uint32_t x = 0; x < nl; ++x) {
      for (uint32_t y = 0; y < nr; ++y) {
        if (contains(lefts[x], rights[y])) return true;
      }
    }
  }
  return false;
}

}  // namespace ctxengine::detail
