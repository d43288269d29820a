#include "tokenizer/pretokenizer.hpp"

#include "common/error.hpp"

namespace ctxengine {
namespace {

// tiktoken_ext/openai_public.py (tiktoken 0.6 and later).
constexpr std::string_view kCl100k =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s)";
constexpr std::string_view kO200k =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kR50k =
    R"('(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s)";
// The original GPT-2 regex (encoder.py), also HF's ByteLevel pre-tokenizer with use_regex=true.
constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// Llama 3's tokenizer.json Split pattern; also cl100k_base's pattern in tiktoken before 0.6.
constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen2's tokenizer.json Split pattern (transformers' PRETOKENIZE_REGEX for Qwen2).
constexpr std::string_view kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

}  // namespace

const char* pretokenizer_name(Pretokenizer p) noexcept {
  switch (p) {
    case Pretokenizer::Cl100k:
      return "cl100k_base";
    case Pretokenizer::O200k:
      return "o200k_base";
    case Pretokenizer::R50k:
      return "r50k_base";
    case Pretokenizer::Llama3:
      return "llama3";
    case Pretokenizer::Qwen2:
      return "qwen2";
    case Pretokenizer::Custom:
      break;
  }
  return "custom";
}

std::vector<std::string_view> pattern_strings(Pretokenizer p) {
  switch (p) {
    case Pretokenizer::Cl100k:
      return {kCl100k};
    case Pretokenizer::O200k:
      return {kO200k};
    case Pretokenizer::R50k:
      return {kR50k, kGpt2};
    case Pretokenizer::Llama3:
      return {kLlama3};
    case Pretokenizer::Qwen2:
      return {kQwen2};
    case Pretokenizer::Custom:
      break;
  }
  return {};
}

Pretokenizer identify_pattern(std::string_view pattern) noexcept {
  for (Pretokenizer p : {Pretokenizer::Cl100k, Pretokenizer::O200k, Pretokenizer::R50k,
                         Pretokenizer::Llama3, Pretokenizer::Qwen2}) {
    for (std::string_view known : pattern_strings(p))
      if (pattern == known) return p;
  }
  return Pretokenizer::Custom;
}

Pretokenizer pretokenizer_from_name(std::string_view name) noexcept {
  for (Pretokenizer p : {Pretokenizer::Cl100k, Pretokenizer::O200k, Pretokenizer::R50k,
                         Pretokenizer::Llama3, Pretokenizer::Qwen2}) {
    if (name == pretokenizer_name(p)) return p;
  }
  return Pretokenizer::Custom;
}

void split_pieces(Pretokenizer p, std::string_view text, std::vector<std::size_t>& piece_ends) {
  CTX_REQUIRE(p != Pretokenizer::Custom, "split_pieces needs a known pattern");
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  for_each_piece(p, s, 0, text.size(),
                 [&](std::size_t, std::size_t end) { piece_ends.push_back(end); });
}

}  // namespace ctxengine
