// Bottom-k MinHash sketches of word shingles, and the Jaccard similarity they estimate. Packing
// uses them to drop near-duplicate chunks and to measure redundancy for MMR-style diversity.
//
// A text is cut into units: runs of word characters (ASCII letters and digits, lowercased, and
// non-ASCII letters, marks and numbers), except that each character of a script written without
// spaces (CJK ideographs, kana, Thai, Lao, Khmer, Myanmar) is a unit of its own. Shingles are
// `shingle` consecutive units (Broder 1997); the sketch keeps the k smallest distinct shingle
// hashes (the bottom-k sketch of Cohen and Kaplan 2007), so two sketches estimate the Jaccard
// similarity of the shingle sets, exactly when both sets have fewer than k shingles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ctxengine {

// Marks the unused tail of a sketch whose text has fewer than k distinct shingles.
inline constexpr uint64_t kSketchEmpty = ~uint64_t{0};

// The splitmix64 finaliser (Steele, Lea and Flood 2014): the hash mixer of every step below.
inline uint64_t mix64(uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Whether code point `cp` forms a unit on its own (a script written without spaces between words).
bool is_character_unit(uint32_t cp) noexcept;

// The bottom-k sketch of one valid UTF-8 text: out[0, k) holds its k smallest distinct shingle
// hashes in ascending order, padded with kSketchEmpty.
void minhash_sketch(std::string_view text, std::size_t k, std::size_t shingle, uint64_t* out);

// Sketches of n texts stored back to back in `data`: text i is data[offsets[i], offsets[i + 1]).
// out is n x k, row-major. Uses up to `threads` threads (0 = all cores); the result does not
// depend on the thread count.
void minhash_sketches(std::string_view data, const int64_t* offsets, std::size_t n, std::size_t k,
                      std::size_t shingle, uint64_t* out, std::size_t threads);

// Estimated Jaccard similarity of the shingle sets behind two bottom-k sketches: the share of the
// k smallest hashes of their union that both sketches hold. 0 when either text has no shingle.
double sketch_jaccard(const uint64_t* a, const uint64_t* b, std::size_t k) noexcept;

}  // namespace ctxengine
