// The decoders of tokenizer.json files: token strings back to text. Each step rewrites the list
// of token strings as HF tokenizers' decoders do (ByteLevel, WordPiece, BPEDecoder,
// ByteFallback, Fuse, Strip, Replace with a literal pattern); the results are concatenated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ctxengine::hf {

struct DecoderStep {
  enum class Kind {
    ByteLevel,
    WordPiece,
    BpeSuffix,
    ByteFallback,
    Fuse,
    Strip,
    Replace,
    Metaspace
  };
  Kind kind = Kind::Fuse;
  std::string text;     // WordPiece prefix, BPE suffix, Replace pattern, Strip content, replacement
  std::string content;  // Replace content
  bool cleanup = false;  // WordPiece cleanup; Metaspace: the first token loses its replacements
  std::size_t start = 0, stop = 0;  // Strip
};

class Decoder {
 public:
  void add(DecoderStep step) { steps_.push_back(std::move(step)); }
  bool empty() const noexcept { return steps_.empty(); }
  // Without steps the tokens are joined with spaces (HF's behaviour without a decoder).
  std::string decode(std::vector<std::string> tokens) const;

 private:
  std::vector<DecoderStep> steps_;
};

// UTF-8 with each maximal invalid subsequence replaced by U+FFFD (Rust's from_utf8_lossy and
// Python's errors="replace" agree on this).
std::string utf8_lossy(const std::string& bytes);

}  // namespace ctxengine::hf
