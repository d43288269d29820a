// Seams of a BPE vocabulary: character boundaries of a piece that no token covers, where the
// piece can be cut and its parts encoded alone.
//
// Why a cut there is exact: every merge joins two adjacent parts into a token whose bytes are
// their concatenation (tiktoken ranks; HF merges, checked at load), so when no token of the
// vocabulary has bytes on both sides of a boundary, no merge ever crosses it. Each merge is the
// lowest (priority, position) pair of the whole piece, hence also of the side it falls on, so
// each side sees exactly the merges it would see alone, in the same order. (The argument of
// docs/tokenizers.md "Span counting", applied inside a piece.)
//
// What pays: CJK pieces under a vocabulary with few multi-character CJK tokens (cl100k has
// 1,262 tokens that cross a boundary between two non-ASCII characters) fall apart into single
// characters, whose encodings are precomputed here. The merge loop, quadratic in the piece with
// a pair lookup per merge, becomes one table load per character.
//
// Deciding from the two characters A | B alone: a token covering the boundary has a character
// start inside it where its bytes before end with A (all of A, or a suffix of A's bytes when
// the token starts inside A) and its bytes after begin with B (all of B, or a prefix of B when
// it ends inside B). The index holds every such (left, right) pair of every token, so a
// boundary none of whose pairs is listed is a seam. Listing pairs no valid text can hold only
// costs a missed cut, never a wrong one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "tokenizer/vocabulary.hpp"

namespace ctxengine::detail {

class BpeSeams {
 public:
  // A character of the Basic Multilingual Plane: which kinds of pairs it may be in, and its
  // encoding as a piece of its own (merges only, no whole-piece lookup).
  struct Char {
    uint8_t flags;  // bits below
    uint8_t count;  // tokens of the character alone (1 to 3)
    uint16_t unused;
    uint32_t ids[3];
  };
  // Listed pairs (left, right) by kind: each side whole (W) or a part (P) of the character.
  // The character is the whole left of a WW / WP pair, its bytes end with the left part of a
  // PW / PP pair, it is the whole right of a WW / PW pair, or its bytes begin with the right
  // part of a WP / PP pair.
  static constexpr uint8_t kLeftWW = 1, kLeftWP = 2, kLeftPW = 4, kLeftPP = 8;
  static constexpr uint8_t kRightWW = 16, kRightWP = 32, kRightPW = 64, kRightPP = 128;

  // Encodes bytes p[0, len) by merges alone into ids (returns the count).
  using MergeFn = std::function<std::size_t(const uint8_t* p, std::size_t len, uint32_t* ids)>;
  BpeSeams(const Vocabulary& vocab, const MergeFn& merge);

  // The entry of code point cp, or nullptr beyond the BMP (boundaries next to such characters
  // are never cut).
  const Char* bmp(uint32_t cp) const noexcept { return cp < 0x10000 ? &chars_[cp] : nullptr; }

  // False when no token can cover the boundary between character a (bytes pa[0, la), entry
  // ca) and character b right after it (bytes pb[0, lb), entry cb): a seam.
  bool may_cross(const uint8_t* pa, uint32_t la, uint32_t cpa, const Char& ca, const uint8_t* pb,
                 uint32_t lb, uint32_t cpb, const Char& cb) const noexcept {
    // a kind of pair can match only when both sides have its bit (right bits are left bits << 4)
    const uint8_t kinds = ca.flags & (cb.flags >> 4);
    if (kinds == 0) return false;
    if ((kinds & kLeftWW) && contains(cpa, cpb)) return true;
    if (!(kinds & (kLeftWP | kLeftPW | kLeftPP))) return false;
    return may_cross_parts(pa, la, cpa, pb, lb, cpb, kinds);
  }

  std::size_t pair_count() const noexcept { return pair_count_; }

  // Side keys: a whole character is its code point; a part (1-3 bytes) is its bytes packed
  // little-endian with its length in bits 24-25.
  static uint32_t part_key(const uint8_t* p, std::size_t k) noexcept {
    uint32_t v = 0;
    for (std::size_t i = 0; i < k; ++i) v |= uint32_t{p[i]} << (8 * i);
    return (static_cast<uint32_t>(k) << 24) | v;
  }

 private:
  static uint64_t pair_key(uint32_t left, uint32_t right) noexcept {
    return (uint64_t{1} << 63) | (uint64_t{left} << 32) | right;
  }
  bool contains(uint32_t left, uint32_t right) const noexcept {
    const uint64_t key = pair_key(left, right);
    for (std::size_t slot = mix64(key) >> shift_;; slot = (slot + 1) & mask_) {
      const uint64_t e = pairs_[slot];
      if (e == key) return true;
      if (e == 0) return false;
    }
  }
  bool may_cross_parts(const uint8_t* pa, uint32_t la, uint32_t cpa, const uint8_t* pb, uint32_t lb,
                       uint32_t cpb, uint8_t kinds) const noexcept;
  void insert(uint64_t key);

  std::vector<Char> chars_;      // by code point, U+0000..U+FFFF
  std::vector<uint64_t> pairs_;  // open addressing set of pair_key(left, right); 0 = empty
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t pair_count_ = 0;
};

}  // namespace ctxengine::detail
