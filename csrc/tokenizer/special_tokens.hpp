// Special tokens ("<|endoftext|>", ...): strings that encode to one reserved id when allowed.
// A small trie finds the leftmost occurrence of any allowed one; at one position the longest
// allowed token wins (tiktoken leaves that choice to its hash set's order; the official
// encodings have no special token that is a prefix of another, so they agree).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ctxengine {

struct SpecialToken {
  std::string text;
  uint32_t id;
};

class SpecialTokens {
 public:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  SpecialTokens() = default;
  // Throws InvalidArgument on an empty or duplicate text.
  explicit SpecialTokens(std::vector<SpecialToken> tokens);

  std::size_t size() const noexcept { return tokens_.size(); }
  bool empty() const noexcept { return tokens_.empty(); }
  const SpecialToken& operator[](std::size_t i) const noexcept { return tokens_[i]; }
  const std::vector<SpecialToken>& tokens() const noexcept { return tokens_; }

  // Index of the token with exactly this text, or npos.
  std::size_t index_of(std::string_view text) const;
  // One flag per token: set for the tokens named in `texts`; InvalidArgument on an unknown one.
  std::vector<char> mask(const std::vector<std::string>& texts) const;
  // Index of a token with this id, or npos.
  std::size_t index_of_id(uint32_t id) const;

  // Leftmost occurrence in text[from, ...) of a token i with allowed[i] != 0 (allowed == nullptr:
  // every token). Returns its position and sets *index; npos when there is none.
  std::size_t find(std::string_view text, std::size_t from, const std::vector<char>* allowed,
                   std::size_t* index) const noexcept;

 private:
  struct Node {
    uint32_t first_edge = 0;
    uint32_t edge_count = 0;
    uint32_t token = 0xFFFFFFFFu;  // index of the token that ends here
  };
  struct Edge {
    uint8_t byte;
    uint32_t child;
  };
  std::vector<SpecialToken> tokens_;
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  bool first_byte_[256] = {};
  int single_first_byte_ = -1;  // when every token starts with the same byte (memchr)
  std::unordered_map<std::string, std::size_t> by_text_;
  std::unordered_map<uint32_t, std::size_t> by_id_;
};

}  // namespace ctxengine
