// Greedy longest-match-first, as HF tokenizers' WordPiece::tokenize: from each start, the
// longest vocabulary entry (with the continuation prefix after the first piece) wins; a start
// with no match makes the whole word the unknown token. Candidates longer than the longest
// vocabulary entry are skipped, which changes nothing but the time taken.
#include "tokenizer/wordpiece.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "text/utf8.hpp"
#include "tokenizer/vocabulary.hpp"

namespace ctxengine::hf {

WordPiece::WordPiece(const std::vector<std::string>& tokens, const std::vector<uint32_t>& ids,
                     uint32_t unk_id, std::string continuing_subword_prefix,
                     std::size_t max_input_chars_per_word)
    : unk_id_(unk_id),
      prefix_(std::move(continuing_subword_prefix)),
      max_chars_(max_input_chars_per_word),
      serial_(next_model_serial()) {
  CTX_REQUIRE(tokens.size() == ids.size(), "tokens and ids differ in length");
  if (!ids.empty())
    check_id_range(*std::max_element(ids.begin(), ids.end()), ids.size(),
                   "the WordPiece vocabulary");
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    vocab_.insert(tokens[i], ids[i]);
    max_len_ = std::max(max_len_, tokens[i].size());
    if (ids[i] >= strings_.size()) {
      strings_.resize(ids[i] + 1);
      has_id_.resize(ids[i] + 1);
    }
    strings_[ids[i]] = tokens[i];
    has_id_[ids[i]] = 1;
  }
  CTX_REQUIRE(unk_id < has_id_.size() && has_id_[unk_id],
              "the unknown token is not in the vocabulary");
}

bool WordPiece::token_of(uint32_t id, std::string& out) const {
  if (id >= has_id_.size() || !has_id_[id]) return false;
  out = strings_[id];
  return true;
}

void WordPiece::tokenize(std::string_view piece, Scratch& scratch, std::vector<uint32_t>& ids,
                         std::vector<uint32_t>* lens) const {
  if (piece.empty()) return;
  if (piece.size() >= PieceCache::kMaxPiece) return tokenize_uncached(piece, scratch, ids, lens);
  PieceCache& cache = PieceCache::of(serial_);
  if (cache.find(piece, ids, lens)) return;
  scratch.merged_ids.clear();
  scratch.merged_lens.clear();
  tokenize_uncached(piece, scratch, scratch.merged_ids, &scratch.merged_lens);
  cache.add(piece, scratch.merged_ids, scratch.merged_lens);
  ids.insert(ids.end(), scratch.merged_ids.begin(), scratch.merged_ids.end());
  if (lens != nullptr) {
    lens->insert(lens->end(), scratch.merged_lens.begin(), scratch.merged_lens.end());
  }
}

void WordPiece::tokenize_uncached(std::string_view piece, Scratch& scratch,
                                  std::vector<uint32_t>& ids, std::vector<uint32_t>* lens) const {
  const auto* s = reinterpret_cast<const unsigned char*>(piece.data());
  const std::size_t n = piece.size();
  auto unknown = [&] {
    ids.push_back(unk_id_);
    if (lens != nullptr) lens->push_back(static_cast<uint32_t>(n));
  };
  std::size_t chars = 0;
  for (std::size_t i = 0; i < n; ++i) chars += !is_utf8_continuation(s[i]);
  if (chars > max_chars_) return unknown();

  const std::size_t first = ids.size();
  std::string& key = scratch.key;
  std::size_t start = 0;
  while (start < n) {
    const std::size_t extra = start > 0 ? prefix_.size() : 0;
    if (max_len_ < extra) {
      ids.resize(first);
      if (lens != nullptr) lens->resize(first);
      return unknown();
    }
    std::size_t end = std::min(n, start + (max_len_ - extra));
    while (end < n && is_utf8_continuation(s[end])) --end;  // back to a character boundary
    uint32_t id = VocabMap::kMissing;
    while (end > start) {
      if (extra == 0) {
        id = vocab_.find(piece.substr(start, end - start));
      } else {
        key.assign(prefix_);
        key.append(piece.substr(start, end - start));
        id = vocab_.find(key);
      }
      if (id != VocabMap::kMissing) break;
      --end;
      while (end > start && is_utf8_continuation(s[end])) --end;
    }
    if (id == VocabMap::kMissing) {
      ids.resize(first);
      if (lens != nullptr) lens->resize(first);
      return unknown();
    }
    ids.push_back(id);
    if (lens != nullptr) lens->push_back(static_cast<uint32_t>(end - start));
    start = end;
  }
}

}  // namespace ctxengine::hf
