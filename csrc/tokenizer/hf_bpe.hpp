// The BPE model of tokenizer.json files (Llama-3, Qwen2/3, GPT-2, RoBERTa style), with HF
// tokenizers' merge semantics: a pair of adjacent symbols merges by the priority of that pair in
// the file's merges list (lowest first, leftmost among equals), not by the rank of the merged
// token as tiktoken does. Symbols start as the characters of the pre-token, or its bytes for
// byte-level vocabularies, whose token strings are mapped back to bytes at load.
//
// Pieces with non-ASCII characters are first cut at seams (bpe_seams.hpp), as BpeModel does:
// CJK text falls apart into characters whose encodings are precomputed. The cut is exact here
// when every merge makes the token of its parts' strings, which HF's merges do by construction
// (the merged token is vocab[left + right]) unless continuing_subword_prefix or
// end_of_word_suffix is set; those files, and any whose merges fail that check, are merged
// whole. Characters that are not symbols of their own (unknown: byte fallback, the unknown
// token, or dropped) are never cut next to.
#pragma once

#include <memory>
#include <mutex>

#include "tokenizer/hf_model.hpp"
#include "tokenizer/vocab_map.hpp"

namespace ctxengine::detail {
class BpeSeams;
}  // namespace ctxengine::detail

namespace ctxengine::hf {

struct BpeOptions {
  bool byte_level = false;     // tokens are written in the GPT-2 byte alphabet
  bool ignore_merges = false;  // a pre-token that is a whole vocabulary entry is one token
  bool byte_fallback = false;  // unknown characters become <0xXX> byte tokens
  bool fuse_unk = false;       // consecutive unknown characters become one unknown token
  int64_t unk_id = -1;         // the unknown token, or -1 for none (unknowns are dropped)
  std::string continuing_subword_prefix, end_of_word_suffix;  // as raw bytes
};

class HfBpe final : public Model {
 public:
  // tokens[i] has id ids[i] (strings as in the file); merges are (left id, right id, merged id)
  // in priority order.
  HfBpe(const std::vector<std::string>& tokens, const std::vector<uint32_t>& ids,
        const std::vector<uint32_t>& left, const std::vector<uint32_t>& right,
        const std::vector<uint32_t>& merged, BpeOptions options);
  ~HfBpe() override;

  void tokenize(std::string_view piece, Scratch& scratch, std::vector<uint32_t>& ids,
                std::vector<uint32_t>* lens) const override;
  bool token_of(uint32_t id, std::string& out) const override;
  std::size_t vocab_size() const noexcept override { return vocab_.size(); }

  // The seam index, built on first use; null when cutting at seams would not be exact (see
  // above). For tests.
  const detail::BpeSeams* seams() const;

 private:
  // The merges of one pre-token: cut at seams when it has some, each part by merge_symbols.
  void merge_word(std::string_view piece, Scratch& scratch, std::vector<uint32_t>& ids,
                  std::vector<uint32_t>& lens) const;
  // HF's merge_word on the whole piece.
  void merge_symbols(std::string_view piece, Scratch& scratch, std::vector<uint32_t>& ids,
                     std::vector<uint32_t>& lens) const;
  std::unique_ptr<detail::BpeSeams> build_seams() const;
  bool find_merge(uint32_t left, uint32_t right, uint32_t* rank, uint32_t* merged) const noexcept;

  VocabMap vocab_;  // token bytes (raw bytes for byte-level vocabularies) -> id
  std::vector<std::string> strings_;
  std::vector<uint8_t> has_id_;
  // Open-addressing table of merges: key (left << 32 | right) -> (rank, merged id).
  struct MergeSlot {
    uint64_t key = ~0ull;
    uint32_t rank = 0, merged = 0;
  };
  std::vector<MergeSlot> merges_;
  std::size_t merge_mask_ = 0;
  uint32_t byte_tokens_[256];  // id of "<0xXX>" for byte_fallback, or kMissing
  // Byte-level without prefix or suffix: the symbol of each byte (kMissing when it has none),
  // so that the first symbols take no key building and hash lookup.
  uint32_t byte_symbols_[256];
  bool plain_bytes_ = false;
  BpeOptions opt_;
  uint64_t serial_;  // unique per model in this process: the key of the per-thread cache
  mutable std::once_flag seams_once_;
  mutable std::unique_ptr<detail::BpeSeams> seams_;
};

// GPT-2's byte alphabet: the code point standing for each byte, and its inverse (-1 for a code
// point that stands for no byte).
uint32_t byte_to_char(uint8_t b) noexcept;
int byte_of_char(uint32_t cp) noexcept;

}  // namespace ctxengine::hf
