// Word segmentation over Unicode categories (csrc/text/unicode.hpp), CJK unigrams/bigrams, stop
// words and the S-stemmer. ASCII takes a table-driven fast path; everything else is decoded.
#include "index/analyzer.hpp"

#include <algorithm>
#include <array>

#include "text/unicode.hpp"
#include "text/utf8.hpp"

namespace ctxengine {
namespace {

// ASCII word characters: [0-9A-Za-z_] (what \w matches in ASCII).
constexpr std::array<bool, 128> make_ascii_word() {
  std::array<bool, 128> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  t['_'] = true;
  return t;
}
constexpr std::array<bool, 128> kAsciiWord = make_ascii_word();

enum class CharClass : uint8_t { Other, Word, Mark, Cjk };

// Decodes one code point at s[i] (n bytes in all); invalid or truncated sequences decode as a
// one-byte "Other" so that bad bytes separate words instead of failing the whole document.
inline std::size_t decode(const unsigned char* s, std::size_t i, std::size_t n, uint32_t* cp) {
  const unsigned char c = s[i];
  auto cont = [&](std::size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF && cont(1)) {
    *cp = ((c & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    const uint32_t v = ((c & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
    if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {
      *cp = v;
      return 3;
    }
  } else if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    const uint32_t v = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) |
                       ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
    if (v >= 0x10000 && v <= 0x10FFFF) {
      *cp = v;
      return 4;
    }
  }
  *cp = 0xFFFFFFFFu;  // not a character
  return 1;
}

inline CharClass classify(uint32_t cp) {
  if (cp < 0x80) return kAsciiWord[cp] ? CharClass::Word : CharClass::Other;
  if (cp == 0xFFFFFFFFu) return CharClass::Other;
  if (is_cjk_character(cp)) return CharClass::Cjk;
  const GeneralCategory g = general_category(cp);
  if (is_letter(g) || is_number(g) || g == GeneralCategory::Pc) return CharClass::Word;
  if (is_mark(g)) return CharClass::Mark;
  return CharClass::Other;
}

// Closes the term that starts at out.bytes[begin]: applies the length limit, stop words and the
// stemmer, then records it (or drops it).
void finish_term(TermBuffer& out, std::size_t begin, bool ascii, const AnalyzerOptions& o,
                 bool word = true) {
  std::size_t len = out.bytes.size() - begin;
  if (len == 0 || len > o.max_term_bytes) {
    out.bytes.resize(begin);
    return;
  }
  if (word && o.min_word_chars > 1) {
    // Code points: every byte that is not a UTF-8 continuation byte starts one.
    std::size_t chars = 0;
    bool digit = false;
    for (std::size_t i = begin; i < out.bytes.size() && chars < o.min_word_chars; ++i) {
      const auto c = static_cast<unsigned char>(out.bytes[i]);
      chars += (c & 0xC0) != 0x80;
      digit = digit || (c >= '0' && c <= '9');
    }
    if (chars < o.min_word_chars && !digit) {
      out.bytes.resize(begin);
      return;
    }
  }
  if (o.stop_words && is_english_stop_word(std::string_view(out.bytes).substr(begin))) {
    out.bytes.resize(begin);
    return;
  }
  if (o.stem && ascii) {
    len = s_stem(out.bytes.data() + begin, len);
    out.bytes.resize(begin + len);
  }
  out.ends.push_back(static_cast<uint32_t>(out.bytes.size()));
}

}  // namespace

bool is_cjk_character(uint32_t cp) noexcept {
  return (cp >= 0x4E00 && cp <= 0x9FFF) ||    // CJK Unified Ideographs
         (cp >= 0x3400 && cp <= 0x4DBF) ||    // Extension A
         (cp >= 0x20000 && cp <= 0x323AF) ||  // Extensions B-H
         (cp >= 0xF900 && cp <= 0xFAFF) ||    // Compatibility Ideographs
         (cp >= 0x3040 && cp <= 0x309F) ||    // Hiragana
         (cp >= 0x30A0 && cp <= 0x30FF) ||    // Katakana
         (cp >= 0x31F0 && cp <= 0x31FF) ||    // Katakana Phonetic Extensions
         (cp >= 0xFF66 && cp <= 0xFF9D) ||    // Halfwidth Katakana
         cp == 0x3005 || cp == 0x3007;        // 々 and 〇
}

std::size_t s_stem(char* w, std::size_t n) noexcept {
  // Harman, "How effective is suffixing?" (JASIS 1991): only the first rule whose suffix matches
  // is considered, and a rule whose exception applies leaves the word alone (as Lucene's
  // EnglishMinimalStemmer reads it).
  if (n < 4 || w[n - 1] != 's') return n;
  const char c2 = w[n - 2];
  if (c2 == 'e' && w[n - 3] == 'i') {  // -ies
    if (w[n - 4] == 'e' || w[n - 4] == 'a') return n;
    w[n - 3] = 'y';
    return n - 2;
  }
  if (c2 == 'e') {  // -es
    const char c3 = w[n - 3];
    return (c3 == 'a' || c3 == 'e' || c3 == 'o') ? n : n - 1;
  }
  if (c2 == 'u' || c2 == 's') return n;
  return n - 1;
}

const std::vector<std::string_view>& english_stop_words() {
  static const std::vector<std::string_view> words = {
      "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
      "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
      "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};
  return words;
}

bool is_english_stop_word(std::string_view term) noexcept {
  if (term.size() > 5) return false;
  const auto& words = english_stop_words();
  return std::binary_search(words.begin(), words.end(), term);
}

void analyze(std::string_view text, const AnalyzerOptions& o, TermBuffer& out) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  // CJK state: the previous CJK character's bytes (for bigrams) and whether one is pending.
  std::string prev_cjk;
  bool prev_emitted_bigram = false;
  auto flush_cjk = [&]() {
    // A run of one character emits it as a unigram; longer runs already emitted their bigrams.
    if (!prev_cjk.empty() && !prev_emitted_bigram) {
      const std::size_t begin = out.bytes.size();
      out.bytes += prev_cjk;
      finish_term(out, begin, false, o, false);
    }
    prev_cjk.clear();
    prev_emitted_bigram = false;
  };
  while (i < n) {
    // Fast path: skip ASCII separators.
    if (s[i] < 0x80 && !kAsciiWord[s[i]]) {
      if (!prev_cjk.empty()) flush_cjk();
      ++i;
      continue;
    }
    uint32_t cp;
    std::size_t len = decode(s, i, n, &cp);
    CharClass cls = classify(cp);
    if (cls == CharClass::Cjk) {
      // One CJK character plus the marks that follow it (e.g. the kana voicing marks U+3099).
      std::string ch;
      append_utf8(ch, o.lowercase ? to_lower(cp) : cp);
      i += len;
      while (i < n) {
        uint32_t next;
        const std::size_t l = decode(s, i, n, &next);
        if (classify(next) != CharClass::Mark) break;
        append_utf8(ch, next);
        i += l;
      }
      if (o.cjk == CjkMode::Unigrams) {
        const std::size_t begin = out.bytes.size();
        out.bytes += ch;
        finish_term(out, begin, false, o, false);
      } else {
        if (!prev_cjk.empty()) {
          const std::size_t begin = out.bytes.size();
          out.bytes += prev_cjk;
          out.bytes += ch;
          finish_term(out, begin, false, o, false);
          prev_emitted_bigram = true;
        }
        prev_cjk.swap(ch);
      }
      continue;
    }
    if (cls != CharClass::Word) {  // a lone mark or other separator
      if (!prev_cjk.empty()) flush_cjk();
      i += len;
      continue;
    }
    if (!prev_cjk.empty()) flush_cjk();
    // A word: word characters and marks, until a separator or a CJK character.
    const std::size_t begin = out.bytes.size();
    bool ascii = true;
    while (i < n) {
      const unsigned char c = s[i];
      if (c < 0x80) {
        if (!kAsciiWord[c]) break;
        out.bytes.push_back(static_cast<char>(o.lowercase && c >= 'A' && c <= 'Z' ? c + 32 : c));
        ++i;
        continue;
      }
      len = decode(s, i, n, &cp);
      cls = classify(cp);
      if (cls != CharClass::Word && cls != CharClass::Mark) break;
      ascii = false;
      append_utf8(out.bytes, o.lowercase ? to_lower(cp) : cp);
      i += len;
    }
    finish_term(out, begin, ascii, o);
  }
  flush_cjk();
}

}  // namespace ctxengine
