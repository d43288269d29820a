#include "tokenizer/special_tokens.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

#include "common/error.hpp"

namespace ctxengine {

SpecialTokens::SpecialTokens(std::vector<SpecialToken> tokens) : tokens_(std::move(tokens)) {
  // Build a pointer trie, then flatten it into nodes with sorted, contiguous edges.
  struct Build {
    std::map<uint8_t, std::unique_ptr<Build>> children;
    uint32_t token = 0xFFFFFFFFu;
  };
  Build root;
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    const std::string& t = tokens_[i].text;
    CTX_REQUIRE(!t.empty(), "special token " + std::to_string(tokens_[i].id) + " has no text");
    CTX_REQUIRE(by_text_.emplace(t, i).second, "special token '" + t + "' is given twice");
    // When two share an id the first decodes it, as in tiktoken (o200k_harmony gives 200018 to
    // both <|endofprompt|> and <|reserved_200018|>; tiktoken decodes <|endofprompt|>).
    by_id_.emplace(tokens_[i].id, i);
    Build* node = &root;
    for (char c : t) {
      auto& child = node->children[static_cast<uint8_t>(c)];
      if (!child) child = std::make_unique<Build>();
      node = child.get();
    }
    node->token = static_cast<uint32_t>(i);
    first_byte_[static_cast<uint8_t>(t[0])] = true;
  }
  int distinct = 0;
  for (int b = 0; b < 256; ++b) {
    if (first_byte_[b]) {
      ++distinct;
      single_first_byte_ = b;
    }
  }
  if (distinct != 1) single_first_byte_ = -1;
  // Breadth-first flattening keeps each node's edges contiguous.
  std::vector<const Build*> order{&root};
  nodes_.push_back(Node{});
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Build* b = order[k];
    nodes_[k].token = b->token;
    nodes_[k].first_edge = static_cast<uint32_t>(edges_.size());
    nodes_[k].edge_count = static_cast<uint32_t>(b->children.size());
    for (const auto& [byte, child] : b->children) {
      edges_.push_back(Edge{byte, static_cast<uint32_t>(order.size())});
      order.push_back(child.get());
      nodes_.push_back(Node{});
    }
  }
}

std::size_t SpecialTokens::index_of(std::string_view text) const {
  auto it = by_text_.find(std::string(text));
  return it == by_text_.end() ? npos : it->second;
}

std::vector<char> SpecialTokens::mask(const std::vector<std::string>& texts) const {
  std::vector<char> out(tokens_.size(), 0);
  for (const std::string& t : texts) {
    const std::size_t i = index_of(t);
    CTX_REQUIRE(i != npos, "'" + t + "' is not a special token of this tokenizer");
    out[i] = 1;
  }
  return out;
}

std::size_t SpecialTokens::index_of_id(uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? npos : it->second;
}

std::size_t SpecialTokens::find(std::string_view text, std::size_t from,
                                const std::vector<char>* allowed,
                                std::size_t* index) const noexcept {
  if (tokens_.empty()) return npos;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = from; i < n; ++i) {
    if (single_first_byte_ >= 0) {
      const void* hit = std::memchr(s + i, single_first_byte_, n - i);
      if (hit == nullptr) return npos;
      i = static_cast<std::size_t>(static_cast<const uint8_t*>(hit) - s);
    } else if (!first_byte_[s[i]]) {
      continue;
    }
    // Walk the trie from i; remember the longest allowed token that ends on the way.
    uint32_t node = 0, best = 0xFFFFFFFFu;
    for (std::size_t k = i; k < n; ++k) {
      const Node& nd = nodes_[node];
      const Edge* first = edges_.data() + nd.first_edge;
      const Edge* last = first + nd.edge_count;
      const Edge* e =
          std::lower_bound(first, last, s[k], [](const Edge& a, uint8_t b) { return a.byte < b; });
      if (e == last || e->byte != s[k]) break;
      node = e->child;
      const uint32_t t = nodes_[node].token;
      if (t != 0xFFFFFFFFu && (allowed == nullptr || (*allowed)[t])) best = t;
    }
    if (best != 0xFFFFFFFFu) {
      *index = best;
      return i;
    }
  }
  return npos;
}

}  // namespace ctxengine
