// The WordPiece model of BERT-style tokenizer.json files: greedy longest-match-first over the
// vocabulary, continuation pieces carrying a prefix ("##"), and one unknown token for a word
// that cannot be covered or is longer than max_input_chars_per_word (HF tokenizers'
// models/wordpiece semantics).
#pragma once

#include "tokenizer/hf_model.hpp"
#include "tokenizer/vocab_map.hpp"

namespace ctxengine::hf {

class WordPiece final : public Model {
 public:
  // tokens[i] has id ids[i]; unk_id must be one of them.
  WordPiece(const std::vector<std::string>& tokens, const std::vector<uint32_t>& ids,
            uint32_t unk_id, std::string continuing_subword_prefix,
            std::size_t max_input_chars_per_word);

  void tokenize(std::string_view piece, Scratch& scratch, std::vector<uint32_t>& ids,
                std::vector<uint32_t>* lens) const override;
  bool token_of(uint32_t id, std::string& out) const override;
  std::size_t vocab_size() const noexcept override { return vocab_.size(); }

 private:
  VocabMap vocab_;
  std::vector<std::string> strings_;  // by id (empty where no token has that id)
  std::vector<uint8_t> has_id_;
  uint32_t unk_id_;
  std::string prefix_;
  std::size_t max_chars_;
  std::size_t max_len_ = 0;  // longest vocabulary entry in bytes
  uint64_t serial_;          // the key of the per-thread piece cache

  void tokenize_uncached(std::string_view piece, Scratch& scratch, std::vector<uint32_t>& ids,
                         std::vector<uint32_t>* lens) const;
};

}  // namespace ctxengine::hf
