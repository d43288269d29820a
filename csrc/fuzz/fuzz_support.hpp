// Shared by the libFuzzer harnesses (scripts/fuzz.sh, docs/reliability.md): a check that aborts
// with a message (libFuzzer then saves the input), a reader for the option bytes at the front of
// an input, the reference encodings loaded once, and the line between an accepted refusal
// (a ctxengine::Error a user would see as a clear exception) and a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "text/utf8.hpp"
#include "tokenizer/bpe_tokenizer.hpp"
#include "tokenizer/tiktoken_file.hpp"

namespace ctxengine::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "\nfuzz invariant failed at %s:%d: %s\n", file, line, what.c_str());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, what)                                                                    \
  do {                                                                                            \
    if (!(cond)) ::ctxengine::fuzz::fail(__FILE__, __LINE__, std::string(#cond " -- ") + (what)); \
  } while (0)

// Option bytes from the front of the input, then the rest as payload.
class Input {
 public:
  Input(const uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  // Up to `len` bytes.
  std::string_view take(std::size_t len) {
    const std::size_t k = len < n_ ? len : n_;
    std::string_view out(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return out;
  }
  std::string_view rest() { return take(n_); }

 private:
  const uint8_t* p_;
  std::size_t n_;
};

// Runs fn(). Returns true when it finished, false when it refused with a ctxengine::Error a
// user would see as a clear exception. A broken invariant (Internal) or any other exception
// (std::out_of_range, std::bad_alloc, ...) is a bug and aborts.
template <class Fn>
bool completes(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::Internal)
      fail(__FILE__, __LINE__, std::string("internal error: ") + e.what());
    return false;
  } catch (const std::exception& e) {
    fail(__FILE__, __LINE__, std::string("not a ctxengine::Error: ") + e.what());
  }
}

// Arbitrary bytes as valid UTF-8: each byte that does not start a valid sequence becomes
// U+FFFD, so text harnesses spend their time on text (the bindings only pass valid UTF-8).
inline std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const std::size_t bad = find_invalid_utf8(in.substr(i));
    if (bad == npos) {
      out.append(in.substr(i));
      break;
    }
    out.append(in.substr(i, bad));
    out += "\xEF\xBF\xBD";
    i += bad + 1;
  }
  return out;
}

// Byte length of the UTF-8 character starting at text[i] (valid UTF-8).
inline std::size_t char_len(std::string_view text, std::size_t i) {
  const auto c = static_cast<uint8_t>(text[i]);
  return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

inline bool is_char_boundary(std::string_view text, std::size_t i) {
  return i == text.size() || (static_cast<uint8_t>(text[i]) & 0xC0) != 0x80;
}

// The character boundary at or before i.
inline std::size_t floor_boundary(std::string_view text, std::size_t i) {
  if (i > text.size()) i = text.size();
  while (!is_char_boundary(text, i)) --i;
  return i;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "fuzz: cannot read %s (scripts/fuzz.sh sets CTXENGINE_FUZZ_DATA)\n",
                 path.c_str());
    std::exit(2);
  }
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// cl100k_base or o200k_base with its special tokens, from $CTXENGINE_FUZZ_DATA/<name>.tiktoken.
inline std::shared_ptr<const BpeTokenizer> load_reference(const std::string& name) {
  const char* dir = std::getenv("CTXENGINE_FUZZ_DATA");
  const std::string path = std::string(dir ? dir : "build/fuzz/data") + "/" + name + ".tiktoken";
  std::vector<SpecialToken> specials;
  if (name == "cl100k_base") {
    specials = {{"<|endoftext|>", 100257},
                {"<|fim_prefix|>", 100258},
                {"<|fim_middle|>", 100259},
                {"<|fim_suffix|>", 100260},
                {"<|endofprompt|>", 100276}};
  } else {
    specials = {{"<|endoftext|>", 199999}, {"<|endofprompt|>", 200018}};
  }
  return load_tiktoken(name, read_file(path), path, name, std::move(specials));
}

inline const BpeTokenizer& cl100k() {
  static const auto tok = load_reference("cl100k_base");
  return *tok;
}

inline const BpeTokenizer& o200k() {
  static const auto tok = load_reference("o200k_base");
  return *tok;
}

}  // namespace ctxengine::fuzz
