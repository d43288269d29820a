// The interface of the models of a tokenizer.json (WordPiece, BPE): one pre-token in, token ids
// out. Models are immutable after construction and shared by threads; per-thread state (merge
// buffers, the piece cache) lives in a Scratch the caller owns.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ctxengine::hf {

struct Scratch {
  // Cache of pre-token -> (ids, token byte lengths), cleared when it grows past kCacheLimit.
  struct Entry {
    std::vector<uint32_t> ids, lens;
  };
  static constexpr std::size_t kCacheLimit = 1 << 16;
  std::unordered_map<std::string, Entry> cache;
  std::string key;
  std::vector<uint32_t> u32a, u32b, u32c, u32d;
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
