// Recursive descent over the pattern's code points. Flags ((?i)) are parser state saved and
// restored at group boundaries, as the reference engines scope them.
#include "tokenizer/regex_parse.hpp"

#include <string>

#include "common/error.hpp"
#include "text/utf8.hpp"

namespace ctxengine::rx {
namespace {

constexpr int kMaxDepth = 256;

std::u32string decode_pattern(std::string_view pattern) {
  const std::size_t bad = find_invalid_utf8(pattern);
  if (bad != npos)
    throw_error(ErrorKind::Format,
                "the pre-tokenizer pattern is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  std::u32string out;
  const auto* s = reinterpret_cast<const unsigned char*>(pattern.data());
  for (std::size_t i = 0; i < pattern.size();) {
    uint32_t cp;
    i += decode_utf8(s, i, &cp);
    out.push_back(cp);
  }
  return out;
}

std::string utf8_of(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

// General category masks by the names \p{..} accepts (short and long forms).
bool category_mask(std::string_view name, uint32_t* mask) {
  using G = GeneralCategory;
  auto bit = [](G g) { return 1u << static_cast<int>(g); };
  auto bits = [&](G lo, G hi) {
    uint32_t m = 0;
    for (int g = static_cast<int>(lo); g <= static_cast<int>(hi); ++g) m |= 1u << g;
    return m;
  };
  struct Entry {
    std::string_view a, b;
    uint32_t m;
  };
  const Entry table[] = {
      {"L", "Letter", bits(G::Lu, G::Lo)},
      {"LC", "Cased_Letter", bit(G::Lu) | bit(G::Ll) | bit(G::Lt)},
      {"L&", "L&", bit(G::Lu) | bit(G::Ll) | bit(G::Lt)},
      {"Lu", "Uppercase_Letter", bit(G::Lu)},
      {"Ll", "Lowercase_Letter", bit(G::Ll)},
      {"Lt", "Titlecase_Letter", bit(G::Lt)},
      {"Lm", "Modifier_Letter", bit(G::Lm)},
      {"Lo", "Other_Letter", bit(G::Lo)},
      {"M", "Mark", bits(G::Mn, G::Me)},
      {"Mn", "Nonspacing_Mark", bit(G::Mn)},
      {"Mc", "Spacing_Mark", bit(G::Mc)},
      {"Me", "Enclosing_Mark", bit(G::Me)},
      {"N", "Number", bits(G::Nd, G::No)},
      {"Nd", "Decimal_Number", bit(G::Nd)},
      {"Nl", "Letter_Number", bit(G::Nl)},
      {"No", "Other_Number", bit(G::No)},
      {"P", "Punctuation", bits(G::Pc, G::Po)},
      {"Pc", "Connector_Punctuation", bit(G::Pc)},
      {"Pd", "Dash_Punctuation", bit(G::Pd)},
      {"Ps", "Open_Punctuation", bit(G::Ps)},
      {"Pe", "Close_Punctuation", bit(G::Pe)},
      {"Pi", "Initial_Punctuation", bit(G::Pi)},
      {"Pf", "Final_Punctuation", bit(G::Pf)},
      {"Po", "Other_Punctuation", bit(G::Po)},
      {"S", "Symbol", bits(G::Sm, G::So)},
      {"Sm", "Math_Symbol", bit(G::Sm)},
      {"Sc", "Currency_Symbol", bit(G::Sc)},
      {"Sk", "Modifier_Symbol", bit(G::Sk)},
      {"So", "Other_Symbol", bit(G::So)},
      {"Z", "Separator", bits(G::Zs, G::Zp)},
      {"Zs", "Space_Separator", bit(G::Zs)},
      {"Zl", "Line_Separator", bit(G::Zl)},
      {"Zp", "Paragraph_Separator", bit(G::Zp)},
      {"C", "Other", bits(G::Cc, G::Cn)},
      {"Cc", "Control", bit(G::Cc)},
      {"Cf", "Format", bit(G::Cf)},
      {"Cs", "Surrogate", bit(G::Cs)},
      {"Co", "Private_Use", bit(G::Co)},
      {"Cn", "Unassigned", bit(G::Cn)},
  };
  for (const Entry& e : table) {
    if (name == e.a || name == e.b) {
      *mask = e.m;
      return true;
    }
  }
  return false;
}

class Parser {
 public:
  Parser(std::u32string text, Flavor flavor) : p_(std::move(text)) { ast_.flavor = flavor; }

  Ast run() {
    ast_.word = word_set();
    ast_.root = parse_alt(0);
    if (i_ < p_.size()) fail_format("unmatched ')'");
    return std::move(ast_);
  }

 private:
  // ---- errors -------------------------------------------------------------------------------
  [[noreturn]] void fail_format(const std::string& what) const {
    throw_error(ErrorKind::Format, "malformed pre-tokenizer pattern: " + what + " at character " +
                                       std::to_string(i_) + " of " + quoted());
  }
  [[noreturn]] void unsupported(const std::string& construct) const {
    throw_error(ErrorKind::Unsupported,
                "the pre-tokenizer pattern uses " + construct + " at character " +
                    std::to_string(i_) +
                    ", which ctxengine's regex compiler does not support: " + quoted());
  }
  std::string quoted() const {
    std::string s = utf8_of(p_);
    if (s.size() > 200) s = s.substr(0, 200) + "...";
    return "'" + s + "'";
  }

  // ---- helpers ------------------------------------------------------------------------------
  bool at_end() const { return i_ >= p_.size(); }
  char32_t peek(std::size_t k = 0) const { return i_ + k < p_.size() ? p_[i_ + k] : 0; }
  bool eat(char32_t c) {
    if (peek() == c && !at_end()) {
      ++i_;
      return true;
    }
    return false;
  }
  int add(Node n) {
    ast_.nodes.push_back(std::move(n));
    return static_cast<int>(ast_.nodes.size()) - 1;
  }
  int set_node(CharSet s) {
    Node n;
    n.kind = Node::Kind::Set;
    n.set = std::move(s);
    return add(std::move(n));
  }
  bool onig() const { return ast_.flavor == Flavor::Oniguruma; }

  CharSet word_set() const {
    CharSet w = alphabetic_set();
    const uint32_t mark = (1u << static_cast<int>(GeneralCategory::Mn)) |
                          (1u << static_cast<int>(GeneralCategory::Mc)) |
                          (1u << static_cast<int>(GeneralCategory::Me)) |
                          (1u << static_cast<int>(GeneralCategory::Nd)) |
                          (1u << static_cast<int>(GeneralCategory::Pc));
    w.add(category_set(mark));
    if (!onig()) {
      w.add(join_control_set());
    } else {
      // Oniguruma classifies code points below 256 by its ISO-8859-1 table, whose word
      // characters include the superscripts and fractions (No).
      for (uint32_t cp : {0xB2u, 0xB3u, 0xB9u, 0xBCu, 0xBDu, 0xBEu}) w.add(cp, cp);
    }
    return w;
  }

  // ---- grammar ------------------------------------------------------------------------------
  int parse_alt(int depth) {
    if (depth > kMaxDepth)
      throw_error(ErrorKind::Limit, "the pre-tokenizer pattern nests groups more than " +
                                        std::to_string(kMaxDepth) + " deep: " + quoted());
    std::vector<int> alts{parse_concat(depth)};
    while (eat('|')) alts.push_back(parse_concat(depth));
    if (alts.size() == 1) return alts[0];
    Node n;
    n.kind = Node::Kind::Alt;
    n.kids = std::move(alts);
    return add(std::move(n));
  }

  int parse_concat(int depth) {
    Node n;
    n.kind = Node::Kind::Concat;
    while (!at_end() && peek() != '|' && peek() != ')') {
      last_literal_ = false;
      int atom = parse_atom(depth);
      if (!last_literal_) ci_run_.clear();
      if (atom < 0) continue;  // a flag group or comment
      atom = parse_quantifiers(atom);
      n.kids.push_back(atom);
    }
    if (n.kids.size() == 1) return n.kids[0];
    return add(std::move(n));
  }

  bool parse_count(uint32_t* out) {
    std::size_t start = i_;
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9' && !at_end()) {
      v = v * 10 + (peek() - '0');
      if (v > 0xFFFFFFFFull) v = 0xFFFFFFFFull;
      ++i_;
    }
    if (i_ == start) return false;
    if (v > kMaxRepeat)
      throw_error(ErrorKind::Limit, "the pre-tokenizer pattern repeats " + std::to_string(v) +
                                        " times at character " + std::to_string(start) +
                                        ", over the limit of " + std::to_string(kMaxRepeat) +
                                        " (Oniguruma's): " + quoted());
    *out = static_cast<uint32_t>(v);
    return true;
  }

  // A {m}, {m,}, {m,n} or {,n} quantifier at i_ (on '{'); false (i_ unchanged) when the brace
  // does not start one, in which case it is a literal '{' as in Oniguruma and Python.
  bool parse_braces(uint32_t* min, uint32_t* max, bool* exact = nullptr) {
    const std::size_t save = i_;
    ++i_;
    uint32_t lo = 0, hi = 0;
    const bool has_lo = parse_count(&lo);
    if (exact != nullptr) *exact = false;
    if (eat('}')) {
      if (!has_lo) return (i_ = save), false;
      *min = *max = lo;
      if (exact != nullptr) *exact = true;
      return true;
    }
    if (!eat(',')) return (i_ = save), false;
    const bool has_hi = parse_count(&hi);
    if (!eat('}') || (!has_lo && !has_hi)) return (i_ = save), false;
    if (!has_lo && !onig()) unsupported("the quantifier {,n}");
    *min = has_lo ? lo : 0;
    *max = has_hi ? hi : kInfinite;
    if (*max < *min) fail_format("a quantifier {m,n} with n < m");
    return true;
  }

  int repeat(int kid, uint32_t min, uint32_t max, Greed greed) {
    Node n;
    n.kind = Node::Kind::Repeat;
    n.kids = {kid};
    n.min = min;
    n.max = max;
    n.greed = greed;
    return add(std::move(n));
  }

  int parse_quantifiers(int atom) {
    bool quantified = false;
    while (!at_end()) {
      uint32_t min, max;
      const char32_t c = peek();
      bool braces = false, exact = false;
      if (c == '?') {
        min = 0, max = 1;
      } else if (c == '*') {
        min = 0, max = kInfinite;
      } else if (c == '+') {
        min = 1, max = kInfinite;
      } else if (c == '{') {
        if (!parse_braces(&min, &max, &exact)) break;
        braces = true;
      } else {
        break;
      }
      if (!braces) ++i_;
      // Oniguruma reads a?* as (a?)*; the regex crate refuses it.
      if (quantified && !onig()) unsupported("a quantifier on a quantifier");
      Greed greed = Greed::Greedy;
      if (braces && exact && onig() && peek() == '?' && !at_end()) {
        // Oniguruma (Ruby syntax): {n}? is ({n})?, not a lazy {n}.
        ++i_;
        atom = repeat(repeat(atom, min, max, Greed::Greedy), 0, 1, Greed::Greedy);
        quantified = true;
        continue;
      }
      if (eat('?')) {
        greed = Greed::Lazy;
      } else if (peek() == '+' && !at_end()) {
        if (braces && onig()) {
          // Oniguruma (Ruby syntax): {m,n}+ is ({m,n})+, not possessive.
          ++i_;
          atom = repeat(repeat(atom, min, max, Greed::Greedy), 1, kInfinite, Greed::Greedy);
          quantified = true;
          continue;
        }
        ++i_;
        greed = Greed::Possessive;
      }
      atom = repeat(atom, min, max, greed);
      quantified = true;
    }
    return atom;
  }

  int parse_group(int depth) {
    // i_ is after '('.
    const bool saved_ci = ci_;
    int kid;
    if (eat('?')) {
      const char32_t c = peek();
      if (c == ':') {
        ++i_;
        kid = parse_alt(depth + 1);
      } else if (c == '=' || c == '!') {
        ++i_;
        Node n;
        n.kind = Node::Kind::Look;
        n.negate = c == '!';
        n.kids = {parse_alt(depth + 1)};
        kid = add(std::move(n));
      } else if (c == '>') {
        ++i_;
        Node n;
        n.kind = Node::Kind::Atomic;
        n.kids = {parse_alt(depth + 1)};
        kid = add(std::move(n));
      } else if (c == '<' && (peek(1) == '=' || peek(1) == '!')) {
        unsupported(peek(1) == '=' ? "a look-behind (?<=...)" : "a look-behind (?<!...)");
      } else if (c == '#') {
        while (!at_end() && peek() != ')') ++i_;
        if (!eat(')')) fail_format("an unclosed comment (?#");
        return -1;
      } else if (c == '<' || c == 'P' || c == '\'') {
        // a named group: (?<name>...), (?P<name>...), (?'name'...)
        if (c == 'P') {
          ++i_;
          if (peek() != '<') unsupported("(?P" + utf8_of(std::u32string(1, peek())) + "...)");
        }
        const char32_t close = peek() == '\'' ? '\'' : '>';
        ++i_;
        while (!at_end() && peek() != close) ++i_;
        if (!eat(close)) fail_format("an unclosed group name");
        kid = parse_alt(depth + 1);
      } else {
        // flags: (?i) (?-i) (?i:...) (?-i:...)
        bool on = true, ci = ci_;
        while (!at_end() && peek() != ')' && peek() != ':') {
          const char32_t f = peek();
          if (f == '-') {
            on = false;
          } else if (f == 'i') {
            ci = on;
          } else {
            unsupported("the inline flag '" + utf8_of(std::u32string(1, f)) + "'");
          }
          ++i_;
        }
        if (eat(')')) {  // (?i): to the end of the enclosing group
          ci_ = ci;
          return -1;
        }
        if (!eat(':')) fail_format("an unclosed group");
        ci_ = ci;
        kid = parse_alt(depth + 1);
      }
    } else {
      kid = parse_alt(depth + 1);
    }
    ci_ = saved_ci;
    if (!eat(')')) fail_format("an unclosed group");
    return kid;
  }

  int parse_atom(int depth) {
    const char32_t c = peek();
    ++i_;
    switch (c) {
      case '(':
        return parse_group(depth);
      case '[':
        return set_node(parse_class(depth));
      case '.':
        return set_node(CharSet::all().minus(CharSet::single('\n')));
      case '^':
        return anchor(onig() ? Anchor::LineStart : Anchor::TextStart);
      case '$':
        return anchor(onig() ? Anchor::LineEnd : Anchor::TextEnd);
      case '\\':
        return parse_escape_atom();
      case '*':
      case '+':
      case '?':
        --i_;
        fail_format("a quantifier with nothing to repeat");
      case '{': {
        --i_;
        uint32_t a, b;
        if (parse_braces(&a, &b)) fail_format("a quantifier with nothing to repeat");
        ++i_;
        return literal(c);
      }
      default:
        return literal(c);
    }
  }

  int anchor(Anchor a) {
    Node n;
    n.kind = Node::Kind::Assert;
    n.anchor = a;
    return add(std::move(n));
  }

  int literal(uint32_t cp) {
    last_literal_ = true;
    if (ci_) {
      CharSet s = CharSet::single(cp).case_closure();
      if (s.runs().size() > 1 || s.runs()[0].first != s.runs()[0].second) {
        check_multi_folding(cp);
        return set_node(std::move(s));
      }
    }
    Node n;
    n.kind = Node::Kind::Literal;
    n.cp = cp;
    // Oniguruma folds a run of case-insensitive letters as a string: refuse the runs that a
    // single character's full folding spells (ss, st, ff, ...), which simple folding misses.
    if (ci_ && onig()) check_multi_folding(cp);
    return add(std::move(n));
  }

  void check_multi_folding(uint32_t cp) {
    if (!onig()) return;
    const uint32_t low = to_lower(cp);
    ci_run_.push_back(low);
    if (ci_run_.size() > 3) ci_run_.erase(ci_run_.begin());
    for (std::size_t k = 2; k <= ci_run_.size(); ++k) {
      std::u32string tail(ci_run_.end() - static_cast<long>(k), ci_run_.end());
      if (is_multi_char_folding(tail))
        unsupported("a case-insensitive '" + utf8_of(tail) +
                    "', which Oniguruma also matches as one character of that full case folding");
    }
  }

  // ---- escapes ------------------------------------------------------------------------------
  uint32_t parse_hex(std::size_t digits) {
    uint32_t v = 0;
    for (std::size_t k = 0; k < digits; ++k) {
      const char32_t h = peek();
      int d;
      if (h >= '0' && h <= '9') {
        d = static_cast<int>(h - '0');
      } else if (h >= 'a' && h <= 'f') {
        d = static_cast<int>(h - 'a' + 10);
      } else if (h >= 'A' && h <= 'F') {
        d = static_cast<int>(h - 'A' + 10);
      } else {
        fail_format("a bad hexadecimal escape");
      }
      v = v * 16 + static_cast<uint32_t>(d);
      ++i_;
    }
    return v;
  }

  uint32_t parse_braced_hex() {
    // after '{'
    uint32_t v = 0;
    std::size_t n = 0;
    while (!at_end() && peek() != '}') {
      v = v * 16 + parse_hex(1);
      if (++n > 8) fail_format("a bad \\x{...} escape");
    }
    if (n == 0 || !eat('}')) fail_format("a bad \\x{...} escape");
    if (v > CharSet::kMax || (v >= 0xD800 && v < 0xE000)) fail_format("an escape of no character");
    return v;
  }

  // A character escape (after '\'): true with *cp, or false with *set for a class escape.
  bool parse_escape(uint32_t* cp, CharSet* set, bool in_class) {
    const char32_t c = peek();
    if (at_end()) fail_format("a trailing backslash");
    ++i_;
    switch (c) {
      case 't':
        return (*cp = '\t'), true;
      case 'n':
        return (*cp = '\n'), true;
      case 'r':
        return (*cp = '\r'), true;
      case 'f':
        return (*cp = '\f'), true;
      case 'v':
        return (*cp = '\v'), true;
      case 'a':
        return (*cp = 0x07), true;
      case 'e':
        return (*cp = 0x1B), true;
      case 'x':
        if (eat('{')) return (*cp = parse_braced_hex()), true;
        return (*cp = parse_hex(2)), true;
      case 'u':
        if (eat('{')) return (*cp = parse_braced_hex()), true;
        return (*cp = parse_hex(4)), true;
      case 'U':
        if (onig()) unsupported("the escape \\U");
        *cp = parse_hex(8);
        if (*cp > CharSet::kMax) fail_format("an escape of no character");
        return true;
      case 'd':
      case 'D':
        *set = category_set(1u << static_cast<int>(GeneralCategory::Nd));
        if (c == 'D') *set = set->complement();
        return false;
      case 's':
      case 'S':
        *set = white_space_set();
        if (c == 'S') *set = set->complement();
        return false;
      case 'w':
      case 'W':
        *set = ast_.word;
        if (c == 'W') *set = set->complement();
        return false;
      case 'p':
      case 'P':
        *set = parse_property(c == 'P', in_class);
        return false;
      default:
        break;
    }
    if (c >= '0' && c <= '9') unsupported(c == '0' ? "an octal escape" : "a backreference");
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      if (!in_class && (c == 'b' || c == 'B' || c == 'A' || c == 'z' || c == 'Z')) {
        --i_;
        return false;  // an anchor: the caller handles it
      }
      unsupported("the escape \\" + utf8_of(std::u32string(1, c)));
    }
    *cp = c;  // an escaped punctuation or other character stands for itself
    return true;
  }

  // Under (?i) a property is case-closed before any negation in the regex crate; Oniguruma
  // leaves it as it is (\p{Lu} stays upper case) unless the outermost bracket around it folds.
  CharSet parse_property(bool negated, bool in_class) {
    std::u32string name;
    if (eat('{')) {
      while (!at_end() && peek() != '}') name.push_back(p_[i_++]);
      if (!eat('}')) fail_format("an unclosed \\p{");
    } else {
      if (at_end()) fail_format("a bare \\p");
      name.push_back(p_[i_++]);
    }
    if (!name.empty() && name[0] == '^') {
      negated = !negated;
      name.erase(0, 1);
    }
    std::string key = utf8_of(name);
    // Script=Han, sc=Han, gc=L, General_Category=L
    const std::size_t eq = key.find_first_of("=:");
    std::string prefix;
    if (eq != std::string::npos) {
      prefix = key.substr(0, eq);
      key = key.substr(eq + 1);
    }
    CharSet s;
    uint32_t mask;
    bool ok = false;
    if ((prefix.empty() || prefix == "gc" || prefix == "General_Category") &&
        category_mask(key, &mask)) {
      s = category_set(mask);
      ok = true;
    } else if (prefix.empty() || prefix == "sc" || prefix == "Script") {
      s = script_set(key, &ok);
      if (!ok && prefix.empty()) {
        if (key == "Any") s = CharSet::all(), ok = true;
        if (key == "Alphabetic" || key == "Alpha") s = alphabetic_set(), ok = true;
        if (key == "White_Space" || key == "WSpace") s = white_space_set(), ok = true;
      }
    }
    if (!ok) unsupported("the property \\p{" + utf8_of(name) + "}");
    if (ci_ && !onig()) s = s.case_closure();
    (void)in_class;
    return negated ? s.complement() : s;
  }

  int parse_escape_atom() {
    uint32_t cp;
    CharSet set;
    const std::size_t at = i_;
    if (parse_escape(&cp, &set, false)) return literal(cp);
    if (i_ == at) {  // an anchor escape
      const char32_t c = p_[i_++];
      switch (c) {
        case 'A':
          return anchor(Anchor::TextStart);
        case 'z':
          return anchor(Anchor::TextEnd);
        case 'Z':
          if (!onig()) unsupported("the anchor \\Z");
          return anchor(Anchor::EndOrNewline);
        case 'b':
          return anchor(Anchor::WordBoundary);
        default:
          return anchor(Anchor::NotWordBoundary);
      }
    }
    if (ci_ && !onig()) set = set.case_closure();  // Oniguruma folds no bare class escape
    return set_node(std::move(set));
  }

  // ---- classes ------------------------------------------------------------------------------
  // After '['. Items, ranges, nested classes and && intersections. Under (?i) the regex crate
  // case-closes every bracket before its negation; Oniguruma only the outermost one, after the
  // nested brackets' own negations ((?i:[[^a]]) matches "a" there, not in the regex crate).
  CharSet parse_class(int depth, bool outermost = true) {
    if (depth > kMaxDepth)
      throw_error(ErrorKind::Limit, "the pre-tokenizer pattern nests classes more than " +
                                        std::to_string(kMaxDepth) + " deep: " + quoted());
    const bool negated = eat('^');
    CharSet acc;  // the current operand of &&
    bool have_operand = false;
    CharSet result;
    bool intersecting = false;
    bool first = true;
    while (true) {
      if (at_end()) fail_format("an unclosed character class");
      const char32_t c = peek();
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (c == '&' && peek(1) == '&') {
        i_ += 2;
        result = intersecting ? result.intersect(acc) : acc;
        intersecting = true;
        acc = CharSet();
        have_operand = false;
        continue;
      }
      if (c == '-' && peek(1) == '-' && !onig()) unsupported("the class difference --");
      if (c == '~' && peek(1) == '~' && !onig()) unsupported("the class symmetric difference ~~");
      if (c == '[') {
        if (peek(1) == ':') unsupported("a POSIX class [:name:]");
        ++i_;
        acc.add(parse_class(depth + 1, false));
        have_operand = true;
        continue;
      }
      uint32_t lo;
      CharSet set;
      ++i_;
      if (c == '\\') {
        if (!parse_escape(&lo, &set, true)) {
          acc.add(set);
          have_operand = true;
          continue;
        }
      } else {
        lo = c;
      }
      // a range lo-hi (a '-' before ']' is a literal)
      if (peek() == '-' && peek(1) != ']' && peek(1) != 0 && !(peek(1) == '-' && !onig())) {
        const std::size_t save = i_;
        ++i_;
        uint32_t hi;
        if (peek() == '[') {
          i_ = save;  // "a-[...]": '-' is literal
        } else {
          const char32_t h = peek();
          ++i_;
          if (h == '\\') {
            if (!parse_escape(&hi, &set, true)) fail_format("a class range ending in a class");
          } else {
            hi = h;
          }
          if (hi < lo) fail_format("a class range out of order");
          acc.add(lo, hi);
          have_operand = true;
          continue;
        }
      }
      acc.add(lo, lo);
      have_operand = true;
    }
    (void)have_operand;
    CharSet s = intersecting ? result.intersect(acc) : acc;
    if (ci_ && (outermost || !onig())) s = s.case_closure();
    return negated ? s.complement() : s;
  }

  std::u32string p_;
  std::size_t i_ = 0;
  bool ci_ = false;
  std::u32string ci_run_;  // the last few case-insensitive literals (lowercased)
  bool last_literal_ = false;
  Ast ast_;
};

}  // namespace

Ast parse_regex(std::string_view pattern, Flavor flavor) {
  return Parser(decode_pattern(pattern), flavor).run();
}

}  // namespace ctxengine::rx
