// The normalizers of HF tokenizer.json files (BertNormalizer, Lowercase, NFD/NFKD/NFC/NFKC,
// StripAccents, Strip, Replace with a literal pattern, Prepend), applied in sequence to text
// held as code points. Each code point remembers the byte range of the original text it came
// from, so that tokens of the normalized text map back to the caller's text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctxengine::hf {

// Text under normalization: one code point per entry, with the original byte range
// [begin[i], end[i]) it came from (several code points may share one range).
struct NormalizedText {
  std::vector<uint32_t> cps;
  std::vector<uint32_t> begin, end;

  // Decodes valid UTF-8 `text` that starts at byte `offset` of the original text.
  void assign(std::string_view text, std::size_t offset);
  std::size_t size() const noexcept { return cps.size(); }
  // Appends the UTF-8 encoding to `out`; `byte_cp` (when given) receives, per output byte, the
  // index of its code point.
  void append_utf8(std::string& out, std::vector<uint32_t>* byte_cp = nullptr) const;
};

// The code points of valid UTF-8.
std::vector<uint32_t> code_points_of(std::string_view utf8);

struct NormalizerStep {
  enum class Kind { Bert, Lowercase, Nfd, Nfkd, Nfc, Nfkc, StripAccents, Strip, Replace, Prepend };
  Kind kind = Kind::Lowercase;
  // Bert
  bool clean_text = false, handle_chinese_chars = false, strip_accents = false, lowercase = false;
  // Strip
  bool left = false, right = false;
  // Replace: literal pattern -> content; Prepend: content
  std::vector<uint32_t> pattern, content;
};

class Normalizer {
 public:
  void add(NormalizerStep step) { steps_.push_back(std::move(step)); }
  bool empty() const noexcept { return steps_.empty(); }
  void apply(NormalizedText& text) const;
  // Normalizes a whole UTF-8 string (no alignment), for added-token contents and tests.
  std::string apply(std::string_view utf8) const;
  // The fast path for ASCII text without alignment: appends the normalized text to `out` and
  // returns true, or returns false (out unchanged) when a step needs the general path.
  bool apply_ascii(std::string_view ascii, std::string& out) const;
  // The fast path of NFC / NFD normalizers on text they leave unchanged (CJK, most scripts):
  // appends `utf8` and returns true when every step is NFC or NFD and every code point is
  // composition_stable; false (out unchanged) otherwise.
  bool apply_stable(std::string_view utf8, std::string& out) const;

 private:
  std::vector<NormalizerStep> steps_;
};

}  // namespace ctxengine::hf
