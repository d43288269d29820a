// The added tokens of a tokenizer.json (special tokens such as [CLS] or <|eot_id|>, and
// non-special ones): found in the text before the model sees it, as HF tokenizers'
// AddedVocabulary does, with its leftmost-longest matching and lstrip / rstrip.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctxengine::hf {

struct AddedToken {
  std::string content;  // as written in the file
  uint32_t id = 0;
  bool special = false, lstrip = false, rstrip = false, normalized = false;
};

// A span of text: an added token's match (id >= 0) or text for the model (id < 0).
struct Segment {
  uint32_t begin, end;
  int64_t id;
};

// Leftmost-longest matcher over a set of patterns (a byte trie).
class TokenMatcher {
 public:
  void add(std::string_view pattern, uint32_t index);
  bool empty() const noexcept { return nodes_.size() <= 1; }
  // Splits text[0, n) as HF's AddedVocabulary::find_matches does: `tokens[index]` gives the
  // flags of each pattern's token; `enabled[index]` false skips a match (as
  // encode_special_tokens does); a pattern's match is found even where another is skipped.
  void split(std::string_view text, const std::vector<AddedToken>& tokens,
             const std::vector<uint8_t>& enabled, std::vector<Segment>& out) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, uint32_t>> next;  // sorted by byte
    int64_t index = -1;
  };
  uint32_t child(uint32_t node, uint8_t byte) const noexcept;
  std::vector<Node> nodes_ = std::vector<Node>(1);
  bool first_byte_[256] = {};
};

}  // namespace ctxengine::hf
