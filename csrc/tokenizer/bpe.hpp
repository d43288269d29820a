// The byte-level BPE engine: a vocabulary plus a pair table (left id, right id) -> (priority,
// merged id). Encoding a piece starts from one token per byte and repeatedly merges the adjacent
// pair of lowest priority, leftmost first, until no pair merges.
//
// Both families of byte-level BPE reduce to this table:
// - tiktoken rank files (BpeModel::from_ranks): the pair (a, b) merges when bytes(a) + bytes(b)
//   is a token, with that token's rank as priority and id; this is exactly the lookup tiktoken's
//   byte_pair_merge does on the concatenated bytes, and it is answered the same way, from the
//   vocabulary (Vocabulary::find_concat), so loading builds no table of all splits (which cost
//   ~4x the load time). Whole pieces found in the vocabulary are emitted as one token before
//   any merging, as tiktoken does.
// - HF tokenizer.json BPE (BpeModel::from_merges): priority is the position in the merges list,
//   the merged id is the vocabulary id of the concatenation; `ignore_merges` in tokenizer.json
//   is the whole-piece lookup option.
//
// A piece with non-ASCII characters is first cut at seams, boundaries no token covers
// (bpe_seams.hpp): CJK text falls apart into characters whose encodings are precomputed. What
// is left runs the O(n^2) scan tiktoken uses for small inputs, or for long parts a heap over a
// linked list of parts, O(n log n), so 10 MB without a space stays fast (tiktoken #195).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/vocabulary.hpp"

namespace ctxengine {

namespace detail {
class PairCache;
class BpeSeams;
struct SeamsSlot;
}  // namespace detail

struct BpeMerge {
  uint32_t left;
  uint32_t right;
  uint32_t merged;
};

class BpeModel {
 public:
  BpeModel() = default;

  // tiktoken semantics: every token's rank is its id and its merge priority; all 256 single bytes
  // must be tokens (Format error naming `source` otherwise). Whole-piece lookup is on.
  static BpeModel from_ranks(Vocabulary vocab, const std::string& source);

  // HF semantics: merges[i] has priority i; when a pair appears twice the later one wins (as
  // HF's merges map does). Every single byte must be a token (`byte_ids[b]`, given by the caller
  // since byte-level vocabularies spell bytes differently); whole-piece lookup is optional.
  static BpeModel from_merges(Vocabulary vocab, const std::vector<BpeMerge>& merges,
                              const uint32_t (&byte_ids)[256], bool whole_piece_lookup,
                              const std::string& source);

  // HF semantics from merge pairs of token ids: the merged token is the vocabulary token whose
  // bytes are the concatenation (Format error naming `source` when there is none); single-byte
  // tokens come from the vocabulary.
  static BpeModel from_merge_pairs(Vocabulary vocab,
                                   const std::vector<std::pair<uint32_t, uint32_t>>& merges,
                                   bool whole_piece_lookup, const std::string& source);

  const Vocabulary& vocab() const noexcept { return vocab_; }
  bool whole_piece_lookup() const noexcept { return whole_piece_lookup_; }
  // Entries of the explicit pair table (0 for rank models, which look pairs up on demand).
  std::size_t pair_count() const noexcept { return pair_count_; }
  // A number unique to this model among all models built in this process (for caches).
  uint64_t serial() const noexcept { return serial_; }

  // Tokens of one piece p[0, len) (len >= 1). `avail` >= len bytes may be read from p.
  void encode_piece(const uint8_t* p, std::size_t len, std::size_t avail,
                    std::vector<uint32_t>& out) const;
  // encode_piece with the whole-piece lookup's probe already computed (and its slot prefetched).
  void encode_piece(const uint8_t* p, std::size_t len, const Vocabulary::Probe& probe,
                    std::vector<uint32_t>& out) const;
  std::size_t count_piece(const uint8_t* p, std::size_t len, std::size_t avail) const;
  // count_piece with the whole-piece lookup's probe already computed (and its slot prefetched).
  std::size_t count_piece(const uint8_t* p, std::size_t len, const Vocabulary::Probe& probe) const;

  // The merge loop alone, without the whole-piece lookup (for tests and HF's ignore_merges=false).
  void merge_piece(const uint8_t* p, std::size_t len, std::vector<uint32_t>& out) const;

  // The seam index (bpe_seams.hpp), built on first use; null for a default-constructed model.
  const detail::BpeSeams* seams() const;

  // Pair lookup: sets *merged and returns the priority, or kNoToken when (a, b) does not merge.
  uint32_t pair(uint32_t a, uint32_t b, uint32_t* merged) const noexcept {
    if (pairs_.empty()) {  // tiktoken ranks: the concatenation's rank is priority and id
      *merged = vocab_.find_concat(a, b);
      return *merged;
    }
    const uint64_t key = (uint64_t{a} << 32) | b;
    std::size_t slot = detail::mix64(key) >> shift_;
    for (;; slot = (slot + 1) & mask_) {
      const PairSlot& e = pairs_[slot];
      if (e.key == key) {
        *merged = e.merged;
        return e.priority;
      }
      if (e.key == kEmptyKey) return kNoToken;
    }
  }

 private:
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  struct PairSlot {
    uint64_t key = kEmptyKey;
    uint32_t priority = 0;
    uint32_t merged = 0;
  };
  void init_pairs(std::size_t expected);
  void build_byte_pairs();
  // The pair of the single-byte tokens of bytes a, b: (priority << 32 | merged), or ~0.
  uint64_t byte_pair(uint8_t a, uint8_t b) const noexcept {
    return byte_pairs_[(std::size_t{a} << 8) | b];
  }
  void insert_pair(uint32_t a, uint32_t b, uint32_t priority, uint32_t merged, bool overwrite);
  bool pair_cacheable() const noexcept { return pairs_.empty() && vocab_.id_bound() < (1u << 21); }
  // pair() through the calling thread's PairCache (rank models with ids below 2^21).
  uint32_t cached_pair(uint32_t a, uint32_t b, uint32_t* merged,
                       detail::PairCache* cache) const noexcept;
  template <bool kCount>
  std::size_t merge_short(const uint8_t* p, std::size_t len, std::vector<uint32_t>* out,
                          detail::PairCache* cache) const;
  template <bool kCount>
  std::size_t merge_long(const uint8_t* p, std::size_t len, std::vector<uint32_t>* out,
                         detail::PairCache* cache) const;
  // The merge loop of any piece: cut at seams when it has some, else merge_short / merge_long.
  template <bool kCount>
  std::size_t merge_any(const uint8_t* p, std::size_t len, std::vector<uint32_t>* out,
                        detail::PairCache* cache) const;
  // merge_any's cut: the parts between seams, one character from the seam index's table;
  // npos (and nothing appended) when the piece is not valid UTF-8.
  template <bool kCount>
  std::size_t merge_by_seams(const detail::BpeSeams& seams, const uint8_t* p, std::size_t len,
                             std::vector<uint32_t>* out, detail::PairCache* cache) const;

  Vocabulary vocab_;
  uint32_t byte_ids_[256] = {};
  std::vector<PairSlot> pairs_;
  // Every merge starts from byte pairs: a dense 256 x 256 table answers those from L2 instead
  // of the hash table.
  std::vector<uint64_t> byte_pairs_;
  std::size_t mask_ = 0;
  int shift_ = 63;
  std::size_t pair_count_ = 0;
  bool whole_piece_lookup_ = true;
  uint64_t serial_ = 0;
  // Shared by copies of the model (the index depends only on the vocabulary and pairs).
  std::shared_ptr<detail::SeamsSlot> seams_;
};

}  // namespace ctxengine
