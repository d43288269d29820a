// Span counting for tokenizer.json pipelines: the twin check and the re-encoding fallback.
#include "tokenizer/hf_span_counter.hpp"

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

bool SpanCounting::twin_applies(std::string_view text) const {
  if (twin_ == nullptr) return false;
  const Prepared p = pipeline_->prepare(text, mask_, false);
  for (const Segment& s : p.segments) {
    if (s.id >= 0) return false;  // an added token is matched
  }
  return p.text == text;  // the normalizer changes nothing
}

std::unique_ptr<SpanCounter> SpanCounting::span_counter(std::string_view text) const {
  if (twin_applies(text)) return twin_->span_counter(text);
  return std::make_unique<PipelineSpanCounter>(*pipeline_, mask_, text);
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
