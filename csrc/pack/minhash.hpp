// One-permutation MinHash sketches of word shingles, and the Jaccard similarity they estimate.
// Packing uses them to drop near-duplicate chunks and to measure redundancy for MMR-style
// diversity.
//
// A text is cut into units: runs of word characters (ASCII letters and digits, lowercased, and
// non-ASCII letters, marks and numbers), except that each character of a script written without
// spaces (CJK ideographs, kana, Thai, Lao, Khmer, Myanmar) is a unit of its own. Shingles are
// `shingle` consecutive units (Broder 1997). The sketch is one-permutation hashing (Li, Owen and
// Zhang 2012): the top 32 bits of a shingle's 64-bit hash pick one of k bins, and each bin keeps
// the smallest low 32 bits that fall in it (32-bit values, as b-bit minwise hashing keeps b
// bits: a false match has probability 2^-32). Two sketches estimate the Jaccard similarity of
// the shingle sets as the share of bins, among those not empty in both, that hold the same
// value. The sketch is one pass with no sort; a comparison is k 32-bit compares, which the
// compiler vectorises even at the SSE2 baseline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ctxengine {

// Marks an empty bin.
inline constexpr uint32_t kSketchEmpty = ~uint32_t{0};

// The splitmix64 finaliser (Steele, Lea and Flood 2014): the hash mixer of every step below.
inline uint64_t mix64(uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Whether code point `cp` forms a unit on its own (a script written without spaces between words).
bool is_character_unit(uint32_t cp) noexcept;

// The sketch of one valid UTF-8 text: out[b] is the smallest low half (uint32) of the shingle
// hashes h with floor((h >> 32) * k / 2^32) == b, or kSketchEmpty when there is none. A value
// equal to kSketchEmpty is stored as kSketchEmpty - 1. Requires 1 <= k < 2^32.
void minhash_sketch(std::string_view text, std::size_t k, std::size_t shingle, uint32_t* out);

// Sketches of n texts stored back to back in `data`: text i is data[offsets[i], offsets[i + 1]).
// out is n x k, row-major. Uses up to `threads` threads (0 = all cores); the result does not
// depend on the thread count.
void minhash_sketches(std::string_view data, const int64_t* offsets, std::size_t n, std::size_t k,
                      std::size_t shingle, uint32_t* out, std::size_t threads);

// Estimated Jaccard similarity of the shingle sets behind two sketches: bins holding the same
// hash over bins not empty in both (the estimator of Li, Owen and Zhang). 0 when either text has
// no shingle.
double sketch_jaccard(const uint32_t* a, const uint32_t* b, std::size_t k) noexcept;

}  // namespace ctxengine
