// The scanner of source code, for by="code".
//
// A line boundary is as strong as the line is shallow: the level falls with the nesting depth
// of the line that starts there (indentation for Python and unknown languages, brace depth for
// C-like languages) and rises by one after a blank line. A function's body is deeper than its
// first line and the statement after it, so every boundary inside the function is weaker than
// the ones at its edges, and the chunker keeps the function whole whenever it fits. A comment,
// decorator or attribute line stays with the line after it. Lines that
// continue a statement (inside brackets, strings or block comments, after a backslash, or
// starting with "{", ")", "." ...) get the plain line level. A light lexer skips strings and
// comments so that their brackets do not count.
#include <algorithm>
#include <array>
#include <memory>

#include "chunking/scanner.hpp"
#include "chunking/text_scan.hpp"

namespace ctxengine {
namespace detail {
namespace {

constexpr int kMaxDepth = 15;

// Bytes that can change the lexer's state in code (everything else is skipped in bulk).
constexpr std::array<bool, 256> make_loud() {
  std::array<bool, 256> t{};
  for (unsigned char c : {'\n', '\r', '"', '\'', '`', '(', ')', '[', ']', '{', '}', '#', '/', '\\'})
    t[c] = true;
  return t;
}
constexpr std::array<bool, 256> kLoud = make_loud();
constexpr uint64_t kMaxCharLiteral = 12;  // 'x', '\n', '\u{1F600}': longer is not a literal

uint8_t depth_level(int depth, bool blank_before) {
  const int d = std::min(std::max(depth, 0), kMaxDepth);
  return static_cast<uint8_t>(kLevelParagraph + 2 * (kMaxDepth - d) + (blank_before ? 1 : 0));
}

class CodeScanner final : public BoundaryScanner {
 public:
  explicit CodeScanner(CodeLanguage language) : lang_(language) {}

  void scan(const TextWindow& w, uint64_t limit, std::vector<Boundary>& out) override {
    uint64_t p = pos_;
    while (p < limit) {
      const unsigned char c = w.at(p);
      if (c == '\n' || c == '\r') {
        p += (c == '\r' && p + 1 < w.end() && w.at(p + 1) == '\n') ? 2 : 1;
        end_line(p);
        continue;
      }
      if (at_line_start_) {
        if (c == ' ') {
          ++indent_, ++p;
          continue;
        }
        if (c == '\t' || c == '\f' || c == '\v') {
          indent_ += 4, ++p;
          continue;
        }
        start_line(w, p, out);
      }
      p = skip_quiet(w, p, limit);
      if (p < limit && w.at(p) != '\n' && w.at(p) != '\r') p = lex(w, p);
    }
    // Stop on a character boundary: the lexer steps over bytes, and continuation bytes of a
    // character mean nothing to it.
    while (p < w.end() && is_utf8_continuation(w.at(p))) ++p;
    pos_ = p;
    if (w.eof && pos_ >= w.end()) at_line_start_ = false;
  }

  uint64_t committed() const override { return at_line_start_ ? pending_from_ : pos_; }

 private:
  void end_line(uint64_t next) {
    if (state_ == State::LineComment) state_ = State::Code;
    if (state_ == State::String) state_ = State::Code;  // unterminated: resynchronise
    if (!at_line_start_) {
      pending_from_ = next;
      blank_lines_ = 0;
      continues_ = state_ != State::Code || brackets_ > 0 || backslash_;
      // A comment line, a decorator or an attribute belongs to the line after it.
      attaches_ = !line_code_ || line_first_[0] == '@' ||
                  (lang_ == CodeLanguage::Braces && line_first_[0] == '#' && line_first_[1] == '[');
    } else {
      ++blank_lines_;
    }
    backslash_ = false;
    at_line_start_ = true;
    line_start_ = next;
    indent_ = 0;
  }

  // The first non-blank character of a line is at `p`: emit the boundary at the line start.
  void start_line(const TextWindow& w, uint64_t p, std::vector<Boundary>& out) {
    at_line_start_ = false;
    const unsigned char c = w.at(p);
    line_first_[0] = c;
    line_first_[1] = p + 1 < w.end() ? w.at(p + 1) : 0;
    line_code_ = lang_ == CodeLanguage::Indent;  // unknown languages: every line is code
    if (line_start_ == 0) return;
    uint8_t level = kLevelLine;
    const bool continuation_char =
        lang_ == CodeLanguage::Braces &&
        (c == '{' || c == ')' || c == ']' || c == '.' || c == ',' || c == '?');
    const bool attached = attaches_ && blank_lines_ == 0;
    if (!continues_ && !continuation_char && !attached) {
      int depth;
      if (lang_ == CodeLanguage::Braces) {
        depth = braces_;
      } else {
        int cols = indent_;
        if (lang_ == CodeLanguage::Python && c == '#') cols = next_code_indent(w, p, cols);
        depth = (cols + 1) / 2;
      }
      level = depth_level(depth, blank_lines_ > 0);
    }
    out.push_back(make_boundary(line_start_, level));
  }

  // A comment line belongs with the code after it: the indentation of the next line that is
  // neither blank nor a comment, if one starts within the look-ahead; else `fallback`.
  static int next_code_indent(const TextWindow& w, uint64_t p, int fallback) {
    const uint64_t lim = std::min<uint64_t>(w.end(), p + kLookahead);
    bool line_start = false;
    int cols = 0;
    for (; p < lim; ++p) {
      const unsigned char c = w.at(p);
      if (c == '\n' || c == '\r') {
        line_start = true;
        cols = 0;
      } else if (line_start && c == ' ') {
        ++cols;
      } else if (line_start && c == '\t') {
        cols += 4;
      } else if (line_start) {
        if (c != '#') return cols;
        line_start = false;
      }
    }
    return fallback;
  }

  // Skips bytes that cannot change the lexer's state: in code, anything but line breaks,
  // quotes, brackets, '#', '/' and '\\'; in a line comment (or a language without lexing),
  // everything up to the line break.
  uint64_t skip_quiet(const TextWindow& w, uint64_t p, uint64_t limit) {
    if (state_ == State::LineComment || lang_ == CodeLanguage::Indent) {
      const uint64_t eol = line_end(w, p, limit - p);
      return eol == kNoLineEnd ? limit : std::min(eol, limit);
    }
    if (state_ != State::Code) return p;
    const unsigned char* s = w.ptr(p);
    const unsigned char* e = w.ptr(limit);
    const unsigned char* q = s;
    while (q < e && !kLoud[*q]) ++q;
    if (q == s) return p;
    backslash_ = false;
    for (const unsigned char* r = s; r < q && !line_code_; ++r)
      if (*r != ' ' && *r != '\t') line_code_ = true;
    return p + static_cast<uint64_t>(q - s);
  }

  // Advances over one lexical step at `p` (not a line break) and returns the next offset.
  uint64_t lex(const TextWindow& w, uint64_t p) {
    const unsigned char c = w.at(p);
    backslash_ = false;
    switch (state_) {
      case State::LineComment:
        return p + 1;
      case State::BlockComment:
        if (c == '*' && p + 1 < w.end() && w.at(p + 1) == '/') {
          state_ = State::Code;
          return p + 2;
        }
        return p + 1;
      case State::String:
      case State::LongString:
        line_code_ = true;  // a string is code (only comments are not)
        if (c == '\\') {
          const uint64_t q = p + 1;
          // An escaped line break stays inside the string; let the line logic see it.
          return q < w.end() && w.at(q) != '\n' && w.at(q) != '\r' ? q + 1 : q;
        }
        if (c == quote_) {
          if (state_ == State::String) {
            state_ = State::Code;
            return p + 1;
          }
          if (quote_len_ == 1 || (p + 2 < w.end() && w.at(p + 1) == c && w.at(p + 2) == c)) {
            state_ = State::Code;
            return p + quote_len_;
          }
        }
        return p + 1;
      case State::Code:
        break;
    }
    if (lang_ == CodeLanguage::Indent) return p + 1;
    const bool comment = (lang_ == CodeLanguage::Python && c == '#') ||
                         (lang_ == CodeLanguage::Braces && c == '/' && p + 1 < w.end() &&
                          (w.at(p + 1) == '/' || w.at(p + 1) == '*'));
    if (!comment && c != ' ' && c != '\t') line_code_ = true;
    switch (c) {
      case '\\':
        backslash_ = true;
        return p + 1;
      case '(':
      case '[':
        ++brackets_;
        return p + 1;
      case ')':
      case ']':
        brackets_ = std::max(brackets_ - 1, 0);
        return p + 1;
      case '{':
        if (lang_ == CodeLanguage::Braces)
          ++braces_;
        else
          ++brackets_;
        return p + 1;
      case '}':
        if (lang_ == CodeLanguage::Braces)
          braces_ = std::max(braces_ - 1, 0);
        else
          brackets_ = std::max(brackets_ - 1, 0);
        return p + 1;
      case '#':
        if (lang_ == CodeLanguage::Python) state_ = State::LineComment;
        return p + 1;
      case '/':
        if (lang_ == CodeLanguage::Braces && p + 1 < w.end()) {
          if (w.at(p + 1) == '/') state_ = State::LineComment;
          if (w.at(p + 1) == '*') {
            state_ = State::BlockComment;
            return p + 2;
          }
        }
        return p + 1;
      case '"':
      case '\'':
      case '`':
        return open_string(w, p, c);
      default:
        return p + 1;
    }
  }

  uint64_t open_string(const TextWindow& w, uint64_t p, unsigned char c) {
    if (lang_ == CodeLanguage::Python) {
      if (c == '`') return p + 1;
      const bool triple = p + 2 < w.end() && w.at(p + 1) == c && w.at(p + 2) == c;
      state_ = triple ? State::LongString : State::String;
      quote_ = c;
      quote_len_ = triple ? 3 : 1;
      return p + quote_len_;
    }
    if (c == '`') {  // JavaScript templates and Go raw strings span lines
      state_ = State::LongString;
      quote_ = c;
      quote_len_ = 1;
      return p + 1;
    }
    if (c == '\'') {  // a char literal only if it closes soon ('a' in Rust is a lifetime)
      const uint64_t lim = std::min<uint64_t>(w.end(), p + kMaxCharLiteral);
      for (uint64_t q = p + 1; q < lim; ++q) {
        const unsigned char d = w.at(q);
        if (d == '\\') {
          ++q;
          continue;
        }
        if (d == '\'') return q + 1;
        if (d == '\n' || d == '\r') break;
      }
      return p + 1;
    }
    state_ = State::String;
    quote_ = c;
    quote_len_ = 1;
    return p + 1;
  }

  enum class State : uint8_t { Code, LineComment, BlockComment, String, LongString };

  CodeLanguage lang_;
  uint64_t pos_ = 0;
  State state_ = State::Code;
  unsigned char quote_ = 0;
  uint64_t quote_len_ = 1;
  int brackets_ = 0;  // open ( and [ (and { in Python)
  int braces_ = 0;    // open { in C-like languages
  bool backslash_ = false;
  bool at_line_start_ = true;             // in the leading blanks of a line
  bool continues_ = false;                // the current line continues the previous statement
  bool line_code_ = false;                // the current line has code outside comments
  bool attaches_ = false;                 // the last non-blank line belongs with the next one
  unsigned char line_first_[2] = {0, 0};  // the current line's first two non-blank bytes
  uint64_t line_start_ = 0;
  uint64_t pending_from_ = 0;  // where the next line boundary may be, at the earliest
  int indent_ = 0;
  int blank_lines_ = 0;
};

}  // namespace

std::unique_ptr<BoundaryScanner> make_code_scanner(CodeLanguage language) {
  return std::make_unique<CodeScanner>(language);
}

}  // namespace detail
}  // namespace ctxengine
