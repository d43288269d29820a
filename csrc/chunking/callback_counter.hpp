// A SpanCounter over any counting function: count(text[a, b)) = fn(text[a, b)). It is what
// lets chunking work with a tokenizer ctxengine does not implement (a Python callable such as a
// HF tokenizer's len(encode(s))); each count re-encodes its span, so it is the slow path next to
// the native tokenizers' prefix-sum counters. The function must be deterministic.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "tokenizer/span_counter.hpp"

namespace ctxengine {

class FunctionSpanCounter final : public SpanCounter {
 public:
  using CountFn = std::function<std::size_t(std::string_view)>;

  FunctionSpanCounter(std::string_view text, CountFn fn) : text_(text), fn_(std::move(fn)) {}

  std::string_view text() const override { return text_; }
  std::size_t count(std::size_t begin, std::size_t end) const override {
    return fn_(text_.substr(begin, end - begin));
  }

 private:
  std::string_view text_;
  CountFn fn_;
};

}  // namespace ctxengine
