// Pre-tokenization: splitting text into the pieces that BPE encodes one at a time. The known
// regex patterns run as hand-written scanners (scanners.hpp); identify_pattern() maps a pattern
// string, exactly as tiktoken or a tokenizer.json spells it, to its scanner. Other patterns are
// compiled (regex.hpp) and run as Pretokenizer::Custom.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/scanners.hpp"

namespace ctxengine {

enum class Pretokenizer : uint8_t {
  Cl100k,  // cl100k_base
  O200k,   // o200k_base (and o200k_harmony)
  R50k,    // r50k_base, p50k_base, gpt2, and HF ByteLevel(use_regex=true)
  Llama3,  // Llama 3 tokenizer.json (and cl100k_base's pattern before tiktoken 0.6)
  Qwen2,   // Qwen2 / Qwen2.5 / Qwen3 tokenizer.json
  Custom,  // any other pattern: pieces come from a compiled Regex
};

// "cl100k_base", "o200k_base", "r50k_base", "llama3", "qwen2" or "custom".
const char* pretokenizer_name(Pretokenizer p) noexcept;

// The scanner for `pattern` when it is, byte for byte, one of the known pattern strings (as in
// tiktoken_ext/openai_public.py or in the Split pre-tokenizer of a tokenizer.json, after JSON
// unescaping); Custom otherwise.
Pretokenizer identify_pattern(std::string_view pattern) noexcept;

// Every known spelling of the pattern of `p` (the first is the canonical one); empty for Custom.
std::vector<std::string_view> pattern_strings(Pretokenizer p);

// Looks a pretokenizer up by its name (pretokenizer_name); Custom if unknown.
Pretokenizer pretokenizer_from_name(std::string_view name) noexcept;

// Calls fn(begin, end) for each piece of s[begin, end) with the scanner of `p` (not Custom).
template <class Fn>
inline void for_each_piece(Pretokenizer p, const uint8_t* s, std::size_t begin, std::size_t end,
                           Fn&& fn) {
  auto run = [&](auto scanner) {
    using Scanner = decltype(scanner);
    for (std::size_t i = begin; i < end;) {
      const std::size_t e = Scanner::next(s, i, end);
      fn(i, e);
      i = e;
    }
  };
  switch (p) {
    case Pretokenizer::Cl100k:
      return run(detail::Cl100kScanner{});
    case Pretokenizer::O200k:
      return run(detail::O200kScanner{});
    case Pretokenizer::R50k:
      return run(detail::R50kScanner{});
    case Pretokenizer::Llama3:
      return run(detail::Llama3Scanner{});
    case Pretokenizer::Qwen2:
      return run(detail::Qwen2Scanner{});
    case Pretokenizer::Custom:
      break;
  }
}

// The piece ends of text (valid UTF-8) under scanner `p` (not Custom), relative to text.
void split_pieces(Pretokenizer p, std::string_view text, std::vector<std::size_t>& piece_ends);

}  // namespace ctxengine
