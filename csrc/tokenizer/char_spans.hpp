// Span counting in code point offsets, for the Python API: owns a copy of the text, its
// OffsetMap and a BpeSpanCounter, and converts offsets at the edge (the core counts in bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "text/utf8.hpp"
#include "tokenizer/bpe_span_counter.hpp"
#include "tokenizer/bpe_tokenizer.hpp"

namespace ctxengine {

class CharSpanCounter {
 public:
  CharSpanCounter(std::shared_ptr<const BpeTokenizer> tokenizer, std::string text);

  std::size_t size_chars() const noexcept { return map_.size_chars(); }
  std::size_t total() const noexcept { return counter_->total(); }
  const BpeTokenizer& tokenizer() const noexcept { return *tokenizer_; }

  // As BpeSpanCounter, with [begin, end) in code points; InvalidArgument outside the text.
  std::size_t count(std::size_t begin, std::size_t end) const;
  std::size_t fit(std::size_t begin, std::size_t end, std::size_t limit) const;
  std::size_t fit_start(std::size_t begin, std::size_t end, std::size_t limit) const;
  // out[i] = count(begins[i], ends[i]).
  void count_many(const int64_t* begins, const int64_t* ends, std::size_t n, int64_t* out) const;

 private:
  std::size_t byte_of(int64_t c, const char* what) const;

  std::shared_ptr<const BpeTokenizer> tokenizer_;
  std::string text_;
  OffsetMap map_;
  std::unique_ptr<BpeSpanCounter> counter_;
};

}  // namespace ctxengine
