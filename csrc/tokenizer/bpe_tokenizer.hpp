// A complete byte-level BPE tokenizer: pre-tokenizer (a known scanner or a compiled Regex), BPE
// model and special tokens, with tiktoken's semantics. Immutable after construction and safe to
// share between threads. All text is valid UTF-8 (the Python layer guarantees it; C++ callers
// with untrusted bytes check with find_invalid_utf8 first); offsets are bytes.
//
// Special tokens: the *_ordinary calls treat special-token text as plain text (tiktoken's
// encode_ordinary). The others take `allowed`, one flag per special token (nullptr = none):
// occurrences of allowed tokens become their ids and split the text into segments that are
// pre-tokenized independently, as tiktoken does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/span_counter.hpp"
#include "tokenizer/special_tokens.hpp"

namespace ctxengine {

class BpeTokenizer {
 public:
  // `regex` is required when pretokenizer == Custom and ignored otherwise. As in tiktoken, the
  // pieces are the regex's matches; text between matches is not encoded.
  BpeTokenizer(std::string name, std::shared_ptr<const BpeModel> model, Pretokenizer pretokenizer,
               std::vector<SpecialToken> special_tokens,
               std::shared_ptr<const Regex> regex = nullptr);

  const std::string& name() const noexcept { return name_; }
  const BpeModel& model() const noexcept { return *model_; }
  Pretokenizer pretokenizer() const noexcept { return pretokenizer_; }
  // The compiled pattern of a Custom pretokenizer (nullptr otherwise).
  const Regex* regex() const noexcept { return regex_.get(); }
  const SpecialTokens& special_tokens() const noexcept { return specials_; }
  // One more than the largest token id, special tokens included (tiktoken's n_vocab).
  std::size_t n_vocab() const noexcept { return n_vocab_; }

  // ---- encoding and counting ----------------------------------------------------------------
  void encode_ordinary(std::string_view text, std::vector<uint32_t>& out) const;
  std::size_t count_ordinary(std::string_view text) const;
  void encode(std::string_view text, const std::vector<char>* allowed,
              std::vector<uint32_t>& out) const;
  std::size_t count(std::string_view text, const std::vector<char>* allowed) const;
  // Ids and the byte offset where each token starts (a token may start inside a character:
  // byte-level BPE can split one).
  void encode_with_offsets(std::string_view text, const std::vector<char>* allowed,
                           std::vector<uint32_t>& ids, std::vector<std::size_t>& starts) const;
  // Counts of many texts on `threads` threads (0 = all cores); out[i] = count(texts[i]).
  // Texts over a few hundred KB are also split at safe seams (see find_safe_seam) so one huge
  // text uses every core. The result does not depend on the thread count.
  void count_many(const std::vector<std::string_view>& texts, const std::vector<char>* allowed,
                  std::size_t threads, int64_t* out) const;

  // Count-until-limit on ordinary text: scans only as far as needed. Returns `end` (a character
  // boundary) and the exact count of text[0, end): end == text.size() when the whole text fits,
  // otherwise count <= limit and text[0, end + next character) has more than `limit` tokens.
  struct Prefix {
    std::size_t count;
    std::size_t end;
  };
  Prefix count_until(std::string_view text, std::size_t limit) const;

  // Exact span counts over one text (see span_counter.hpp); `text` must outlive the result.
  std::unique_ptr<SpanCounter> span_counter(std::string_view text) const;

  // ---- decoding -----------------------------------------------------------------------------
  // Appends the bytes of the tokens; throws InvalidArgument naming the first unknown id.
  void decode(const uint32_t* ids, std::size_t n, std::string& out) const;

  // ---- internals shared with the span counter ----------------------------------------------
  // Tokens of the ordinary text s[begin, end) (end acts as the end of the text); n is the size
  // of the whole buffer s (how far word loads may read).
  std::size_t count_range(const uint8_t* s, std::size_t n, std::size_t begin,
                          std::size_t end) const;
  // The end of the piece that starts at i in s[.., end) (a known pretokenizer only).
  std::size_t next_piece(const uint8_t* s, std::size_t i, std::size_t end) const noexcept;
  // Calls fn(begin, end) for each piece of the ordinary text s[begin, end).
  template <class Fn>
  void for_each_piece_in(const uint8_t* s, std::size_t begin, std::size_t end, Fn&& fn) const;
  // A position p in [from, limit) where cutting the text changes no piece: the pieces of
  // text[.., p) and text[p, ..) are exactly the pieces of the whole text on either side. Such
  // seams are an ASCII letter, a space and an ASCII letter (cut before the space), and for the
  // patterns with a newline rule a newline followed by a non-space (cut after the newline).
  // Returns npos when there is none or the pretokenizer is Custom.
  std::size_t find_safe_seam(std::string_view text, std::size_t from,
                             std::size_t limit) const noexcept;
  // The seams count_many cuts `text` at: parts of at least `part_bytes` (none when the text is
  // shorter than two parts).
  std::vector<std::size_t> seams(std::string_view text, std::size_t part_bytes) const;

 private:
  // Calls fn(a, b, probe) for each piece [a, b) of the ordinary text s[begin, end), with the
  // probe of its whole-piece lookup, whose slot was prefetched pieces earlier.
  template <class Fn>
  void for_each_probed_piece(const uint8_t* s, std::size_t n, std::size_t begin, std::size_t end,
                             Fn&& fn) const;
  template <bool kCount>
  std::size_t run_segments(std::string_view text, const std::vector<char>* allowed,
                           std::vector<uint32_t>* ids, std::vector<std::size_t>* starts) const;

  std::string name_;
  std::shared_ptr<const BpeModel> model_;
  Pretokenizer pretokenizer_;
  std::shared_ptr<const Regex> regex_;
  SpecialTokens specials_;
  std::size_t n_vocab_ = 0;
};

template <class Fn>
void BpeTokenizer::for_each_piece_in(const uint8_t* s, std::size_t begin, std::size_t end,
                                     Fn&& fn) const {
  if (pretokenizer_ != Pretokenizer::Custom) {
    for_each_piece(pretokenizer_, s, begin, end, fn);
    return;
  }
  regex_->for_each_match(s, begin, end, [&](std::size_t a, std::size_t b) {
    if (a < b) fn(a, b);  // an empty match encodes to nothing
  });
}

}  // namespace ctxengine
