// The contract between tokenizers and their users (chunkers, packers): exact token counts of
// spans of one text. A tokenizer builds a SpanCounter after one pass over the text; chunking
// then asks "how many tokens is text[a, b)" many times without re-encoding.
#pragma once

#include <cstddef>
#include <string_view>

namespace ctxengine {

class SpanCounter {
 public:
  virtual ~SpanCounter() = default;

  // The UTF-8 text this counter was built over (it must outlive the counter).
  virtual std::string_view text() const = 0;
  std::size_t size() const { return text().size(); }

  // Exact number of tokens the tokenizer produces when it encodes text[begin, end) on its own.
  // begin <= end <= size(), both on UTF-8 character boundaries.
  virtual std::size_t count(std::size_t begin, std::size_t end) const = 0;

  // Count-until-limit: an e in [begin, end] on a character boundary with
  // count(begin, e) <= limit, such that e == end or extending the span by the next character
  // exceeds the limit. (BPE counts of growing prefixes are almost but not always monotone, so
  // "the largest such e" is not what bisection can promise; this is.) The default bisects over
  // count(); tokenizers may answer faster.
  virtual std::size_t fit(std::size_t begin, std::size_t end, std::size_t limit) const;

 protected:
  // fit()'s bisection over count() between character boundaries lo < hi with
  // count(begin, lo) <= limit < count(begin, hi).
  std::size_t bisect_fit(std::size_t begin, std::size_t lo, std::size_t hi,
                         std::size_t limit) const;
};

}  // namespace ctxengine
