// Span counting for tokenizer.json pipelines: the SpanCounter that chunking and packing use, and
// token start offsets for by="tokens" chunking.
//
// A byte-level BPE file whose pre-tokenizer is one native scanner (a Split of a known pattern
// followed by ByteLevel without its regex, or ByteLevel's own regex), without a prefix space,
// encodes a text exactly as a BpeTokenizer over the same vocabulary (as raw bytes), the same
// merges with HF's semantics (BpeModel::from_merge_pairs) and the same scanner does, as long as
// no added token is matched and the normalizer leaves the text as it is. That tokenizer, the
// pipeline's "twin", is built by the Python loader (tokenizer_json.py decides which files
// qualify); its BpeSpanCounter gives O(log n) span counts with the exact edge handling of
// tiktoken-family tokenizers. Whether a text qualifies is checked here, once per text:
// - added tokens: the pipeline's own matcher finds none that counting would match (special
//   tokens are plain text in counts; non-special ones are always matched);
// - normalizer: the pipeline's normalization of the text is the text itself. The loader allows
//   only normalizers whose identity on a text carries over to every substring of it: Lowercase
//   (per character), and NFC/NFD/NFKC/NFKD (a substring of a normalized string is normalized:
//   it keeps the canonical order of its marks, and a mark that did not compose with the last
//   starter before it still has that starter, or none, before it).
// A text whose normalization is not the text itself still uses the twin for the spans that
// touch only lines the normalizer leaves as they are (TwinSpanCounter): these normalizers act
// on each line alone ("\n" has combining class 0, composes with nothing and maps to itself,
// so NFC(x + "\n" + y) = NFC(x) + "\n" + NFC(y)), hence a span within such lines is a
// substring of an unchanged string, joined at newlines.
// Texts with an added token, spans that touch a changed line, and pipelines without a twin are
// counted by re-encoding each span with the pipeline in C++ (exact for every pipeline without
// Python pre-tokenizer steps).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/bpe_tokenizer.hpp"
#include "tokenizer/hf_pipeline.hpp"
#include "tokenizer/span_counter.hpp"

namespace ctxengine::hf {

// count(a, b) re-encodes text[a, b) with the pipeline; fit() bisects (SpanCounter's default).
class PipelineSpanCounter final : public SpanCounter {
 public:
  PipelineSpanCounter(const Pipeline& pipeline, const TokenMask& mask, std::string_view text)
      : pipeline_(&pipeline), mask_(&mask), text_(text) {}
  std::string_view text() const override { return text_; }
  std::size_t count(std::size_t begin, std::size_t end) const override;

 private:
  const Pipeline* pipeline_;
  const TokenMask* mask_;
  std::string_view text_;
};

// The twin's counter on spans that avoid every changed line, re-encoding on the others.
class TwinSpanCounter final : public SpanCounter {
 public:
  // `changed`: the byte ranges [begin, end) of the lines that normalization changes, in order.
  TwinSpanCounter(std::unique_ptr<SpanCounter> twin, PipelineSpanCounter pipeline,
                  std::vector<std::pair<std::size_t, std::size_t>> changed)
      : twin_(std::move(twin)), pipeline_(pipeline), changed_(std::move(changed)) {}
  std::string_view text() const override { return twin_->text(); }
  std::size_t count(std::size_t begin, std::size_t end) const override;
  std::size_t fit(std::size_t begin, std::size_t end, std::size_t limit) const override;

 private:
  // The start of the first changed line that [begin, end) overlaps (clipped to begin), or end.
  std::size_t first_changed(std::size_t begin, std::size_t end) const;

  std::unique_ptr<SpanCounter> twin_;
  PipelineSpanCounter pipeline_;
  std::vector<std::pair<std::size_t, std::size_t>> changed_;
};

class SpanCounting {
 public:
  // `pipeline` must have no external (Python) pre-tokenizer steps; `twin` may be null.
  SpanCounting(std::shared_ptr<const Pipeline> pipeline, std::shared_ptr<const BpeTokenizer> twin);

  const std::shared_ptr<const BpeTokenizer>& twin() const noexcept { return twin_; }
  // Whether the twin counts every span of `text` exactly as the pipeline does (see above).
  bool twin_applies(std::string_view text) const;
  // Whether the twin may count spans of `text` at all (no added token in it, a twin exists),
  // and then in `changed` the lines that normalization changes.
  bool twin_lines(std::string_view text,
                  std::vector<std::pair<std::size_t, std::size_t>>& changed) const;
  // Exact counts of spans of `text` (which must outlive the counter), as the pipeline counts
  // plain text (special tokens as text, add_special_tokens off).
  std::unique_ptr<SpanCounter> span_counter(std::string_view text) const;
  // The byte offset where each token of the pipeline's encoding of `text` starts.
  void token_starts(std::string_view text, std::vector<int64_t>& starts) const;

 private:
  std::shared_ptr<const Pipeline> pipeline_;
  std::shared_ptr<const BpeTokenizer> twin_;
  TokenMask mask_;  // special added tokens off, the others on: what counting matches
};

}  // namespace ctxengine::hf
