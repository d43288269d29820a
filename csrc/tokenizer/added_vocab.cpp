// Matching follows HF tokenizers' AddedVocabulary::find_matches: leftmost-longest matches of
// all added tokens (daachorse's MatchKind::LeftmostLongest), then per match lstrip (absorb the
// whitespace before it, never before the previous split) and rstrip (absorb the whitespace
// after it). Tokens with single_word are refused at load (python/ctxengine/tokenizer_json.py).
#include "tokenizer/added_vocab.hpp"

#include <algorithm>

#include "text/unicode.hpp"
#include "text/utf8.hpp"

namespace ctxengine::hf {
void TokenMatcher::add(std::string_view pattern, uint32_t index) {
  if (pattern.empty()) return;
  uint32_t node = 0;
  for (unsigned char b : pattern) {
    uint32_t next = child(node, b);
    if (next == 0) {
      next = static_cast<uint32_t>(nodes_.size());
      nodes_.emplace_back();
      auto& edges = nodes_[node].next;
      edges.insert(std::lower_bound(edges.begin(), edges.end(), std::make_pair(b, 0u)),
                   std::make_pair(b, next));
    }
    node = next;
  }
  nodes_[node].index = index;  // a later token with the same content wins, as in HF's map
  first_byte_[static_cast<unsigned char>(pattern[0])] = true;
}

uint32_t TokenMatcher::child(uint32_t node, uint8_t byte) const noexcept {
  const auto& edges = nodes_[node].next;
  auto it = std::lower_bound(edges.begin(), edges.end(), std::make_pair(byte, 0u));
  return (it != edges.end() && it->first == byte) ? it->second : 0;
}

void TokenMatcher::split(std::string_view text, const std::vector<AddedToken>& tokens,
                         const std::vector<uint8_t>& enabled, std::vector<Segment>& out) const {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t start_offset = 0;
  std::size_t pos = 0;
  while (pos < n) {
    if (!first_byte_[s[pos]]) {
      ++pos;
      continue;
    }
    // Longest pattern starting at pos.
    uint32_t node = 0;
    int64_t found = -1;
    std::size_t found_end = 0;
    for (std::size_t i = pos; i < n; ++i) {
      node = child(node, s[i]);
      if (node == 0) break;
      if (nodes_[node].index >= 0) {
        found = nodes_[node].index;
        found_end = i + 1;
      }
    }
    if (found < 0) {
      ++pos;
      continue;
    }
    std::size_t start = pos, stop = found_end;
    pos = found_end;  // matches never overlap, whether or not this one is used
    const AddedToken& tok = tokens[found];
    if (!enabled[found]) continue;
    if (tok.lstrip) {
      std::size_t b = start;
      while (b > 0) {
        std::size_t p = b - 1;
        while (p > 0 && is_utf8_continuation(s[p])) --p;
        uint32_t cp;
        decode_utf8(s, p, &cp);
        if (!is_white_space(cp)) break;
        b = p;
      }
      start = std::max(b, start_offset);
    }
    if (tok.rstrip) {
      while (stop < n) {
        uint32_t cp;
        const std::size_t len = decode_utf8(s, stop, &cp);
        if (!is_white_space(cp)) break;
        stop += len;
      }
    }
    if (start_offset < start) {
      out.push_back({static_cast<uint32_t>(start_offset), static_cast<uint32_t>(start), -1});
    }
    out.push_back(
        {static_cast<uint32_t>(start), static_cast<uint32_t>(stop), static_cast<int64_t>(tok.id)});
    start_offset = stop;
  }
  if (start_offset < n) {
    out.push_back({static_cast<uint32_t>(start_offset), static_cast<uint32_t>(n), -1});
  }
}

}  // namespace ctxengine::hf
