// The interface of the models of a tokenizer.json (WordPiece, BPE): one pre-token in, token ids
// out. Models are immutable after construction and shared by threads; per-call buffers live in
// a Scratch the caller owns.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/vocab_map.hpp"

namespace ctxengine::hf {

struct Scratch {
  std::string key;
  std::vector<uint32_t> u32a, u32b, u32c, u32d, merged_ids, merged_lens;
  std::vector<std::pair<uint64_t, uint32_t>> heap;
};

// A number unique to each model built in this process (the key of the per-thread caches).
uint64_t next_model_serial() noexcept;

// Per-thread cache of the tokens of recent pre-tokens of one model: words repeat heavily, so
// most pre-tokens are looked up, not tokenized (HF caches them too). Holds pre-tokens shorter
// than kMaxPiece bytes; starts over when it holds kLimit of them or another model uses it.
class PieceCache {
 public:
  static constexpr std::size_t kMaxPiece = 256;
  static constexpr std::size_t kLimit = 1 << 16;
  static PieceCache& of(uint64_t model_serial);
  // Appends the cached ids (and lengths) of `piece`; false when it is not cached.
  bool find(std::string_view piece, std::vector<uint32_t>& ids, std::vector<uint32_t>* lens) const;
  void add(std::string_view piece, const std::vector<uint32_t>& ids,
           const std::vector<uint32_t>& lens);

 private:
  void clear();
  uint64_t serial_ = 0;
  VocabMap index_;                           // piece -> entry
  std::vector<uint32_t> data_, at_, count_;  // entry e: ids then lengths at data_[at_[e]]
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of `piece` to `ids` and, when `lens` is given, the byte length of each
  // token within the piece (they add up to piece.size(); an unknown-token fallback that covers
  // the whole piece has the whole length).
  virtual void tokenize(std::string_view piece, Scratch& scratch, std::vector<uint32_t>& ids,
                        std::vector<uint32_t>* lens) const = 0;
  // The token string of an id as written in the file ("##ing", "Ġthe"), for decoders; false
  // when the id is not in the model's vocabulary.
  virtual bool token_of(uint32_t id, std::string& out) const = 0;
  virtual std::size_t vocab_size() const noexcept = 0;
};

}  // namespace ctxengine::hf
