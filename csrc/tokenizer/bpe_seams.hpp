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
//
// Two models use it: BpeModel (tiktoken ranks and byte-level HF merges, symbols start as bytes)
// and hf::HfBpe (every BPE of tokenizer.json files; symbols start as bytes or characters). The
// argument needs only that a symbol spanning two characters is a merge result whose bytes are
// its parts' bytes, so the tokens listed are the merge results, and that the first symbols of
// the characters on both sides are their own bytes: a character whose first symbols are
// something else (HF's unknown token or byte-fallback tokens <0xXX>) is "opaque", never cut
// next to, and merged with its neighbours as the piece would be.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "text/utf8.hpp"
#include "tokenizer/vocabulary.hpp"

namespace ctxengine::detail {

class BpeSeams {
 public:
  // A character of the Basic Multilingual Plane: which kinds of pairs it may be in, and its
  // encoding as a piece of its own (merges only, no whole-piece lookup).
  struct Char {
    uint8_t flags;   // bits below
    uint8_t count;   // tokens of the character alone (0 to 3)
    uint8_t lens;    // byte length of each of them, 2 bits each (ids[k]: bits 2k, 2k + 1)
    uint8_t opaque;  // 1: its first symbols are not its own bytes, never cut next to it
    uint32_t ids[3];
    uint32_t len(std::size_t k) const noexcept { return (lens >> (2 * k)) & 3u; }
  };
  // Listed pairs (left, right) by kind: each side whole (W) or a part (P) of the character.
  // The character is the whole left of a WW / WP pair, its bytes end with the left part of a
  // PW / PP pair, it is the whole right of a WW / PW pair, or its bytes begin with the right
  // part of a WP / PP pair.
  static constexpr uint8_t kLeftWW = 1, kLeftWP = 2, kLeftPW = 4, kLeftPP = 8;
  static constexpr uint8_t kRightWW = 16, kRightWP = 32, kRightPW = 64, kRightPP = 128;

  // Encodes the character p[0, len) alone by merges alone, appending its ids and their byte
  // lengths; false when the character is opaque (then what it appended is ignored).
  using MergeFn = std::function<bool(const uint8_t* p, std::size_t len, std::vector<uint32_t>& ids,
                                     std::vector<uint32_t>& lens)>;
  // The bytes of the token with index i, for i < count (empty for an index without a token):
  // the tokens a merge can make.
  using TokenFn = std::function<std::string_view(std::size_t i)>;
  BpeSeams(std::size_t count, const TokenFn& token, const MergeFn& merge);
  // Every token of the vocabulary.
  BpeSeams(const Vocabulary& vocab, const MergeFn& merge);

  // The entry of code point cp, or nullptr beyond the BMP and for an opaque character
  // (boundaries next to such characters are never cut).
  const Char* bmp(uint32_t cp) const noexcept {
    return cp < 0x10000 && chars_[cp].opaque == 0 ? &chars_[cp] : nullptr;
  }

  // Cuts p[0, len) at its seams: on_char(const Char&) for a part that is one character with a
  // table entry, on_part(begin, end) for any other part, in order. False when the piece is not
  // valid UTF-8 (the calls made before the bad byte was met are to be undone by the caller).
  template <class OnChar, class OnPart>
  bool cut(const uint8_t* p, std::size_t len, OnChar&& on_char, OnPart&& on_part) const;

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

template <class OnChar, class OnPart>
bool BpeSeams::cut(const uint8_t* p, std::size_t len, OnChar&& on_char, OnPart&& on_part) const {
  std::size_t start = 0, i = 0;
  uint32_t cp_a = 0, cp_b = 0;
  uint32_t len_a = valid_char(p, 0, len, &cp_a);
  if (len_a == 0) return false;
  const Char* a = bmp(cp_a);
  while (true) {
    const std::size_t j = i + len_a;
    uint32_t len_b = 0;
    const Char* b = nullptr;
    bool seam = j == len;
    if (!seam) {
      len_b = valid_char(p, j, len, &cp_b);
      if (len_b == 0) return false;
      b = bmp(cp_b);
      seam = a != nullptr && b != nullptr &&
             !may_cross(p + i, len_a, cp_a, *a, p + j, len_b, cp_b, *b);
    }
    if (seam) {
      if (start == i && a != nullptr) {
        on_char(*a);
      } else {
        on_part(start, j);
      }
      if (j == len) return true;
      start = j;
    }
    i = j;
    len_a = len_b;
    cp_a = cp_b;
    a = b;
  }
}

}  // namespace ctxengine::detail
