// libFuzzer harness: encode / count / decode of arbitrary text with cl100k_base and o200k_base,
// checking the contract rather than only "no crash":
// - find_invalid_utf8 agrees with a plain reference validator on the raw bytes;
// - count == the number of ids, with and without special tokens, and count_many on one thread
//   == on two == one count per text;
// - decode(encode(text)) == text; encode_with_offsets gives the same ids and each token starts
//   where the bytes of the tokens before it end (the offsets reconstruct the text);
// - encode with no special token allowed == encode_ordinary;
// - count_until and SpanCounter::count / fit keep their documented contracts;
// - cutting at a safe seam changes no count.
// Input: one option byte (encoding, limit), then the text (made valid UTF-8).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_support.hpp"

using namespace ctxengine;
using namespace ctxengine::fuzz;

namespace {

// Index of the first byte that does not belong to a valid UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos.
std::size_t reference_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    std::size_t len;
    uint32_t cp, min;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<uint8_t>(s[i + k]);
      if ((d & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return npos;
}

std::string decode(const BpeTokenizer& tok, const std::vector<uint32_t>& ids) {
  std::string out;
  tok.decode(ids.data(), ids.size(), out);
  return out;
}

std::string show(std::size_t a, std::size_t b) {
  return std::to_string(a) + " vs " + std::to_string(b);
}

void check_text(const BpeTokenizer& tok, const std::string& text, uint8_t opt) {
  // Ordinary encoding, counting and decoding.
  std::vector<uint32_t> ids;
  tok.encode_ordinary(text, ids);
  FUZZ_CHECK(tok.count_ordinary(text) == ids.size(), show(tok.count_ordinary(text), ids.size()));
  FUZZ_CHECK(decode(tok, ids) == text, "decode(encode(text)) differs");
  std::vector<uint32_t> none;
  tok.encode(text, nullptr, none);
  FUZZ_CHECK(none == ids, "encode with no special allowed != encode_ordinary");

  // Offsets: token i starts where the bytes of tokens [0, i) end.
  std::vector<uint32_t> ids2;
  std::vector<std::size_t> starts;
  tok.encode_with_offsets(text, nullptr, ids2, starts);
  FUZZ_CHECK(ids2 == ids, "encode_with_offsets ids != encode ids");
  FUZZ_CHECK(starts.size() == ids.size(), show(starts.size(), ids.size()));
  std::size_t at = 0;
  std::string piece;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    FUZZ_CHECK(starts[i] == at, "token " + std::to_string(i) + " starts at " + show(starts[i], at));
    piece.clear();
    tok.decode(&ids[i], 1, piece);
    FUZZ_CHECK(text.compare(at, piece.size(), piece) == 0, "token bytes differ from the text");
    at += piece.size();
  }

  // Every special token allowed: still a round trip, and the count matches.
  std::vector<char> all(tok.special_tokens().size(), 1);
  std::vector<uint32_t> with_special;
  tok.encode(text, &all, with_special);
  FUZZ_CHECK(tok.count(text, &all) == with_special.size(), "count with specials != ids");
  FUZZ_CHECK(decode(tok, with_special) == text, "decode(encode(text, all specials)) differs");

  // count_until: the prefix's count is exact, within the limit, and as long as the contract
  // says (the whole text, or one more character would exceed the limit).
  const std::size_t limit = opt >> 2;
  const BpeTokenizer::Prefix p = tok.count_until(text, limit);
  FUZZ_CHECK(p.end <= text.size() && is_char_boundary(text, p.end), "count_until end");
  FUZZ_CHECK(p.count == tok.count_ordinary(std::string_view(text).substr(0, p.end)),
             "count_until count is not the prefix's count");
  FUZZ_CHECK(p.count <= limit, "count_until over the limit");
  if (p.end < text.size()) {
    const std::size_t next = p.end + char_len(text, p.end);
    FUZZ_CHECK(tok.count_ordinary(std::string_view(text).substr(0, next)) > limit,
               "count_until stopped early");
  }

  // Span counts: any span's count is the count of that text encoded on its own.
  const auto counter = tok.span_counter(text);
  FUZZ_CHECK(counter->count(0, text.size()) == ids.size(), "span counter total");
  const std::size_t n = text.size();
  for (std::size_t k = 0; k < 6 && n > 0; ++k) {
    std::size_t a = floor_boundary(text, (static_cast<std::size_t>(opt) * 7919 + k * 104729) % n);
    std::size_t b = floor_boundary(text, (a + 1 + (k * 2654435761u + opt) % n) % (n + 1));
    if (a > b) std::swap(a, b);
    const std::size_t expect = tok.count_ordinary(std::string_view(text).substr(a, b - a));
    FUZZ_CHECK(counter->count(a, b) == expect, "span [" + std::to_string(a) + ", " +
                                                   std::to_string(b) + ") " +
                                                   show(counter->count(a, b), expect));
    const std::size_t lim = (opt + k) % 8;
    const std::size_t e = counter->fit(a, b, lim);
    FUZZ_CHECK(e >= a && e <= b && is_char_boundary(text, e), "fit out of range");
    FUZZ_CHECK(counter->count(a, e) <= lim, "fit over the limit");
    if (e < b) FUZZ_CHECK(counter->count(a, e + char_len(text, e)) > lim, "fit stopped early");
  }

  // Batches: the same counts on one thread and on two.
  std::vector<std::string_view> texts = {
      text, std::string_view(text).substr(0, n / 2), "",
      std::string_view(text).substr(floor_boundary(text, n / 3))};
  std::vector<int64_t> one(texts.size()), two(texts.size());
  tok.count_many(texts, &all, 1, one.data());
  tok.count_many(texts, &all, 2, two.data());
  FUZZ_CHECK(one == two, "count_many depends on the thread count");
  for (std::size_t i = 0; i < texts.size(); ++i)
    FUZZ_CHECK(one[i] == static_cast<int64_t>(tok.count(texts[i], &all)), "count_many != count");

  // Safe seams: counting the parts on either side adds up to the whole.
  for (std::size_t seam : tok.seams(text, 1 + (opt & 31))) {
    FUZZ_CHECK(seam > 0 && seam < n && is_char_boundary(text, seam), "seam out of range");
    const std::size_t left = tok.count_ordinary(std::string_view(text).substr(0, seam));
    const std::size_t right = tok.count_ordinary(std::string_view(text).substr(seam));
    FUZZ_CHECK(left + right == ids.size(),
               "seam at " + std::to_string(seam) + " changes the count");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Input in(data, size);
  const uint8_t opt = in.byte();
  const std::string_view raw = in.rest();
  FUZZ_CHECK(find_invalid_utf8(raw) == reference_invalid_utf8(raw),
             show(find_invalid_utf8(raw), reference_invalid_utf8(raw)));
  const std::string text = valid_utf8(raw);
  check_text((opt & 1) ? o200k() : cl100k(), text, opt);
  return 0;
}
