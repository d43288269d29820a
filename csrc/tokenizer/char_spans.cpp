#include "tokenizer/char_spans.hpp"

#include "common/error.hpp"

namespace ctxengine {

CharSpanCounter::CharSpanCounter(std::shared_ptr<const BpeTokenizer> tokenizer, std::string text)
    : tokenizer_(std::move(tokenizer)), text_(std::move(text)), map_(text_) {
  counter_ = std::make_unique<BpeSpanCounter>(*tokenizer_, text_);
}

std::size_t CharSpanCounter::byte_of(int64_t c, const char* what) const {
  CTX_REQUIRE(c >= 0 && static_cast<std::size_t>(c) <= map_.size_chars(),
              std::string(what) + " " + std::to_string(c) + " is outside the text (0.." +
                  std::to_string(map_.size_chars()) + ")");
  return map_.byte_of_char(static_cast<std::size_t>(c));
}

std::size_t CharSpanCounter::count(std::size_t begin, std::size_t end) const {
  CTX_REQUIRE(begin <= end,
              "span start " + std::to_string(begin) + " is after its end " + std::to_string(end));
  return counter_->count(byte_of(static_cast<int64_t>(begin), "start"),
                         byte_of(static_cast<int64_t>(end), "end"));
}

std::size_t CharSpanCounter::fit(std::size_t begin, std::size_t end, std::size_t limit) const {
  CTX_REQUIRE(begin <= end, "span start is after its end");
  const std::size_t e = counter_->fit(byte_of(static_cast<int64_t>(begin), "start"),
                                      byte_of(static_cast<int64_t>(end), "end"), limit);
  return map_.char_of_byte(e);
}

std::size_t CharSpanCounter::fit_start(std::size_t begin, std::size_t end,
                                       std::size_t limit) const {
  CTX_REQUIRE(begin <= end, "span start is after its end");
  const std::size_t s = counter_->fit_start(byte_of(static_cast<int64_t>(begin), "start"),
                                            byte_of(static_cast<int64_t>(end), "end"), limit);
  return map_.char_of_byte(s);
}

void CharSpanCounter::count_many(const int64_t* begins, const int64_t* ends, std::size_t n,
                                 int64_t* out) const {
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t b = byte_of(begins[i], "start"), e = byte_of(ends[i], "end");
    CTX_REQUIRE(b <= e, "span " + std::to_string(i) + " starts after it ends");
    out[i] = static_cast<int64_t>(counter_->count(b, e));
  }
}

}  // namespace ctxengine
