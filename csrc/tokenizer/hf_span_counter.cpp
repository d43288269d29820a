// Span counting for tokenizer.json pipelines: the twin check and the re-encoding fallback.
#include "tokenizer/hf_span_counter.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace ctxengine::hf {

std::size_t PipelineSpanCounter::count(std::size_t begin, std::size_t end) const {
  CTX_REQUIRE(begin <= end && end <= text_.size(), "span is outside the text");
  return pipeline_->count(text_.substr(begin, end - begin), *mask_, false);
}

SpanCounting::SpanCounting(std::shared_ptr<const Pipeline> pipeline,
                           std::shared_ptr<const BpeTokenizer> twin)
    : pipeline_(std::move(pipeline)), twin_(std::move(twin)) {
  CTX_REQUIRE(pipeline_ != nullptr, "span counting needs a pipeline");
  CTX_REQUIRE(!pipeline_->has_external_steps(),
              "span counting in C++ needs a pipeline without Python pre-tokenizer steps");
  mask_ = pipeline_->all_special_mask(false);
}

std::size_t TwinSpanCounter::first_changed(std::size_t begin, std::size_t end) const {
  // The first changed line that ends after begin; it overlaps the span if it starts before end.
  auto it = std::upper_bound(changed_.begin(), changed_.end(), begin,
                             [](std::size_t pos, const auto& line) { return pos < line.second; });
  if (it == changed_.end() || it->first >= end) return end;
  return std::max(it->first, begin);
}

std::size_t TwinSpanCounter::count(std::size_t begin, std::size_t end) const {
  CTX_REQUIRE(begin <= end && end <= size(), "span is outside the text");
  return first_changed(begin, end) == end ? twin_->count(begin, end) : pipeline_.count(begin, end);
}

std::size_t TwinSpanCounter::fit(std::size_t begin, std::size_t end, std::size_t limit) const {
  CTX_REQUIRE(begin <= end && end <= size(), "span is outside the text");
  const std::size_t x = first_changed(begin, end);
  if (x == end) return twin_->fit(begin, end, limit);
  std::size_t lo = begin;
  if (x > begin) {
    // An answer before the changed line is final: the character after it is still in the part
    // the twin counts exactly.
    const std::size_t e = twin_->fit(begin, x, limit);
    if (e < x) return e;
    lo = x;
  }
  if (pipeline_.count(begin, end) <= limit) return end;
  return bisect_fit(begin, lo, end, limit);
}

bool SpanCounting::twin_lines(std::string_view text,
                              std::vector<std::pair<std::size_t, std::size_t>>& changed) const {
  changed.clear();
  if (twin_ == nullptr) return false;
  const Prepared p = pipeline_->prepare(text, mask_, false);
  for (const Segment& s : p.segments) {
    if (s.id >= 0) return false;  // an added token is matched
  }
  if (p.text == text) return true;
  for (std::size_t a = 0; a < text.size();) {
    std::size_t b = text.find('\n', a);
    if (b == std::string_view::npos) b = text.size();
    const std::string_view line = text.substr(a, b - a);
    if (pipeline_->normalizer.apply(line) != line) changed.emplace_back(a, b);
    a = b + 1;
  }
  return true;
}

bool SpanCounting::twin_applies(std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> changed;
  return twin_lines(text, changed) && changed.empty();
}

std::unique_ptr<SpanCounter> SpanCounting::span_counter(std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> changed;
  if (!twin_lines(text, changed))
    return std::make_unique<PipelineSpanCounter>(*pipeline_, mask_, text);
  if (changed.empty()) return twin_->span_counter(text);
  return std::make_unique<TwinSpanCounter>(
      twin_->span_counter(text), PipelineSpanCounter(*pipeline_, mask_, text), std::move(changed));
}

void SpanCounting::token_starts(std::string_view text, std::vector<int64_t>& starts) const {
  std::vector<uint32_t> ids;
  starts.clear();
  if (twin_applies(text)) {
    std::vector<std::size_t> bytes;
    twin_->encode_with_offsets(text, nullptr, ids, bytes);
    starts.assign(bytes.begin(), bytes.end());
    return;
  }
  std::vector<uint32_t> offsets;  // (begin, end) per token, in bytes of `text`
  pipeline_->encode(text, mask_, false, ids, &offsets);
  starts.reserve(ids.size());
  for (std::size_t k = 0; k < ids.size(); ++k) starts.push_back(offsets[2 * k]);
}

}  // namespace ctxengine::hf
