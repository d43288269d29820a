// Sentence-end rules; see sentence.hpp. The Python twin in tests/test_sentences.py follows this
// file rule for rule.
#include "chunking/sentence.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

#include "chunking/text_scan.hpp"

namespace ctxengine::detail {
namespace {

// Abbreviations whose period rarely ends a sentence. Words that often end one ("etc.", "no.")
// are left out on purpose: a missed break costs less than a break inside a sentence.
constexpr std::string_view kAbbreviations[] = {
    "Mr",   "Mrs",  "Ms",   "Mx",   "Dr",  "Prof", "Sr",  "Jr",   "St",   "Mt",  "Rev", "Gen",
    "Col",  "Capt", "Lt",   "Sgt",  "Hon", "Gov",  "Sen", "Rep",  "vs",   "cf",  "al",  "approx",
    "ca",   "viz",  "ibid", "resp", "Inc", "Ltd",  "Co",  "Corp", "Bros", "No",  "Nos", "Nr",
    "Vol",  "vols", "pp",   "p",    "Fig", "Figs", "Eq",  "Eqs",  "eq",   "eqn", "Sec", "Ch",
    "Art",  "Ed",   "eds",  "Ref",  "Jan", "Feb",  "Mar", "Apr",  "Jun",  "Jul", "Aug", "Sep",
    "Sept", "Oct",  "Nov",  "Dec",  "Mon", "Tue",  "Wed", "Thu",  "Fri",  "usw", "bzw",
};

bool is_abbreviation(std::string_view word) {
  if (word.size() > 6) return false;  // longer than any of them ("approx")
  return std::find(std::begin(kAbbreviations), std::end(kAbbreviations), word) !=
         std::end(kAbbreviations);
}

// Closing punctuation that stays with the sentence it closes: quotes and brackets.
bool is_closer(uint32_t cp) {
  switch (cp) {
    case '"':
    case '\'':
    case ')':
    case ']':
    case '}':
    case 0x00BB:  // »
    case 0x203A:  // ›
    case 0x2019:  // ’
    case 0x201D:  // ”
    case 0x300D:  // 」
    case 0x300F:  // 』
    case 0x3009:  // 〉
    case 0x300B:  // 》
    case 0x3011:  // 】
    case 0x3015:  // 〕
    case 0x3017:  // 〗
    case 0x3019:  // 〙
    case 0x301B:  // 〛
    case 0x301E:  // 〞
    case 0x301F:  // 〟
    case 0xFF02:  // ＂
    case 0xFF07:  // ＇
    case 0xFF09:  // ）
    case 0xFF3D:  // ］
    case 0xFF5D:  // ｝
      return true;
    default:
      return false;
  }
}

// "e.g", "U.S", "Ph.D": two or more dot-separated parts of one or two letters each.
bool is_dotted_abbreviation(const TextWindow& w, uint64_t a, uint64_t b) {
  int parts = 0, letters = 0;
  for (uint64_t p = a; p < b;) {
    std::size_t len;
    const uint32_t cp = char_at(w, p, &len);
    p += len;
    if (cp == '.') {
      if (letters == 0) return false;
      ++parts;
      letters = 0;
    } else if (is_letter(cp)) {
      if (++letters > 2) return false;
    } else {
      return false;
    }
  }
  return letters > 0 && parts >= 1;
}

// A number that starts its line ("1. Install", "  12. Run"): a list enumerator, not a sentence.
bool is_line_enumerator(const TextWindow& w, uint64_t a, uint64_t b, uint64_t lo) {
  for (uint64_t p = a; p < b; ++p)
    if (w.at(p) < '0' || w.at(p) > '9') return false;
  uint64_t p = a;
  while (p > lo && (w.at(p - 1) == ' ' || w.at(p - 1) == '\t')) --p;
  if (p == 0) return true;
  if (p == lo) return false;  // the look-behind ran out before the line start
  return w.at(p - 1) == '\n' || w.at(p - 1) == '\r';
}

}  // namespace

TerminatorKind terminator_kind(uint32_t cp) {
  switch (cp) {
    case '.':
      return TerminatorKind::Period;
    case 0x2026:  // …
      return TerminatorKind::Ellipsis;
    case '!':
    case '?':
    case 0x037E:  // Greek question mark
    case 0x0589:  // Armenian full stop
    case 0x061F:  // Arabic question mark
    case 0x06D4:  // Urdu full stop
    case 0x0964:  // Devanagari danda
    case 0x0965:  // double danda
    case 0x104A:  // Myanmar little section
    case 0x104B:  // Myanmar section
    case 0x1362:  // Ethiopic full stop
    case 0x1367:  // Ethiopic question mark
    case 0x1368:  // Ethiopic paragraph separator
    case 0x166E:  // Canadian syllabics full stop
    case 0x17D4:  // Khmer sign khan
    case 0x1803:  // Mongolian full stop
    case 0x1809:  // Manchu full stop
    case 0x203C:  // ‼
    case 0x203D:  // ‽
    case 0x2047:  // ⁇
    case 0x2048:  // ⁈
    case 0x2049:  // ⁉
    case 0xA4FF:  // Lisu punctuation full stop
      return TerminatorKind::Stop;
    case 0x3002:  // 。
    case 0xFF61:  // ｡
    case 0xFF01:  // ！
    case 0xFF1F:  // ？
    case 0xFF0E:  // ．
    case 0xFE12:  // ︒
    case 0xFE52:  // ﹒
    case 0xFE56:  // ﹖
    case 0xFE57:  // ﹗
      return TerminatorKind::Wide;
    default:
      return TerminatorKind::None;
  }
}

SentenceEnd sentence_end_at(const TextWindow& w, uint64_t pos) {
  const uint64_t lim = std::min<uint64_t>(w.end(), pos + kLookahead);
  const bool text_end = w.eof && lim == w.end();
  SentenceEnd out;

  // The terminator run ("?!", "...", "。") and the closing punctuation after it.
  uint64_t q = pos;
  int periods = 0;
  bool stop = false, ellipsis = false;
  std::size_t len;
  while (q < lim) {
    const TerminatorKind kind = terminator_kind(char_at(w, q, &len));
    if (kind == TerminatorKind::None) break;
    periods += kind == TerminatorKind::Period;
    stop |= kind == TerminatorKind::Stop;
    ellipsis |= kind == TerminatorKind::Ellipsis;
    out.wide |= kind == TerminatorKind::Wide;
    q += len;
  }
  while (q < lim && is_closer(char_at(w, q, &len))) q += len;
  out.end = q;
  if (q >= lim) {
    out.is_end = text_end;
    return out;
  }
  if (out.wide) {
    out.is_end = true;
    return out;
  }
  if (!ws_at(w, q, &len)) return out;  // "3.14", "a.b", "!=": no space, no sentence end
  // UAX #29 SB8: no break when the next letter, past spaces, digits and punctuation, is lowercase.
  // UAX #29 applies it after a period only; here after "?" and "!" too, which keeps a quoted
  // question with its sentence ('"Really?" she asked.').
  for (uint64_t t = q; t < lim; t += len) {
    const uint32_t cp = char_at(w, t, &len);
    const GeneralCategory cat = general_category(cp);
    if (is_letter(cat)) {
      if (cat == GeneralCategory::Ll) return out;
      break;
    }
    if (terminator_kind(cp) != TerminatorKind::None) break;
  }
  if (stop || ellipsis || periods > 1) {
    out.is_end = true;
    return out;
  }
  // A single period: look at the word before it (letters, digits and inner periods), within
  // the look-behind; a longer word is no abbreviation.
  const uint64_t lo = pos > kLookbehind ? pos - kLookbehind : 0;
  uint64_t a = pos;
  while (a > 0) {
    const unsigned char c = w.at(a - 1);
    uint64_t prev = a - 1;
    if (c < 0x80) {  // ASCII: letters, digits and '.' belong to the word
      const bool word =
          c == '.' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
      if (!word) break;
    } else {
      prev = prev_char_start(w, a);
      const uint32_t cp = char_at(w, prev, &len);
      if (!(is_letter(cp) || is_number(cp))) break;
    }
    if (prev < lo) {
      out.is_end = true;
      return out;
    }
    a = prev;
  }
  if (a < pos) {
    const std::string_view word(reinterpret_cast<const char*>(w.ptr(a)), pos - a);
    const uint64_t second = a + utf8_length(w.at(a));
    const bool initial =
        second == pos && general_category(char_at(w, a, &len)) == GeneralCategory::Lu;
    if (initial || is_abbreviation(word) || is_dotted_abbreviation(w, a, pos) ||
        is_line_enumerator(w, a, pos, lo))
      return out;
  }
  out.is_end = true;
  return out;
}

}  // namespace ctxengine::detail
