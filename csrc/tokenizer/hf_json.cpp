// A small JSON reader (RFC 8259 strings with every escape, integers, nested values skipped) and
// the walk to model.vocab and model.merges.
#include "tokenizer/hf_json.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "text/utf8.hpp"
#include "tokenizer/vocab_map.hpp"

namespace ctxengine::hf {
namespace {

class Reader {
 public:
  Reader(std::string_view s, const std::string& source) : s_(s), source_(source) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw_error(ErrorKind::Format, source_ + ": malformed tokenizer.json (" + what + " at byte " +
                                       std::to_string(i_) + ")");
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::size_t pos() const { return i_; }

  uint32_t hex4() {
    if (i_ + 4 > s_.size()) fail("a short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        fail("a bad \\u escape");
      }
    }
    return v;
  }

  // A string value (escapes decoded to UTF-8; a lone surrogate becomes U+FFFD as Python's json
  // would keep it, which no vocabulary token can match).
  void string(std::string& out) {
    out.clear();
    expect('"');
    while (true) {
      if (i_ >= s_.size()) fail("an unterminated string");
      const char c = s_[i_];
      if (c == '"') {
        ++i_;
        return;
      }
      if (c != '\\') {
        const std::size_t start = i_;
        while (i_ < s_.size() && s_[i_] != '"' && s_[i_] != '\\') ++i_;
        out.append(s_.data() + start, i_ - start);
        continue;
      }
      ++i_;
      if (i_ >= s_.size()) fail("an unterminated string");
      const char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && i_ + 6 <= s_.size() && s_[i_] == '\\' &&
              s_[i_ + 1] == 'u') {
            const std::size_t save = i_;
            i_ += 2;
            const uint32_t lo = hex4();
            if (lo >= 0xDC00 && lo < 0xE000) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              i_ = save;
            }
          }
          if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
          append_utf8(out, cp);
          break;
        }
        default:
          fail("a bad escape");
      }
    }
  }

  int64_t integer() {
    ws();
    const std::size_t start = i_;
    bool neg = false;
    if (i_ < s_.size() && s_[i_] == '-') neg = true, ++i_;
    int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (v > (int64_t{1} << 40)) fail("a vocabulary id out of range");
      v = v * 10 + (s_[i_++] - '0');
    }
    if (i_ == start + (neg ? 1 : 0)) fail("a vocabulary id that is not an integer");
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E'))
      fail("a vocabulary id that is not an integer");
    return neg ? -v : v;
  }

  void skip_value(int depth = 0) {
    if (depth > 512) fail("nesting too deep");
    const char c = peek();
    if (c == '"') {
      skip_string();
    } else if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++i_;
      if (peek() == close) {
        ++i_;
        return;
      }
      while (true) {
        if (c == '{') {
          skip_string();
          expect(':');
        }
        skip_value(depth + 1);
        const char d = peek();
        ++i_;
        if (d == close) return;
        if (d != ',') fail("expected ',' or a closing bracket");
      }
    } else {
      while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' &&
             s_[i_] != '\n' && s_[i_] != '\r' && s_[i_] != '\t')
        ++i_;
    }
  }

  void skip_string() {
    expect('"');
    while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    if (i_ >= s_.size()) fail("an unterminated string");
    ++i_;
  }

  std::string_view s_;
  const std::string& source_;
  std::size_t i_ = 0;
};

}  // namespace

BpeJson extract_bpe_json(std::string_view json, const std::string& source) {
  BpeJson out;
  Reader r(json, source);
  std::string key;
  std::size_t vocab_begin = 0, vocab_end = 0, merges_begin = 0, merges_end = 0;
  bool have_vocab = false, have_merges = false;
  r.expect('{');
  if (r.peek() == '}') return out;
  while (true) {
    r.string(key);
    r.expect(':');
    if (key == "model" && r.peek() == '{') {
      r.expect('{');
      if (r.peek() != '}') {
        while (true) {
          r.string(key);
          r.expect(':');
          if (key == "vocab" && r.peek() == '{') {
            vocab_begin = r.pos();
            r.expect('{');
            std::string token;
            if (r.peek() != '}') {
              while (true) {
                r.string(token);
                r.expect(':');
                out.tokens.push_back(token);
                out.ids.push_back(r.integer());
                if (r.peek() == ',') {
                  r.expect(',');
                  continue;
                }
                break;
              }
            }
            r.expect('}');
            vocab_end = r.pos();
            have_vocab = true;
          } else if (key == "merges" && r.peek() == '[') {
            merges_begin = r.pos();
            r.expect('[');
            std::string a, b;
            if (r.peek() != ']') {
              while (true) {
                if (r.peek() == '"') {
                  r.string(a);
                  const std::size_t space = a.find(' ');
                  // a "a b" merge must have two parts; let the Python loader word the error
                  if (space == std::string::npos || a.find(' ', space + 1) != std::string::npos)
                    return BpeJson{};
                  out.merges.emplace_back(a.substr(0, space), a.substr(space + 1));
                } else {
                  r.expect('[');
                  r.string(a);
                  r.expect(',');
                  r.string(b);
                  if (r.peek() != ']') return BpeJson{};  // not a pair: the Python loader says so
                  r.expect(']');
                  out.merges.emplace_back(a, b);
                }
                if (r.peek() == ',') {
                  r.expect(',');
                  continue;
                }
                break;
              }
            }
            r.expect(']');
            merges_end = r.pos();
            have_merges = true;
          } else {
            r.skip_value();
          }
          if (r.peek() == ',') {
            r.expect(',');
            continue;
          }
          break;
        }
      }
      r.expect('}');
    } else {
      r.skip_value();
    }
    if (r.peek() == ',') {
      r.expect(',');
      continue;
    }
    break;
  }
  r.expect('}');
  if (!have_vocab || !have_merges) return BpeJson{};
  // the rest of the file, with the two values emptied (in file order)
  const bool vocab_first = vocab_begin < merges_begin;
  const std::size_t b1 = vocab_first ? vocab_begin : merges_begin;
  const std::size_t e1 = vocab_first ? vocab_end : merges_end;
  const std::size_t b2 = vocab_first ? merges_begin : vocab_begin;
  const std::size_t e2 = vocab_first ? merges_end : vocab_end;
  out.rest.append(json.substr(0, b1));
  out.rest.append(vocab_first ? "{}" : "[]");
  out.rest.append(json.substr(e1, b2 - e1));
  out.rest.append(vocab_first ? "[]" : "{}");
  out.rest.append(json.substr(e2));
  out.found = true;
  return out;
}

void BpeJson::resolve_merges(const std::string& prefix, const std::string& source,
                             std::vector<uint32_t>& left, std::vector<uint32_t>& right,
                             std::vector<uint32_t>& merged) const {
  VocabMap id_of;
  for (std::size_t i = 0; i < tokens.size(); ++i)
    id_of.insert(tokens[i], static_cast<uint32_t>(ids[i]));  // a repeated key keeps its last id
  const std::size_t n = merges.size();
  left.resize(n);
  right.resize(n);
  merged.resize(n);
  // Blocks of merges on all cores; within a block the three lookups of every merge are hashed
  // and prefetched before any is made (the table is far larger than the caches).
  constexpr std::size_t kBlock = 32;
  parallel_for((n + kBlock - 1) / kBlock, 64, 0, [&](std::size_t lo, std::size_t hi) {
    std::string joined[kBlock];
    uint64_t hashes[kBlock][3];
    for (std::size_t blk = lo; blk < hi; ++blk) {
      const std::size_t first = blk * kBlock, last = std::min(n, first + kBlock);
      for (std::size_t k = first; k < last; ++k) {
        const auto& [a, b] = merges[k];
        std::string& j = joined[k - first];
        j = a;
        if (!prefix.empty() && b.compare(0, prefix.size(), prefix) == 0) {
          j.append(b, prefix.size(), std::string::npos);
        } else {
          j += b;
        }
        uint64_t* h = hashes[k - first];
        h[0] = VocabMap::hash(a);
        h[1] = VocabMap::hash(b);
        h[2] = VocabMap::hash(j);
        for (int t = 0; t < 3; ++t) id_of.prefetch(h[t]);
      }
      for (std::size_t k = first; k < last; ++k) {
        const uint64_t* h = hashes[k - first];
        left[k] = id_of.find(merges[k].first, h[0]);
        right[k] = id_of.find(merges[k].second, h[1]);
        merged[k] = id_of.find(joined[k - first], h[2]);
      }
    }
  });
  for (std::size_t k = 0; k < n; ++k) {  // the first merge with a string not in the vocab
    if (left[k] != VocabMap::kMissing && right[k] != VocabMap::kMissing &&
        merged[k] != VocabMap::kMissing)
      continue;
    const auto& [a, b] = merges[k];
    std::string j = a;
    if (!prefix.empty() && b.compare(0, prefix.size(), prefix) == 0) {
      j.append(b, prefix.size(), std::string::npos);
    } else {
      j += b;
    }
    const std::string& t = left[k] == VocabMap::kMissing    ? a
                           : right[k] == VocabMap::kMissing ? b
                                                            : j;
    throw_error(ErrorKind::Format, source + ": merge " + std::to_string(k) + " ('" + a + " " + b +
                                       "') uses '" + t + "' not in the vocab");
  }
}

}  // namespace ctxengine::hf
