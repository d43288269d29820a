// libFuzzer harness: loading a `.tiktoken` rank file from arbitrary bytes, then encoding with
// whatever loaded. A file either loads or is refused with a ctxengine::Error (never a crash,
// an internal error or another exception, and never an allocation the file's size does not
// justify); what loads is checked against a plain reference:
// - each line's token decodes, by its rank, to the bytes the reference parser reads;
// - the ids of a text equal a reference byte-pair merge (tiktoken's: whole piece first, then
//   the lowest-ranked adjacent pair, leftmost first) over the same pieces;
// - count == the number of ids, decode(encode(text)) == text, span counts are exact.
// Input: option byte (bit 0: prepend the 256 single-byte lines as ranks 0..255, so that mutated
// lines become merges; bits 1-3: the pattern), a length byte L, L bytes of text, then the file.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.hpp"
#include "tokenizer/pretokenizer.hpp"

using namespace ctxengine;
using namespace ctxengine::fuzz;

namespace {

std::optional<std::string> reference_base64(std::string_view in) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (in.empty() || in.size() % 4) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=') {
      // Padding only at the end: "xx==" or "xxx=".
      if (i + 2 < in.size() || (i + 2 == in.size() && in[i + 1] != '=')) return std::nullopt;
      break;
    }
    const std::size_t v = alphabet.find(in[i]);
    if (v == std::string::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// The lines the loader must have read: rank -> bytes (the loader refuses duplicates itself).
std::map<uint32_t, std::string> reference_parse(std::string_view content) {
  std::map<uint32_t, std::string> out;
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t eol = content.find('\n', pos);
    if (eol == std::string_view::npos) eol = content.size();
    std::string_view line = content.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::size_t sp = line.find(' ');
    FUZZ_CHECK(sp != std::string_view::npos, "loaded a line without a space");
    const auto bytes = reference_base64(line.substr(0, sp));
    FUZZ_CHECK(bytes.has_value(), "loaded a line with invalid base64");
    uint64_t rank = 0;
    for (char c : line.substr(sp + 1)) rank = rank * 10 + static_cast<uint64_t>(c - '0');
    out[static_cast<uint32_t>(rank)] = *bytes;
  }
  return out;
}

// tiktoken's byte_pair_merge, written plainly.
void reference_bpe(const std::map<std::string, uint32_t>& rank_of, std::string_view piece,
                   std::vector<uint32_t>& out) {
  const auto whole = rank_of.find(std::string(piece));
  if (whole != rank_of.end()) {
    out.push_back(whole->second);
    return;
  }
  std::vector<std::string> parts;
  for (char c : piece) parts.emplace_back(1, c);
  for (;;) {
    std::size_t best = parts.size();
    uint32_t best_rank = 0xFFFFFFFFu;
    for (std::size_t j = 0; j + 1 < parts.size(); ++j) {
      const auto it = rank_of.find(parts[j] + parts[j + 1]);
      if (it != rank_of.end() && it->second < best_rank) best = j, best_rank = it->second;
    }
    if (best == parts.size()) break;
    parts[best] += parts[best + 1];
    parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
  for (const std::string& p : parts) out.push_back(rank_of.at(p));
}

const char* const kPatterns[] = {"cl100k_base", "o200k_base", "r50k_base", "llama3", "qwen2"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Input in(data, size);
  const uint8_t opt = in.byte();
  const std::string text = valid_utf8(in.take(in.byte()));
  std::string content;
  if (opt & 1) {
    static const std::string base = [] {
      static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      std::string s;
      for (int b = 0; b < 256; ++b)
        s += std::string{b64[b >> 2], b64[(b & 3) << 4], '=', '='} + ' ' + std::to_string(b) + '\n';
      return s;
    }();
    content = base;
  }
  content.append(in.rest());
  const char* pattern = kPatterns[((opt >> 1) & 7) % 5];

  std::shared_ptr<BpeTokenizer> tok;
  if (!completes([&] { tok = load_tiktoken("fuzz", content, "fuzz.tiktoken", pattern, {}); }))
    return 0;

  // The loaded vocabulary is the reference parse.
  const auto ranks = reference_parse(content);
  std::map<std::string, uint32_t> rank_of;
  std::string got;
  for (const auto& [rank, bytes] : ranks) {
    rank_of.emplace(bytes, rank);
    got.clear();
    tok->decode(&rank, 1, got);
    FUZZ_CHECK(got == bytes, "rank " + std::to_string(rank) + " decodes to other bytes");
  }
  FUZZ_CHECK(rank_of.size() == ranks.size(), "loaded two ranks with the same bytes");

  // Encoding equals the reference merge over the same pieces.
  std::vector<std::size_t> ends;
  split_pieces(tok->pretokenizer(), text, ends);
  std::vector<uint32_t> expect;
  std::size_t begin = 0;
  for (std::size_t e : ends) {
    reference_bpe(rank_of, std::string_view(text).substr(begin, e - begin), expect);
    begin = e;
  }
  std::vector<uint32_t> ids;
  tok->encode_ordinary(text, ids);
  FUZZ_CHECK(ids == expect, "ids differ from the reference merge");
  FUZZ_CHECK(tok->count_ordinary(text) == ids.size(), "count != number of ids");
  got.clear();
  tok->decode(ids.data(), ids.size(), got);
  FUZZ_CHECK(got == text, "decode(encode(text)) differs");
  const auto counter = tok->span_counter(text);
  for (std::size_t a = 0; a < text.size();
       a = floor_boundary(text, a + char_len(text, a) + a / 2)) {
    const std::size_t b = floor_boundary(text, text.size() - a / 3);
    if (b < a) break;
    FUZZ_CHECK(counter->count(a, b) == tok->count_ordinary(std::string_view(text).substr(a, b - a)),
               "span count differs");
  }
  return 0;
}
