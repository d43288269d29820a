#include "tokenizer/tiktoken_file.hpp"

#include <cstdint>
#include <vector>

#include "common/error.hpp"

namespace ctxengine {
namespace {

// Standard base64 alphabet (RFC 4648 section 4) -> 6-bit value, 0xFF for anything else.
struct Base64Table {
  uint8_t value[256];
  constexpr Base64Table() : value() {
    for (int i = 0; i < 256; ++i) value[i] = 0xFF;
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) value[static_cast<uint8_t>(alphabet[i])] = static_cast<uint8_t>(i);
  }
};
constexpr Base64Table kBase64{};

// Appends the bytes of padded base64 to out; returns false on a bad length, character or
// padding.
bool decode_base64(std::string_view in, std::string& out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  const std::size_t start = out.size();
  std::size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    const bool last = i + 4 == in.size();
    for (std::size_t k = 0; k < 4; ++k) {
      const auto c = static_cast<uint8_t>(in[i + k]);
      uint8_t d = kBase64.value[c];
      if (c == '=' && last && k >= 4 - pad) d = 0;
      if (d == 0xFF) return false;
      v = (v << 6) | d;
    }
    const std::size_t n = last ? 3 - pad : 3;
    const char bytes[3] = {static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                           static_cast<char>(v)};
    out.append(bytes, n);
  }
  return out.size() > start;
}

std::string quote_line(std::string_view line) {
  std::string shown(line.substr(0, 60));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  return "'" + shown + (line.size() > 60 ? "...'" : "'");
}

}  // namespace

Vocabulary parse_tiktoken_ranks(std::string_view content, const std::string& source) {
  std::string bytes;
  bytes.reserve(content.size() * 3 / 4);
  std::vector<Vocabulary::TokenRef> refs;
  refs.reserve(content.size() / 12);
  std::size_t line_no = 0, pos = 0;
  auto fail = [&](std::string_view line, const std::string& what) {
    throw_error(ErrorKind::Format, source + " line " + std::to_string(line_no) + ": " + what +
                                       " in " + quote_line(line) +
                                       "; a tiktoken rank file has lines '<base64 token> <rank>'");
  };
  while (pos < content.size()) {
    std::size_t eol = content.find('\n', pos);
    if (eol == std::string_view::npos) eol = content.size();
    std::string_view line = content.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;  // tiktoken skips empty lines
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) fail(line, "no space between token and rank");
    const std::string_view b64 = line.substr(0, space);
    const std::string_view rank = line.substr(space + 1);
    const std::size_t offset = bytes.size();
    if (!decode_base64(b64, bytes)) fail(line, "invalid base64 token");
    if (rank.empty() || rank.size() > 10) fail(line, "missing or oversized rank");
    uint64_t r = 0;
    for (char c : rank) {
      if (c < '0' || c > '9') fail(line, "rank is not a decimal integer");
      r = r * 10 + static_cast<uint64_t>(c - '0');
    }
    if (r >= kNoToken) fail(line, "rank is too large");
    refs.push_back(Vocabulary::TokenRef{offset, static_cast<uint32_t>(bytes.size() - offset),
                                        static_cast<uint32_t>(r)});
  }
  if (refs.empty())
    throw_error(ErrorKind::Format, source + ": no tokens (the rank file is empty or truncated)");
  return Vocabulary::from_refs(bytes, refs, source);
}

namespace {

// A pattern string, or the name of a scanner ("cl100k_base", "llama3", ...): the hand-written
// scanner when there is one, else the pattern compiled with tiktoken's (fancy-regex) semantics.
Pretokenizer known_pattern(std::string_view pattern, std::shared_ptr<const Regex>* regex) {
  Pretokenizer pretokenizer = identify_pattern(pattern);
  if (pretokenizer == Pretokenizer::Custom) pretokenizer = pretokenizer_from_name(pattern);
  if (pretokenizer == Pretokenizer::Custom)
    *regex = Regex::compile(pattern, Regex::Flavor::Tiktoken);
  return pretokenizer;
}

}  // namespace

std::shared_ptr<BpeTokenizer> make_bpe_tokenizer(
    const std::string& name, const std::vector<std::pair<std::string, uint32_t>>& tokens,
    const std::vector<std::pair<uint32_t, uint32_t>>* merges, bool whole_piece_lookup,
    std::string_view pattern, std::vector<SpecialToken> special_tokens, const std::string& source) {
  std::shared_ptr<const Regex> regex;
  const Pretokenizer pretokenizer = known_pattern(pattern, &regex);
  Vocabulary vocab = Vocabulary::from_tokens(tokens, source);
  auto model = std::make_shared<const BpeModel>(
      merges == nullptr
          ? BpeModel::from_ranks(std::move(vocab), source)
          : BpeModel::from_merge_pairs(std::move(vocab), *merges, whole_piece_lookup, source));
  return std::make_shared<BpeTokenizer>(name, std::move(model), pretokenizer,
                                        std::move(special_tokens), std::move(regex));
}

std::shared_ptr<BpeTokenizer> load_tiktoken(const std::string& name, std::string_view content,
                                            const std::string& source, std::string_view pattern,
                                            std::vector<SpecialToken> special_tokens) {
  std::shared_ptr<const Regex> regex;
  const Pretokenizer pretokenizer = known_pattern(pattern, &regex);
  auto model = std::make_shared<const BpeModel>(
      BpeModel::from_ranks(parse_tiktoken_ranks(content, source), source));
  return std::make_shared<BpeTokenizer>(name, std::move(model), pretokenizer,
                                        std::move(special_tokens), std::move(regex));
}

}  // namespace ctxengine
