// The compiler (syntax tree -> instructions and character tables) and the backtracking machine.
#include "tokenizer/regex.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>
#include <unordered_map>

#include "common/error.hpp"
#include "text/utf8.hpp"
#include "tokenizer/char_class.hpp"

namespace ctxengine {

using rx::Anchor;
using rx::Greed;
using rx::Node;
using Inst = Regex::Inst;
using Kind = Node::Kind;

class RegexCompiler {
 public:
  RegexCompiler(const rx::Ast& ast, Regex& re) : ast_(ast), re_(re) {}

  void run() {
    std::vector<int> alts;
    int root = ast_.root;
    if (root >= 0 && ast_.nodes[root].kind == Kind::Alt) {
      alts = ast_.nodes[root].kids;
    } else {
      alts.push_back(root);
    }
    re_.dispatch_ = alts.size() <= 64;
    std::vector<CharSet> firsts, pres, nexts;
    for (std::size_t k = 0; k < alts.size(); ++k) {
      re_.entries_.push_back(static_cast<uint32_t>(re_.prog_.size()));
      if (alts[k] >= 0) gen(alts[k]);
      emit({Inst::Match});
      if (re_.dispatch_) {
        CharSet first, prefix, rest;
        const bool transparent = alts[k] < 0 || first_set(alts[k], first);
        if (transparent) re_.nullable_alts_ |= uint64_t{1} << k;
        // The search enters such an alternative past its P? (candidates_at), which must then
        // be the one instruction at its entry.
        const Inst& head = re_.prog_[re_.entries_[k]];
        if (!transparent && prefix_form(alts[k], &prefix, &rest) && head.op == Inst::Run &&
            head.min == 0 && head.max == 1) {
          pres.push_back(prefix.minus(rest));
          nexts.push_back(rest);
          firsts.push_back(std::move(rest));
        } else {
          pres.emplace_back();
          nexts.emplace_back();
          firsts.push_back(std::move(first));
        }
      }
    }
    if (!re_.dispatch_) re_.nullable_alts_ = ~uint64_t{0};
    possessify();
    re_.num_classes_ = classes_.size();
    build_tables(firsts, pres, nexts);
  }

 private:
  // ---- classes ------------------------------------------------------------------------------
  uint8_t class_of(const CharSet& s) {
    const int k = find_class(s, false);
    return static_cast<uint8_t>(k);
  }

  // The class bit of `s`, added when new; when all 64 are taken: -1 if `soft` (an optional
  // guard), else Unsupported.
  int find_class(const CharSet& s, bool soft) {
    for (std::size_t k = 0; k < classes_.size(); ++k) {
      if (classes_[k] == s) return static_cast<int>(k);
    }
    if (classes_.size() == 64 && soft) return -1;
    if (classes_.size() == 64)
      throw_error(ErrorKind::Unsupported,
                  "the pre-tokenizer pattern has more than 64 distinct character classes, more "
                  "than ctxengine's regex compiler handles: " +
                      re_.pattern_);
    classes_.push_back(s);
    return static_cast<int>(classes_.size() - 1);
  }

  // The guard class of a branch: its first characters, or -1 when it may consume nothing
  // (then every character can start it).
  int guard_of(int node) {
    CharSet first;
    if (first_set(node, first)) return -1;
    return find_class(first, true);
  }

  // A greedy choice point "try body, else skip": SplitIf when the body has a guard class.
  uint32_t emit_choice(int body) {
    const int guard = guard_of(body);
    Inst in{guard >= 0 ? Inst::SplitIf : Inst::Split};
    if (guard >= 0) in.cls = static_cast<uint8_t>(guard);
    return emit(in);
  }

  // 1 when the ASCII members of `s` are exactly the letters, 2 when exactly a-z, else 0.
  static uint8_t swar_kind(const CharSet& s) {
    bool letters = true, lower = true;
    for (uint32_t c = 0; c < 128; ++c) {
      const bool in = s.contains(c);
      const bool is_lower = c >= 'a' && c <= 'z';
      const bool is_letter = is_lower || (c >= 'A' && c <= 'Z');
      letters = letters && in == is_letter;
      lower = lower && in == is_lower;
    }
    return letters ? 1 : lower ? 2 : 0;
  }

  // ---- code ---------------------------------------------------------------------------------
  uint32_t emit(Inst in) {
    if (re_.prog_.size() >= Regex::kMaxInstructions)
      throw_error(ErrorKind::Limit,
                  "the pre-tokenizer pattern compiles to more than " +
                      std::to_string(Regex::kMaxInstructions) +
                      " instructions (large repetition counts of groups multiply its size): " +
                      re_.pattern_.substr(0, 200));
    re_.prog_.push_back(in);
    return static_cast<uint32_t>(re_.prog_.size() - 1);
  }
  uint32_t here() const { return static_cast<uint32_t>(re_.prog_.size()); }

  void emit_literal(const std::string& bytes) {
    Inst in{Inst::Lit};
    in.x = static_cast<uint32_t>(re_.literals_.size());
    in.y = static_cast<uint32_t>(bytes.size());
    re_.literals_ += bytes;
    emit(in);
  }

  bool single_char(int node, CharSet* out) const {
    const Node& n = ast_.nodes[node];
    if (n.kind == Kind::Set) return (*out = n.set), true;
    if (n.kind == Kind::Literal) return (*out = CharSet::single(n.cp)), true;
    return false;
  }

  // A sub-match (look-ahead, atomic group): [op x=pc+2][jmp after][body][match] after:
  void emit_sub(Inst head, int body) {
    const uint32_t at = emit(head);
    const uint32_t jump = emit({Inst::Jmp});
    re_.prog_[at].x = here();
    gen(body);
    emit({Inst::Match});
    re_.prog_[jump].x = here();
  }

  void gen(int node) {
    const Node& n = ast_.nodes[node];
    switch (n.kind) {
      case Kind::Empty:
        return;
      case Kind::Set: {
        Inst in{Inst::Class};
        in.cls = class_of(n.set);
        emit(in);
        return;
      }
      case Kind::Literal: {
        std::string b;
        append_utf8(b, n.cp);
        emit_literal(b);
        return;
      }
      case Kind::Concat: {
        std::string pending;
        for (int kid : n.kids) {
          const Node& k = ast_.nodes[kid];
          if (k.kind == Kind::Literal) {
            append_utf8(pending, k.cp);
            continue;
          }
          if (!pending.empty()) emit_literal(pending), pending.clear();
          gen(kid);
        }
        if (!pending.empty()) emit_literal(pending);
        return;
      }
      case Kind::Alt: {
        std::vector<uint32_t> jumps;
        for (std::size_t k = 0; k < n.kids.size(); ++k) {
          if (k + 1 == n.kids.size()) {
            gen(n.kids[k]);
            break;
          }
          const uint32_t split = emit_choice(n.kids[k]);
          re_.prog_[split].x = here();
          gen(n.kids[k]);
          jumps.push_back(emit({Inst::Jmp}));
          re_.prog_[split].y = here();
        }
        for (uint32_t j : jumps) re_.prog_[j].x = here();
        return;
      }
      case Kind::Repeat:
        return gen_repeat(n);
      case Kind::Look: {
        CharSet s;
        if (single_char(n.kids[0], &s)) {
          Inst in{Inst::LookClass};
          in.cls = class_of(s);
          in.flag = n.negate;
          emit(in);
          return;
        }
        Inst in{Inst::Look};
        in.flag = n.negate;
        return emit_sub(in, n.kids[0]);
      }
      case Kind::Atomic:
        return emit_sub({Inst::Atomic}, n.kids[0]);
      case Kind::Assert: {
        Inst in{Inst::Assert};
        in.flag = static_cast<uint8_t>(n.anchor);
        if (n.anchor == Anchor::WordBoundary || n.anchor == Anchor::NotWordBoundary)
          re_.word_class_ = class_of(ast_.word);
        emit(in);
        return;
      }
    }
  }

  void gen_repeat(const Node& n) {
    const int kid = n.kids[0];
    CharSet s;
    if (single_char(kid, &s)) {
      Inst in{Inst::Run};
      in.cls = class_of(s);
      in.min = n.min;
      in.max = n.max;
      in.greed = static_cast<uint8_t>(n.greed);
      if (n.max == rx::kInfinite) in.flag = swar_kind(s);
      emit(in);
      return;
    }
    if (n.greed == Greed::Possessive) {
      // X*+ is (?>X*)
      Node greedy = n;
      greedy.greed = Greed::Greedy;
      const uint32_t at = emit({Inst::Atomic});
      const uint32_t jump = emit({Inst::Jmp});
      re_.prog_[at].x = here();
      gen_repeat(greedy);
      emit({Inst::Match});
      re_.prog_[jump].x = here();
      return;
    }
    const bool lazy = n.greed == Greed::Lazy;
    for (uint32_t k = 0; k < n.min; ++k) gen(kid);
    if (n.max == rx::kInfinite) {
      const bool guard = nullable(kid);
      const uint32_t slot = static_cast<uint32_t>(re_.num_slots_);
      if (guard) ++re_.num_slots_;
      const uint32_t loop = lazy ? emit({Inst::Split}) : emit_choice(kid);
      const uint32_t body = here();
      if (guard) {
        Inst set{Inst::SetSlot};
        set.x = slot;
        emit(set);
      }
      gen(kid);
      if (guard) {
        Inst check{Inst::CheckProgress};
        check.x = slot;
        emit(check);
      }
      Inst back{Inst::Jmp};
      back.x = loop;
      emit(back);
      re_.prog_[loop].x = lazy ? here() : body;
      re_.prog_[loop].y = lazy ? body : here();
      return;
    }
    // (X(X(X)?)?)? for the optional copies
    std::vector<uint32_t> splits;
    for (uint32_t k = n.min; k < n.max; ++k) {
      const uint32_t split = lazy ? emit({Inst::Split}) : emit_choice(kid);
      splits.push_back(split);
      re_.prog_[split].x = here();  // placeholder: fixed below for lazy
      gen(kid);
    }
    const uint32_t out = here();
    for (uint32_t split : splits) {
      const uint32_t body = split + 1;
      re_.prog_[split].x = lazy ? out : body;
      re_.prog_[split].y = lazy ? body : out;
    }
  }

  // ---- auto-possessive runs (as PCRE does) ----------------------------------------------------
  // Giving characters back from a greedy run helps only if what follows can then match where
  // it failed. It cannot when what follows always succeeds (the rest of the alternative may
  // match nothing), or must begin with a character outside the run's class.
  bool always_succeeds(uint32_t pc, int depth = 0) const {
    if (depth > 16) return false;
    const Inst& in = re_.prog_[pc];
    switch (in.op) {
      case Inst::Match:
        return true;
      case Inst::Split:
      case Inst::SplitIf:
        return always_succeeds(in.y, depth + 1) ||
               (in.op == Inst::Split && always_succeeds(in.x, depth + 1));
      case Inst::Jmp:
        return in.x > pc && always_succeeds(in.x, depth + 1);
      case Inst::Run:
        return in.min == 0 && always_succeeds(pc + 1, depth + 1);
      default:
        return false;
    }
  }

  // The characters the code from pc must begin with, or false when it may consume nothing. A
  // run that may be empty adds its class to what follows it ([^\p{L}]?[\p{Lu}]*[\p{Ll}]+
  // begins with an upper- or a lowercase letter).
  bool must_begin_with(uint32_t pc, CharSet* out, int depth = 0) const {
    const Inst& in = re_.prog_[pc];
    switch (in.op) {
      case Inst::Class:
        return (*out = classes_[in.cls]), true;
      case Inst::Run:
        if (in.min == 0) {
          if (depth > 16 || pc + 1 >= re_.prog_.size() || !must_begin_with(pc + 1, out, depth + 1))
            return false;
          out->add(classes_[in.cls]);
          return true;
        }
        return (*out = classes_[in.cls]), true;
      case Inst::Lit: {
        uint32_t cp;
        decode_utf8(reinterpret_cast<const unsigned char*>(re_.literals_.data()), in.x, &cp);
        return (*out = CharSet::single(cp)), true;
      }
      default:
        return false;
    }
  }

  void possessify() {
    for (uint32_t pc = 0; pc + 1 < re_.prog_.size(); ++pc) {
      Inst& in = re_.prog_[pc];
      if (in.op != Inst::Run || in.greed != static_cast<uint8_t>(Greed::Greedy)) continue;
      CharSet next;
      const bool known = must_begin_with(pc + 1, &next);
      if (always_succeeds(pc + 1) || (known && next.intersect(classes_[in.cls]).empty())) {
        in.greed = static_cast<uint8_t>(Greed::Possessive);
      } else if (known) {
        // Giving back skips the positions where what follows cannot begin (\s*[\r\n]
        // gives back straight to the last newline).
        const int follow = find_class(next, true);
        if (follow >= 0) in.y = static_cast<uint32_t>(follow) + 1;
      }
    }
  }

  // ---- analysis -----------------------------------------------------------------------------
  bool nullable(int node) const {
    const Node& n = ast_.nodes[node];
    switch (n.kind) {
      case Kind::Set:
      case Kind::Literal:
        return false;
      case Kind::Concat:
        return std::all_of(n.kids.begin(), n.kids.end(), [&](int k) { return nullable(k); });
      case Kind::Alt:
        return std::any_of(n.kids.begin(), n.kids.end(), [&](int k) { return nullable(k); });
      case Kind::Repeat:
        return n.min == 0 || nullable(n.kids[0]);
      case Kind::Atomic:
        return nullable(n.kids[0]);
      default:
        return true;  // Empty, Look, Assert
    }
  }

  // Adds to `out` every character a match of `node` can begin with; returns true when the node
  // may consume nothing (then what follows it can supply the first character).
  bool first_set(int node, CharSet& out) const {
    const Node& n = ast_.nodes[node];
    switch (n.kind) {
      case Kind::Set:
        out.add(n.set);
        return false;
      case Kind::Literal:
        out.add(n.cp, n.cp);
        return false;
      case Kind::Concat:
        for (int k : n.kids) {
          if (!first_set(k, out)) return false;
        }
        return true;
      case Kind::Alt: {
        bool any = false;
        for (int k : n.kids) any = first_set(k, out) || any;
        return any;
      }
      case Kind::Repeat:
        return first_set(n.kids[0], out) || n.min == 0;
      case Kind::Atomic:
        return first_set(n.kids[0], out);
      default:
        return true;
    }
  }

  // An alternative P?REST: an optional single character (greedy or possessive) before a rest
  // that must consume a character; *prefix = P, *rest = FIRST(REST).
  bool prefix_form(int node, CharSet* prefix, CharSet* rest) const {
    const Node& n = ast_.nodes[node];
    if (n.kind != Kind::Concat || n.kids.size() < 2) return false;
    const Node& opt = ast_.nodes[n.kids[0]];
    if (opt.kind != Kind::Repeat || opt.min != 0 || opt.max != 1 || opt.greed == Greed::Lazy ||
        !single_char(opt.kids[0], prefix))
      return false;
    for (std::size_t k = 1; k < n.kids.size(); ++k) {
      if (!first_set(n.kids[k], *rest)) return true;
    }
    return false;  // REST may consume nothing
  }

  // ---- tables -------------------------------------------------------------------------------
  void build_tables(const std::vector<CharSet>& firsts, const std::vector<CharSet>& pres,
                    const std::vector<CharSet>& nexts) {
    constexpr uint32_t kEnd = CharSet::kMax + 1;
    std::vector<uint32_t> cuts{0, kEnd};
    auto add_cuts = [&](const CharSet& s) {
      for (const auto& r : s.runs()) {
        cuts.push_back(r.first);
        cuts.push_back(r.second + 1);
      }
    };
    for (const CharSet& s : classes_) add_cuts(s);
    for (const CharSet& s : firsts) add_cuts(s);
    for (const CharSet& s : pres) add_cuts(s);
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    const std::size_t nseg = cuts.size() - 1;
    std::vector<uint64_t> seg_cls(nseg, 0), seg_alt(nseg, re_.nullable_alts_), seg_pre(nseg, 0),
        seg_next(nseg, 0);
    auto mark = [&](const CharSet& s, std::vector<uint64_t>& seg, uint64_t bit) {
      for (const auto& r : s.runs()) {
        auto a = std::lower_bound(cuts.begin(), cuts.end(), r.first) - cuts.begin();
        auto b = std::lower_bound(cuts.begin(), cuts.end(), r.second + 1) - cuts.begin();
        for (auto i = a; i < b; ++i) seg[static_cast<std::size_t>(i)] |= bit;
      }
    };
    for (std::size_t k = 0; k < classes_.size(); ++k) mark(classes_[k], seg_cls, uint64_t{1} << k);
    for (std::size_t k = 0; k < firsts.size(); ++k) {
      mark(firsts[k], seg_alt, uint64_t{1} << k);
      mark(pres[k], seg_pre, uint64_t{1} << k);
      mark(nexts[k], seg_next, uint64_t{1} << k);
    }
    if (!re_.dispatch_) std::fill(seg_alt.begin(), seg_alt.end(), ~uint64_t{0});
    // equivalence ids: one per distinct (classes, alternatives) pair
    std::map<std::tuple<uint64_t, uint64_t, uint64_t, uint64_t>, uint16_t> ids;
    std::vector<uint16_t> seg_id(nseg);
    for (std::size_t i = 0; i < nseg; ++i) {
      auto key = std::make_tuple(seg_cls[i], seg_alt[i], seg_pre[i], seg_next[i]);
      auto it = ids.find(key);
      if (it == ids.end()) {
        if (ids.size() >= 0xFFFF)
          throw_error(ErrorKind::Unsupported,
                      "the pre-tokenizer pattern's character classes "
                      "are too fragmented: " +
                          re_.pattern_);
        it = ids.emplace(key, static_cast<uint16_t>(ids.size())).first;
        re_.eq_cls_.push_back(seg_cls[i]);
        re_.eq_alt_.push_back(seg_alt[i]);
        re_.eq_pre_.push_back(seg_pre[i]);
        re_.eq_next_.push_back(seg_next[i]);
      }
      seg_id[i] = it->second;
    }
    // two stages over blocks of 256 code points, identical blocks shared
    std::vector<uint16_t> block(256);
    std::unordered_map<std::string, uint16_t> seen;
    re_.stage1_.assign(kEnd >> 8, 0);
    std::size_t seg = 0;
    for (uint32_t b = 0; b < (kEnd >> 8); ++b) {
      for (uint32_t k = 0; k < 256; ++k) {
        const uint32_t cp = (b << 8) | k;
        while (cuts[seg + 1] <= cp) ++seg;
        block[k] = seg_id[seg];
      }
      std::string key(reinterpret_cast<const char*>(block.data()), 512);
      auto it = seen.find(key);
      if (it == seen.end()) {
        it = seen.emplace(std::move(key), static_cast<uint16_t>(seen.size())).first;
        re_.stage2_.insert(re_.stage2_.end(), block.begin(), block.end());
      }
      re_.stage1_[b] = it->second;
    }
    for (uint32_t c = 0; c < 128; ++c) {
      const uint16_t id = re_.stage2_[(std::size_t{re_.stage1_[0]} << 8) | c];
      re_.ascii_cls_[c] = re_.eq_cls_[id];
      re_.ascii_alt_[c] = re_.eq_alt_[id];
      re_.ascii_pre_[c] = re_.eq_pre_[id];
      re_.ascii_next_[c] = re_.eq_next_[id];
    }
  }

  const rx::Ast& ast_;
  Regex& re_;
  std::vector<CharSet> classes_;
};

// ---- the machine --------------------------------------------------------------------------------

class RegexMachine {
 public:
  RegexMachine(const Regex& re, const uint8_t* s, std::size_t begin, std::size_t end)
      : re_(re), s_(s), begin_(begin), end_(end), store_(tl_stack()), slots_(tl_slots()) {
    if (store_.size() < 64) store_.resize(64);
    stk_ = store_.data();
    cap_ = store_.size();
    if (slots_.size() < re.num_slots_) slots_.resize(re.num_slots_);
  }

  // The end of the leftmost-first match of the sub-program at pc from pos, or npos.
  std::size_t run(uint32_t pc, std::size_t pos);
  // The leftmost-first match searching from `from` (Regex::search).
  inline bool search(std::size_t from, std::size_t* mb, std::size_t* me);
  // Alternative k at p. One that candidates_at set in `consumed` is entered past its P?, the
  // character of `len` bytes at p taken.
  std::size_t run_alternative(std::size_t k, std::size_t p, uint64_t consumed, uint32_t len) {
    return k < 64 && ((consumed >> k) & 1) ? run(re_.entries_[k] + 1, p + len)
                                           : run(re_.entries_[k], p);
  }

 private:
  enum FrameKind : uint32_t { kResume, kRunGive, kRunTake, kRestoreSlot };
  struct Frame {
    uint32_t pc;
    uint32_t kind;
    std::size_t pos;
    std::size_t aux;
  };
  // Appends a frame field by field (a frame built on the stack and copied stalls on
  // store forwarding).
  void push(uint32_t pc, uint32_t kind, std::size_t pos, std::size_t aux) {
    if (top_ == cap_) grow();
    Frame& f = stk_[top_++];
    f.pc = pc;
    f.kind = kind;
    f.pos = pos;
    f.aux = aux;
  }
  static std::vector<Frame>& tl_stack() {
    thread_local std::vector<Frame> stack;
    return stack;
  }
  static std::vector<std::size_t>& tl_slots() {
    thread_local std::vector<std::size_t> slots;
    return slots;
  }

  bool is_word_before(std::size_t pos) const {
    if (pos <= begin_) return false;
    std::size_t q = pos - 1;
    while (q > begin_ && (s_[q] & 0xC0) == 0x80) --q;
    uint32_t len;
    return (re_.classes_at(s_, q, &len) >> re_.word_class_) & 1;
  }
  bool is_word_at(std::size_t pos) const {
    if (pos >= end_) return false;
    uint32_t len;
    return (re_.classes_at(s_, pos, &len) >> re_.word_class_) & 1;
  }

  bool anchor(uint8_t kind, std::size_t pos) const {
    switch (static_cast<Anchor>(kind)) {
      case Anchor::TextStart:
        return pos == begin_;
      case Anchor::TextEnd:
        return pos == end_;
      case Anchor::LineStart:
        return pos == begin_ || s_[pos - 1] == '\n';
      case Anchor::LineEnd:
        return pos == end_ || s_[pos] == '\n';
      case Anchor::EndOrNewline:
        return pos == end_ || (pos + 1 == end_ && s_[pos] == '\n');
      case Anchor::WordBoundary:
        return is_word_before(pos) != is_word_at(pos);
      case Anchor::NotWordBoundary:
        return is_word_before(pos) == is_word_at(pos);
    }
    return false;
  }

  [[noreturn]] void too_much_work() const {
    throw_error(ErrorKind::Limit, "the pre-tokenizer pattern needed more than " +
                                      std::to_string(Regex::kMaxSteps) +
                                      " backtracking steps at byte " + std::to_string(begin_) +
                                      " of a text (catastrophic backtracking); the pattern is " +
                                      re_.pattern_.substr(0, 200));
  }

  const Regex& re_;
  const uint8_t* s_;
  std::size_t begin_, end_;
  // The choice points: a thread's reusable buffer, used as a raw array (a vector's size and
  // capacity behind a reference cost loads and stores on every push).
  void grow() {
    store_.resize(store_.size() * 2);
    stk_ = store_.data();
    cap_ = store_.size();
  }
  std::vector<Frame>& store_;
  Frame* stk_ = nullptr;
  std::size_t top_ = 0, cap_ = 0;
  std::vector<std::size_t>& slots_;
  uint64_t steps_ = 0;

  friend class Regex;
};

std::size_t RegexMachine::run(uint32_t pc, std::size_t pos) {
  const std::size_t base = top_;
  const Inst* prog = re_.prog_.data();
  const uint8_t* s = s_;
  const std::size_t end = end_;
  uint32_t len;
  while (true) {
    const Inst& in = prog[pc];
    switch (in.op) {
      case Inst::Match:
        top_ = base;
        return pos;
      case Inst::Lit:
        if (end - pos >= in.y && std::memcmp(s + pos, re_.literals_.data() + in.x, in.y) == 0) {
          pos += in.y;
          ++pc;
          continue;
        }
        break;
      case Inst::Class:
        if (pos < end && ((re_.classes_at(s, pos, &len) >> in.cls) & 1)) {
          pos += len;
          ++pc;
          continue;
        }
        break;
      case Inst::Run: {
        const uint64_t bit = uint64_t{1} << in.cls;
        const uint64_t max = in.max == rx::kInfinite ? ~uint64_t{0} : in.max;
        std::size_t q = pos;
        uint64_t n = 0;
        if (in.greed == static_cast<uint8_t>(Greed::Lazy)) {
          bool ok = true;
          for (; n < in.min; ++n) {
            if (q >= end || !(re_.classes_at(s, q, &len) & bit)) {
              ok = false;
              break;
            }
            q += len;
          }
          if (!ok) break;
          if (n < max) push(pc, kRunTake, q, n);
          pos = q;
          ++pc;
          continue;
        }
        if (in.flag != 0) {  // ASCII letters eight at a time (the class's ASCII members)
          const bool fold = in.flag == 1;
          while (q + 8 <= end) {
            uint64_t w;
            std::memcpy(&w, s + q, 8);
            const uint64_t hit =
                fold ? detail::ascii_letter_bits<true>(w) : detail::ascii_letter_bits<false>(w);
            if (hit == 0x8080808080808080ull) {
              q += 8;
              n += 8;
              continue;
            }
            const auto k =
                static_cast<std::size_t>(__builtin_ctzll(~hit & 0x8080808080808080ull)) >> 3;
            q += k;
            n += k;
            break;
          }
        }
        while (n < max && q < end) {
          const uint8_t b = s[q];
          if (b < 0x80) {
            if (!(re_.ascii_cls_[b] & bit)) break;
            ++q;
          } else {
            if (!(re_.classes_at(s, q, &len) & bit)) break;
            q += len;
          }
          ++n;
        }
        if (n < in.min) break;
        if (in.greed == static_cast<uint8_t>(Greed::Greedy) && n > in.min) {
          push(pc, kRunGive, q, n);
        } else if (prog[pc + 1].op == Inst::Match) {
          top_ = base;
          return q;
        }
        pos = q;
        ++pc;
        continue;
      }
      case Inst::Split:
        push(in.y, kResume, pos, 0);
        pc = in.x;
        continue;
      case Inst::SplitIf:
        if (pos < end && ((re_.classes_at(s, pos, &len) >> in.cls) & 1)) {
          push(in.y, kResume, pos, 0);
          pc = in.x;
        } else {
          pc = in.y;
        }
        continue;
      case Inst::Jmp:
        pc = in.x;
        continue;
      case Inst::Assert:
        if (anchor(in.flag, pos)) {
          ++pc;
          continue;
        }
        break;
      case Inst::LookClass: {
        const bool hit = pos < end && ((re_.classes_at(s, pos, &len) >> in.cls) & 1);
        if (hit != (in.flag != 0)) {
          ++pc;
          continue;
        }
        break;
      }
      case Inst::Look: {
        const bool hit = run(in.x, pos) != npos;
        if (hit != (in.flag != 0)) {
          ++pc;
          continue;
        }
        break;
      }
      case Inst::Atomic: {
        const std::size_t r = run(in.x, pos);
        if (r == npos) break;
        pos = r;
        ++pc;
        continue;
      }
      case Inst::SetSlot:
        push(in.x, kRestoreSlot, slots_[in.x], 0);
        slots_[in.x] = pos;
        ++pc;
        continue;
      case Inst::CheckProgress:
        if (slots_[in.x] == pos) break;
        ++pc;
        continue;
    }
    // failure: resume the most recent choice point
    bool resumed = false;
    while (!resumed) {
      if (top_ == base) return npos;
      if (++steps_ > Regex::kMaxSteps) too_much_work();
      const Frame f = stk_[--top_];
      switch (f.kind) {
        case kResume:
          pc = f.pc;
          pos = f.pos;
          resumed = true;
          break;
        case kRunGive: {
          const Inst& r = prog[f.pc];
          std::size_t q = f.pos, n = f.aux;
          while (true) {
            do {
              --q;
            } while ((s[q] & 0xC0) == 0x80);
            --n;
            // stop where what follows can begin (or at the minimum)
            if (r.y == 0 || n <= r.min || ((re_.classes_at(s, q, &len) >> (r.y - 1)) & 1)) break;
          }
          if (n > r.min) push(f.pc, kRunGive, q, n);
          pc = f.pc + 1;
          pos = q;
          resumed = true;
          break;
        }
        case kRunTake: {
          const Inst& r = prog[f.pc];
          if (f.pos < end && (re_.classes_at(s, f.pos, &len) >> r.cls) & 1) {
            const std::size_t n = f.aux + 1;
            if (r.max == rx::kInfinite || n < r.max) push(f.pc, kRunTake, f.pos + len, n);
            pc = f.pc + 1;
            pos = f.pos + len;
            resumed = true;
          }
          break;
        }
        case kRestoreSlot:
          slots_[f.pc] = f.pos;
          break;
      }
    }
  }
}

// ---- Regex ----------------------------------------------------------------------------------

std::shared_ptr<const Regex> Regex::compile(std::string_view pattern, Flavor flavor) {
  rx::Ast ast = rx::parse_regex(pattern, flavor);
  std::shared_ptr<Regex> re(new Regex());
  re->pattern_ = std::string(pattern);
  re->flavor_ = flavor;
  RegexCompiler(ast, *re).run();
  return re;
}

std::size_t Regex::match_at(const uint8_t* s, std::size_t begin, std::size_t at,
                            std::size_t end) const {
  RegexMachine m(*this, s, begin, end);
  uint64_t consumed = 0;
  uint32_t len = 0;
  const uint64_t alts =
      at < end ? (dispatch_ ? candidates_at(s, at, end, &consumed, &len) : ~uint64_t{0})
               : nullable_alts_;
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    if (k < 64 && !((alts >> k) & 1)) continue;
    const std::size_t r = m.run_alternative(k, at, consumed, len);
    if (r != npos) return r;
  }
  return npos;
}

__attribute__((always_inline)) inline bool RegexMachine::search(std::size_t from, std::size_t* mb,
                                                                std::size_t* me) {
  const Regex& re = re_;
  const uint8_t* s = s_;
  const std::size_t end = end_, n = re.entries_.size();
  std::size_t p = from;
  while (true) {
    // skip ASCII characters no alternative can start with
    while (p < end && s[p] < 0x80 && (re.ascii_alt_[s[p]] | re.ascii_pre_[s[p]]) == 0) ++p;
    if (!re.dispatch_) {
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t r = run(re.entries_[k], p);
        if (r != npos) return (*mb = p), (*me = r), true;
      }
    } else {
      uint64_t consumed = 0;
      uint32_t len = 0;
      uint64_t alts = p < end ? re.candidates_at(s, p, end, &consumed, &len) : re.nullable_alts_;
      while (alts != 0) {
        const auto k = static_cast<std::size_t>(__builtin_ctzll(alts));
        alts &= alts - 1;
        const std::size_t r = run_alternative(k, p, consumed, len);
        if (r != npos) return (*mb = p), (*me = r), true;
      }
    }
    if (p >= end) return false;
    p += Regex::char_len(s[p]);
  }
}

bool Regex::search(const uint8_t* s, std::size_t begin, std::size_t from, std::size_t end,
                   std::size_t* mb, std::size_t* me) const {
  RegexMachine m(*this, s, begin, end);
  return m.search(from, mb, me);
}

std::size_t Regex::next_matches(const uint8_t* s, std::size_t begin, std::size_t end,
                                Cursor& cursor, Span* out, std::size_t cap) const {
  RegexMachine m(*this, s, begin, end);
  std::size_t at = cursor.at, last_end = cursor.last_end, n = 0;
  while (n < cap && at <= end) {
    std::size_t mb, me;
    if (!m.search(at, &mb, &me)) {
      at = end + 1;
      break;
    }
    if (mb == me && me == last_end) {  // an empty match where the last one ended: skipped
      at = mb >= end ? end + 1 : mb + char_len(s[mb]);
      continue;
    }
    out[n++] = Span{mb, me};
    last_end = me;
    if (me == mb) {  // after an empty match, move on one character
      at = me >= end ? end + 1 : me + char_len(s[me]);
    } else {
      at = me;
    }
  }
  cursor.at = at;
  cursor.last_end = last_end;
  return n;
}

}  // namespace ctxengine
