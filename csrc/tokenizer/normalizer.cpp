// Each step rewrites the code point vector in one pass, carrying every code point's original
// byte range along. The semantics follow HF tokenizers' NormalizedString operations: filter,
// map and transform per character, and normalization forms computed over the whole string.
#include "tokenizer/normalizer.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "text/utf8.hpp"
#include "tokenizer/hf_unicode.hpp"

namespace ctxengine::hf {
namespace {

// Builds the next version of the text; push() keeps the source range of the input code point.
struct Rewriter {
  NormalizedText out;
  explicit Rewriter(std::size_t reserve) {
    out.cps.reserve(reserve);
    out.begin.reserve(reserve);
    out.end.reserve(reserve);
  }
  void push(uint32_t cp, uint32_t b, uint32_t e) {
    out.cps.push_back(cp);
    out.begin.push_back(b);
    out.end.push_back(e);
  }
};

void apply_bert(const NormalizerStep& s, NormalizedText& t) {
  Rewriter r(t.size() + t.size() / 4);
  std::vector<uint32_t> buf;
  for (std::size_t i = 0; i < t.size(); ++i) {
    uint32_t cp = t.cps[i];
    const uint32_t b = t.begin[i], e = t.end[i];
    if (s.clean_text) {
      if (flags(cp) & kBertDrop) continue;
      if (is_whitespace(cp)) cp = ' ';
    }
    if (s.handle_chinese_chars && is_chinese_char(cp)) {
      r.push(' ', b, e);
      r.push(cp, b, e);
      r.push(' ', b, e);
    } else {
      r.push(cp, b, e);
    }
  }
  t = std::move(r.out);
}

void apply_filter(NormalizedText& t, uint8_t drop_flag) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (flags(t.cps[i]) & drop_flag) continue;
    t.cps[w] = t.cps[i];
    t.begin[w] = t.begin[i];
    t.end[w] = t.end[i];
    ++w;
  }
  t.cps.resize(w);
  t.begin.resize(w);
  t.end.resize(w);
}

void apply_lowercase(NormalizedText& t) {
  bool simple = true;
  for (uint32_t cp : t.cps) simple &= cp < 0x80;
  if (simple) {
    for (uint32_t& cp : t.cps) cp = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return;
  }
  Rewriter r(t.size() + 8);
  std::vector<uint32_t> buf;
  for (std::size_t i = 0; i < t.size(); ++i) {
    buf.clear();
    to_lower(t.cps[i], buf);
    for (uint32_t cp : buf) r.push(cp, t.begin[i], t.end[i]);
  }
  t = std::move(r.out);
}

// Canonical ordering: stable sort of each run of non-starters by combining class.
void canonical_order(NormalizedText& t) {
  const std::size_t n = t.size();
  std::size_t i = 0;
  while (i < n) {
    if (combining_class(t.cps[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && combining_class(t.cps[j]) != 0) ++j;
    if (j - i > 1) {
      struct Item {
        uint8_t ccc;
        uint32_t cp, b, e;
      };
      std::vector<Item> run;
      run.reserve(j - i);
      for (std::size_t k = i; k < j; ++k) {
        run.push_back({combining_class(t.cps[k]), t.cps[k], t.begin[k], t.end[k]});
      }
      std::stable_sort(run.begin(), run.end(),
                       [](const Item& a, const Item& b) { return a.ccc < b.ccc; });
      for (std::size_t k = i; k < j; ++k) {
        t.cps[k] = run[k - i].cp;
        t.begin[k] = run[k - i].b;
        t.end[k] = run[k - i].e;
      }
    }
    i = j;
  }
}

void decompose_all(NormalizedText& t, bool compat) {
  bool ascii = true;
  for (uint32_t cp : t.cps) ascii &= cp < 0xA0;
  if (ascii) return;
  Rewriter r(t.size() + 8);
  std::vector<uint32_t> buf;
  for (std::size_t i = 0; i < t.size(); ++i) {
    buf.clear();
    decompose(t.cps[i], compat, buf);
    for (uint32_t cp : buf) r.push(cp, t.begin[i], t.end[i]);
  }
  t = std::move(r.out);
  canonical_order(t);
}

// Canonical composition (UAX #15): a character joins the last starter unless a character in
// between is a starter or has a combining class >= its own.
void compose_all(NormalizedText& t) {
  NormalizedText& s = t;
  std::size_t w = 0;
  std::ptrdiff_t starter = -1;
  uint8_t last_ccc = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const uint32_t cp = s.cps[i];
    const uint8_t ccc = combining_class(cp);
    if (starter >= 0) {
      const bool adjacent = static_cast<std::size_t>(starter) + 1 == w;
      if (adjacent || (last_ccc != 0 && last_ccc < ccc)) {
        const uint32_t composite = compose(s.cps[starter], cp);
        if (composite != 0) {
          s.cps[starter] = composite;
          s.begin[starter] = std::min(s.begin[starter], s.begin[i]);
          s.end[starter] = std::max(s.end[starter], s.end[i]);
          continue;
        }
      }
    }
    if (ccc == 0) starter = static_cast<std::ptrdiff_t>(w);
    last_ccc = ccc;
    s.cps[w] = cp;
    s.begin[w] = s.begin[i];
    s.end[w] = s.end[i];
    ++w;
  }
  s.cps.resize(w);
  s.begin.resize(w);
  s.end.resize(w);
}

void apply_strip(const NormalizerStep& s, NormalizedText& t) {
  std::size_t lo = 0, hi = t.size();
  if (s.left) {
    while (lo < hi && is_whitespace(t.cps[lo])) ++lo;
  }
  if (s.right) {
    while (hi > lo && is_whitespace(t.cps[hi - 1])) --hi;
  }
  if (lo == 0 && hi == t.size()) return;
  t.cps.assign(t.cps.begin() + lo, t.cps.begin() + hi);
  t.begin.assign(t.begin.begin() + lo, t.begin.begin() + hi);
  t.end.assign(t.end.begin() + lo, t.end.begin() + hi);
}

// Non-overlapping occurrences of a literal pattern, left to right (as str::replace); the
// replacement's code points take the source range of the whole match.
void apply_replace(const NormalizerStep& s, NormalizedText& t) {
  const auto& p = s.pattern;
  if (p.empty() || t.size() < p.size()) return;
  Rewriter r(t.size());
  std::size_t i = 0;
  while (i < t.size()) {
    if (i + p.size() <= t.size() && std::equal(p.begin(), p.end(), t.cps.begin() + i)) {
      const uint32_t b = t.begin[i], e = t.end[i + p.size() - 1];
      for (uint32_t cp : s.content) r.push(cp, b, e);
      i += p.size();
    } else {
      r.push(t.cps[i], t.begin[i], t.end[i]);
      ++i;
    }
  }
  t = std::move(r.out);
}

void apply_prepend(const NormalizerStep& s, NormalizedText& t) {
  if (t.size() == 0 || s.content.empty()) return;
  Rewriter r(t.size() + s.content.size());
  const uint32_t b = t.begin[0];
  for (uint32_t cp : s.content) r.push(cp, b, b);
  for (std::size_t i = 0; i < t.size(); ++i) r.push(t.cps[i], t.begin[i], t.end[i]);
  t = std::move(r.out);
}

}  // namespace

std::vector<uint32_t> code_points_of(std::string_view utf8) {
  std::vector<uint32_t> out;
  const auto* s = reinterpret_cast<const unsigned char*>(utf8.data());
  for (std::size_t i = 0; i < utf8.size();) {
    uint32_t cp;
    i += decode_utf8(s, i, &cp);
    out.push_back(cp);
  }
  return out;
}

void NormalizedText::assign(std::string_view text, std::size_t offset) {
  cps.clear();
  begin.clear();
  end.clear();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  while (i < text.size()) {
    uint32_t cp;
    const std::size_t len = decode_utf8(s, i, &cp);
    cps.push_back(cp);
    begin.push_back(static_cast<uint32_t>(offset + i));
    end.push_back(static_cast<uint32_t>(offset + i + len));
    i += len;
  }
}

void NormalizedText::append_utf8(std::string& out, std::vector<uint32_t>* byte_cp) const {
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const std::size_t before = out.size();
    ctxengine::append_utf8(out, cps[i]);
    if (byte_cp != nullptr) byte_cp->insert(byte_cp->end(), out.size() - before, i);
  }
}

void Normalizer::apply(NormalizedText& t) const {
  using Kind = NormalizerStep::Kind;
  for (const NormalizerStep& s : steps_) {
    switch (s.kind) {
      case Kind::Bert:
        apply_bert(s, t);
        if (s.strip_accents) {
          decompose_all(t, false);
          apply_filter(t, kBertMn);
        }
        if (s.lowercase) apply_lowercase(t);
        break;
      case Kind::Lowercase:
        apply_lowercase(t);
        break;
      case Kind::Nfd:
        decompose_all(t, false);
        break;
      case Kind::Nfkd:
        decompose_all(t, true);
        break;
      case Kind::Nfc:
        decompose_all(t, false);
        compose_all(t);
        break;
      case Kind::Nfkc:
        decompose_all(t, true);
        compose_all(t);
        break;
      case Kind::StripAccents:
        apply_filter(t, kMark);
        break;
      case Kind::Strip:
        apply_strip(s, t);
        break;
      case Kind::Replace:
        apply_replace(s, t);
        break;
      case Kind::Prepend:
        apply_prepend(s, t);
        break;
    }
  }
}

bool Normalizer::apply_stable(std::string_view utf8, std::string& out) const {
  using Kind = NormalizerStep::Kind;
  bool nfd = false;  // NFD also splits Hangul syllables, which NFC puts back together
  for (const NormalizerStep& st : steps_) {
    if (st.kind != Kind::Nfc && st.kind != Kind::Nfd) return false;
    nfd = nfd || st.kind == Kind::Nfd;
  }
  const auto* s = reinterpret_cast<const unsigned char*>(utf8.data());
  for (std::size_t i = 0; i < utf8.size();) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    uint32_t cp;
    i += decode_utf8(s, i, &cp);
    if (!composition_stable(cp) || (nfd && cp >= 0xAC00 && cp < 0xAC00 + 11172)) return false;
  }
  out.append(utf8);
  return true;
}

bool Normalizer::apply_ascii(std::string_view ascii, std::string& out) const {
  using Kind = NormalizerStep::Kind;
  auto is_ascii = [](const std::vector<uint32_t>& cps) {
    return std::all_of(cps.begin(), cps.end(), [](uint32_t c) { return c < 0x80; });
  };
  for (const NormalizerStep& st : steps_) {
    if ((st.kind == Kind::Replace || st.kind == Kind::Prepend) &&
        !(is_ascii(st.pattern) && is_ascii(st.content))) {
      return false;
    }
  }
  std::string t(ascii);
  auto lower = [](std::string& x) {
    for (char& c : x) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  };
  for (const NormalizerStep& st : steps_) {
    switch (st.kind) {
      case Kind::Bert:
        // No Chinese characters, accents or multi-character lowercase in ASCII.
        if (st.clean_text) {
          std::size_t w = 0;
          for (char c : t) {
            const auto u = static_cast<unsigned char>(c);
            if (flags(u) & kBertDrop) continue;
            t[w++] = is_whitespace(u) ? ' ' : c;
          }
          t.resize(w);
        }
        if (st.lowercase) lower(t);
        break;
      case Kind::Lowercase:
        lower(t);
        break;
      case Kind::Strip: {
        std::size_t lo = 0, hi = t.size();
        while (st.left && lo < hi && is_whitespace(static_cast<unsigned char>(t[lo]))) ++lo;
        while (st.right && hi > lo && is_whitespace(static_cast<unsigned char>(t[hi - 1]))) --hi;
        t = t.substr(lo, hi - lo);
        break;
      }
      case Kind::Replace: {
        std::string from, to, r;
        for (uint32_t c : st.pattern) from.push_back(static_cast<char>(c));
        for (uint32_t c : st.content) to.push_back(static_cast<char>(c));
        if (from.empty()) break;
        std::size_t pos = 0;
        for (std::size_t hit; (hit = t.find(from, pos)) != std::string::npos;) {
          r.append(t, pos, hit - pos);
          r += to;
          pos = hit + from.size();
        }
        r.append(t, pos, std::string::npos);
        t = std::move(r);
        break;
      }
      case Kind::Prepend:
        if (!t.empty()) {
          std::string p;
          for (uint32_t c : st.content) p.push_back(static_cast<char>(c));
          t.insert(0, p);
        }
        break;
      case Kind::Nfd:
      case Kind::Nfkd:
      case Kind::Nfc:
      case Kind::Nfkc:
      case Kind::StripAccents:
        break;  // the identity on ASCII
    }
  }
  out += t;
  return true;
}

std::string Normalizer::apply(std::string_view utf8) const {
  CTX_REQUIRE(find_invalid_utf8(utf8) == npos, "text is not valid UTF-8");
  NormalizedText t;
  t.assign(utf8, 0);
  apply(t);
  std::string out;
  t.append_utf8(out);
  return out;
}

}  // namespace ctxengine::hf
