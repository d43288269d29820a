// libFuzzer harness: every chunking mode (recursive, tokens, sentences, markdown, code in each
// language family) and the stream form, with cl100k_base, on arbitrary text and options. Either
// the options are refused (a Limit error when max_tokens cannot hold one character) or:
// - chunks are non-empty, in order, on character boundaries, inside the text;
// - each chunk's count is the count of its own text, encoded alone, and within max_tokens;
// - consecutive chunks share at most `overlap` tokens; without overlap they do not overlap,
//   and with trimming the text between them is whitespace only, without it they tile the text;
// - every non-whitespace character is in some chunk (nothing dropped);
// - one thread == two threads; chunk_many == one chunk_any per text;
// - the stream, fed in blocks of any size, gives exactly the whole-text chunks;
// - code point offsets are the byte offsets converted.
// Input: mode byte, max_tokens byte, overlap byte, flags byte (trim, repeat count, block sizes),
// then the text (made valid UTF-8).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chunking/chunk.hpp"
#include "fuzz/fuzz_support.hpp"

using namespace ctxengine;
using namespace ctxengine::fuzz;

namespace {

// Unicode White_Space (PropList.txt), independent of the core's own table.
bool reference_white_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

uint32_t code_point(std::string_view s, std::size_t i, std::size_t* len) {
  const auto c = static_cast<uint8_t>(s[i]);
  *len = char_len(s, i);
  if (*len == 1) return c;
  uint32_t cp = c & (0x7F >> *len);
  for (std::size_t k = 1; k < *len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
  return cp;
}

bool all_white_space(std::string_view s) {
  for (std::size_t i = 0, len = 0; i < s.size(); i += len)
    if (!reference_white_space(code_point(s, i, &len))) return false;
  return true;
}

std::string at(std::size_t i) {
  return "chunk " + std::to_string(i);
}

ChunkTokenizer chunk_tokenizer(const BpeTokenizer& tok) {
  return ChunkTokenizer{[&tok](std::string_view t) { return tok.span_counter(t); },
                        [&tok](std::string_view t, std::vector<int64_t>& starts) {
                          std::vector<uint32_t> ids;
                          std::vector<std::size_t> bytes;
                          tok.encode_with_offsets(t, nullptr, ids, bytes);
                          starts.assign(bytes.begin(), bytes.end());
                        }};
}

bool same(const Chunks& a, const Chunks& b) {
  if (a.starts != b.starts || a.ends != b.ends || a.tokens != b.tokens || a.heading != b.heading)
    return false;
  if (a.headings.size() != b.headings.size()) return false;
  for (std::size_t i = 0; i < a.headings.size(); ++i) {
    const Heading &x = a.headings[i], &y = b.headings[i];
    if (x.pos != y.pos || x.level != y.level || x.parent != y.parent || x.title != y.title)
      return false;
  }
  return true;
}

void check_chunks(const BpeTokenizer& tok, std::string_view text, const ChunkRequest& req,
                  const Chunks& c) {
  const std::size_t n = c.starts.size();
  FUZZ_CHECK(c.ends.size() == n && c.tokens.size() == n, "array sizes");
  const ChunkOptions& o = req.options;
  const bool tokens_mode = req.mode == ChunkMode::Tokens;
  std::size_t covered = 0;  // the text before this is in a chunk or is whitespace
  for (std::size_t i = 0; i < n; ++i) {
    const auto s = static_cast<std::size_t>(c.starts[i]), e = static_cast<std::size_t>(c.ends[i]);
    FUZZ_CHECK(c.starts[i] >= 0 && s < e && e <= text.size(), at(i) + " out of range or empty");
    FUZZ_CHECK(is_char_boundary(text, s) && is_char_boundary(text, e), at(i) + " splits a char");
    const std::string_view chunk = text.substr(s, e - s);
    FUZZ_CHECK(static_cast<std::size_t>(c.tokens[i]) == tok.count_ordinary(chunk),
               at(i) + " count is not its text's count");
    FUZZ_CHECK(static_cast<std::size_t>(c.tokens[i]) <= o.max_tokens, at(i) + " over budget");
    if (i > 0) {
      const auto ps = static_cast<std::size_t>(c.starts[i - 1]);
      const auto pe = static_cast<std::size_t>(c.ends[i - 1]);
      FUZZ_CHECK(s > ps && e > pe, at(i) + " does not move forward");
      if (s < pe) {
        FUZZ_CHECK(o.overlap > 0, at(i) + " overlaps the previous one without overlap");
        FUZZ_CHECK(tok.count_ordinary(text.substr(s, pe - s)) <= o.overlap,
                   at(i) + " shares more than `overlap` tokens");
      } else if (o.trim && !tokens_mode) {
        FUZZ_CHECK(all_white_space(text.substr(pe, s - pe)), at(i) + ": a gap holds text");
      } else {
        FUZZ_CHECK(s == pe, at(i) + ": an untrimmed gap");
      }
    }
    FUZZ_CHECK(s <= covered || all_white_space(text.substr(covered, s - covered)),
               at(i) + ": text before it is in no chunk");
    covered = std::max(covered, e);
  }
  FUZZ_CHECK(all_white_space(text.substr(std::min(covered, text.size()))),
             "text after the last chunk is in no chunk");
  if (!o.trim || tokens_mode) {
    FUZZ_CHECK(n == 0 || c.starts[0] == 0, "an untrimmed first chunk starts at 0");
    FUZZ_CHECK(covered == text.size(), "untrimmed chunks end at the text's end");
  }
}

Chunks byte_chunks(const BpeTokenizer& tok, std::string_view text, const ChunkRequest& req,
                   std::size_t threads) {
  return chunk_any(text, chunk_tokenizer(tok), req, threads);
}

Chunks stream_chunks(const BpeTokenizer& tok, std::string_view text, const ChunkRequest& req,
                     uint8_t seed) {
  ChunkStream stream(req, [&tok](std::string_view t) { return tok.span_counter(t); });
  Chunks all;
  std::size_t pos = 0;
  uint32_t x = seed * 2654435761u + 1;
  while (true) {
    x = x * 1103515245u + 12345u;
    // Blocks from one byte to a few look-aheads long, cut on character boundaries.
    const std::size_t want = 1 + (x >> 8) % (seed & 1 ? 256 : 6000);
    std::size_t end = floor_boundary(text, std::min(text.size(), pos + want));
    if (end == pos && pos < text.size()) end = pos + char_len(text, pos);
    const bool eof = end == text.size();
    std::vector<std::string> texts;
    Chunks got = stream.feed(text.substr(pos, end - pos), eof, &texts);
    FUZZ_CHECK(texts.size() == got.starts.size(), "one text per streamed chunk");
    for (std::size_t i = 0; i < texts.size() && !req.char_offsets; ++i)
      FUZZ_CHECK(texts[i] == text.substr(static_cast<std::size_t>(got.starts[i]),
                                         static_cast<std::size_t>(got.ends[i] - got.starts[i])),
                 "a streamed chunk's text is not the text at its offsets");
    all.starts.insert(all.starts.end(), got.starts.begin(), got.starts.end());
    all.ends.insert(all.ends.end(), got.ends.begin(), got.ends.end());
    all.tokens.insert(all.tokens.end(), got.tokens.begin(), got.tokens.end());
    all.heading.insert(all.heading.end(), got.heading.begin(), got.heading.end());
    all.headings.insert(all.headings.end(), got.headings.begin(), got.headings.end());
    pos = end;
    if (eof) break;
  }
  return all;
}

const char* const kModes[] = {"recursive", "tokens", "sentences", "markdown", "code"};
const CodeLanguage kLanguages[] = {CodeLanguage::Indent, CodeLanguage::Python,
                                   CodeLanguage::Braces};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Input in(data, size);
  const uint8_t mode = in.byte(), max_tokens = in.byte(), overlap = in.byte(), flags = in.byte();
  std::string text = valid_utf8(in.rest());
  // Long texts reach the stream's look-ahead window and the chunker's adaptive window; 12 KB is
  // past both, and small enough for thousands of inputs a minute under the sanitizers.
  const std::size_t repeat = 1 + ((flags >> 1) & 7) * ((flags >> 1) & 7);
  const std::string once = text;
  for (std::size_t r = 1; r < repeat && text.size() + once.size() <= 12 * 1024; ++r) text += once;

  ChunkRequest req;
  req.mode = parse_chunk_mode(kModes[mode % 5]);
  req.language = kLanguages[(mode / 5) % 3];
  req.options.max_tokens = 1 + max_tokens % 64;
  req.options.overlap = req.options.max_tokens > 1 ? overlap % req.options.max_tokens : 0;
  if (overlap & 0x80) req.options.overlap = 0;
  req.options.trim = !(flags & 1);
  req.char_offsets = false;
  const BpeTokenizer& tok = cl100k();

  Chunks one;
  if (!completes([&] { one = byte_chunks(tok, text, req, 1); })) return 0;
  check_chunks(tok, text, req, one);
  FUZZ_CHECK(same(one, byte_chunks(tok, text, req, 2)), "two threads differ from one");

  // Code point offsets are the byte offsets converted.
  ChunkRequest chars = req;
  chars.char_offsets = true;
  Chunks c = byte_chunks(tok, text, chars, 1);
  const OffsetMap map(text);
  for (auto* v : {&one.starts, &one.ends})
    for (int64_t& x : *v) x = static_cast<int64_t>(map.char_of_byte(static_cast<std::size_t>(x)));
  FUZZ_CHECK(same(one, c), "code point offsets differ from the converted byte offsets");

  // A batch: each document as on its own, on one thread and on two.
  const std::string_view second =
      std::string_view(once).substr(floor_boundary(once, once.size() / 2));
  const std::vector<std::string_view> docs = {second, text, ""};
  const ChunkBatch b1 = chunk_many(docs, chunk_tokenizer(tok), req, 1);
  const ChunkBatch b2 = chunk_many(docs, chunk_tokenizer(tok), req, 2);
  FUZZ_CHECK(same(b1.chunks, b2.chunks) && b1.doc_offsets == b2.doc_offsets,
             "chunk_many depends on the thread count");
  FUZZ_CHECK(b1.doc_offsets.size() == 4, "doc_offsets size");
  const Chunks whole = byte_chunks(tok, text, req, 1);
  const auto lo = static_cast<std::size_t>(b1.doc_offsets[1]);
  const auto hi = static_cast<std::size_t>(b1.doc_offsets[2]);
  FUZZ_CHECK(
      hi - lo == whole.starts.size() &&
          std::equal(whole.starts.begin(), whole.starts.end(), b1.chunks.starts.begin() + lo) &&
          std::equal(whole.ends.begin(), whole.ends.end(), b1.chunks.ends.begin() + lo) &&
          std::equal(whole.tokens.begin(), whole.tokens.end(), b1.chunks.tokens.begin() + lo),
      "chunk_many differs from chunk_any");

  // The stream form gives the whole-text chunks (by="tokens" has no stream form).
  if (req.mode != ChunkMode::Tokens) {
    FUZZ_CHECK(same(stream_chunks(tok, text, req, flags >> 4), whole),
               "streamed chunks differ from whole-text chunks");
    FUZZ_CHECK(same(stream_chunks(tok, text, chars, flags >> 3), c),
               "streamed chunks (code point offsets) differ from whole-text chunks");
  }
  return 0;
}
