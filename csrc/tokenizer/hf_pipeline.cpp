// The order of operations is HF tokenizers' encode_single_sequence: split out added tokens on
// the raw text, normalize each remaining segment, split out normalized added tokens, pre-tokenize
// the rest, run the model on each pre-token, then add the post-processor's tokens. Empty
// segments and pre-tokens are dropped at every stage, as PreTokenizedString::split does.
#include "tokenizer/hf_pipeline.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "text/utf8.hpp"
#include "tokenizer/hf_bpe.hpp"
#include "tokenizer/hf_unicode.hpp"
#include "tokenizer/vocabulary.hpp"

namespace ctxengine::hf {
namespace {

// HF's NormalizedString::split: `marks` are the matches (match = true) and the runs between
// them in order, and `behavior` decides what is kept and joined. Appends the kept (non-empty)
// spans.
struct Mark {
  uint32_t b, e;
  bool match;
};

void apply_behavior(const std::vector<Mark>& marks, PreTokenizerStep::Behavior behavior,
                    std::vector<Piece>& out) {
  using B = PreTokenizerStep::Behavior;
  std::vector<Mark> kept;
  bool previous = false;
  switch (behavior) {
    case B::Isolated:
      kept = marks;
      break;
    case B::Removed:
      for (const Mark& m : marks) {
        if (!m.match) kept.push_back(m);
      }
      break;
    case B::Contiguous:
      for (const Mark& m : marks) {
        if (m.match == previous && !kept.empty()) {
          kept.back().e = m.e;
        } else {
          kept.push_back(m);
        }
        previous = m.match;
      }
      break;
    case B::MergedWithPrevious:
      for (const Mark& m : marks) {
        if (m.match && !previous && !kept.empty()) {
          kept.back().e = m.e;
        } else {
          kept.push_back(m);
        }
        previous = m.match;
      }
      break;
    case B::MergedWithNext:
      for (auto it = marks.rbegin(); it != marks.rend(); ++it) {
        if (it->match && !previous && !kept.empty()) {
          kept.back().b = it->b;
        } else {
          kept.push_back(*it);
        }
        previous = it->match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  for (const Mark& m : kept) {
    if (m.b < m.e) out.push_back({m.b, m.e, -1, false, false});
  }
}

// Each delimiter character (flag `flag`) is one match (Digits, Punctuation).
void split_on_chars(const unsigned char* s, uint32_t begin, uint32_t end, uint8_t flag,
                    PreTokenizerStep::Behavior behavior, std::vector<Piece>& out) {
  std::vector<Mark> marks;
  uint32_t last = begin;
  for (uint32_t i = begin; i < end;) {
    uint32_t cp;
    const auto len = static_cast<uint32_t>(decode_utf8(s, i, &cp));
    if (flags(cp) & flag) {
      if (last < i) marks.push_back({last, i, false});
      marks.push_back({i, i + len, true});
      last = i + len;
    }
    i += len;
  }
  if (last < end) marks.push_back({last, end, false});
  apply_behavior(marks, behavior, out);
}

// The matches of a regex (HF's Pattern::find_matches over the onig crate's find_iter: empty
// matches are marks too), optionally inverted.
void split_on_regex(const unsigned char* s, uint32_t begin, uint32_t end, const Regex& re,
                    bool invert, PreTokenizerStep::Behavior behavior, std::vector<Piece>& out) {
  std::vector<Mark> marks;
  uint32_t last = begin;
  re.for_each_match(s, begin, end, [&](std::size_t mb, std::size_t me) {
    if (last < mb) marks.push_back({last, static_cast<uint32_t>(mb), invert});
    marks.push_back({static_cast<uint32_t>(mb), static_cast<uint32_t>(me), !invert});
    last = static_cast<uint32_t>(me);
  });
  if (last < end) marks.push_back({last, end, invert});
  apply_behavior(marks, behavior, out);
}

// A CharSplit or Regex step over piece `pc` as HF's byte-level text: each byte one character
// of GPT-2's alphabet (hf_bpe.hpp), after a virtual leading space when the piece has one. The
// pieces found there are mapped back to bytes; one that starts at the virtual space keeps it
// (and holds no byte of s when it ends there).
void split_byte_level(const PreTokenizerStep& st, const unsigned char* s, const Piece& pc,
                      std::vector<Piece>& out) {
  std::string mapped;
  std::vector<uint32_t> byte_at;  // per byte of `mapped`: the byte of s its character stands for
  mapped.reserve(2 * (pc.end - pc.begin + 1));
  byte_at.reserve(2 * (pc.end - pc.begin + 1) + 1);
  auto add = [&](uint8_t b, uint32_t at) {
    const std::size_t before = mapped.size();
    append_utf8(mapped, byte_to_char(b));
    byte_at.insert(byte_at.end(), mapped.size() - before, at);
  };
  if (pc.space) add(' ', pc.begin);
  const auto space_len = static_cast<uint32_t>(mapped.size());
  for (uint32_t i = pc.begin; i < pc.end; ++i) add(s[i], i);
  byte_at.push_back(pc.end);
  check_text_size(mapped.size());  // up to two bytes a byte: offsets stay 32-bit
  const auto* m = reinterpret_cast<const unsigned char*>(mapped.data());
  const auto n = static_cast<uint32_t>(mapped.size());
  std::vector<Piece> found;
  if (st.kind == PreTokenizerStep::Kind::CharSplit) {
    split_on_chars(m, 0, n, st.char_flag, st.behavior, found);
  } else {
    split_on_regex(m, 0, n, *st.regex, st.invert, st.behavior, found);
  }
  for (const Piece& f : found) {
    const bool space = space_len > 0 && f.begin == 0;
    const uint32_t e = f.end <= space_len ? pc.begin : byte_at[f.end];
    out.push_back({space ? pc.begin : byte_at[f.begin], e, -1, space, false});
  }
}

}  // namespace

void check_text_size(std::size_t bytes) {
  if (bytes >= std::numeric_limits<uint32_t>::max())
    throw_error(ErrorKind::Limit,
                "a tokenizer.json pipeline counts texts below 4 GiB (this one has " +
                    std::to_string(bytes) +
                    " bytes after normalization); split it into documents and count each");
}

void Pipeline::finalize() {
  raw_ = TokenMatcher();
  normalized_ = TokenMatcher();
  has_normalized_ = false;
  id_to_added_.clear();
  std::size_t max_id = 0;
  for (const AddedToken& t : added_) max_id = std::max<std::size_t>(max_id, t.id);
  if (!added_.empty())
    check_id_range(max_id, added_.size() + (model ? model->vocab_size() : 0), "the added tokens");
  for (std::size_t i = 0; i < added_.size(); ++i) {
    const AddedToken& t = added_[i];
    if (t.normalized) {
      normalized_.add(normalizer.empty() ? t.content : normalizer.apply(t.content),
                      static_cast<uint32_t>(i));
      has_normalized_ = true;
    } else {
      raw_.add(t.content, static_cast<uint32_t>(i));
    }
    if (t.id >= id_to_added_.size()) id_to_added_.resize(t.id + 1, -1);
    id_to_added_[t.id] = static_cast<int64_t>(i);
  }
}

bool Pipeline::has_external_steps() const noexcept {
  for (const auto& s : pre_tokenizer) {
    if (s.kind == PreTokenizerStep::Kind::External) return true;
  }
  return false;
}

TokenMask Pipeline::all_special_mask(bool on) const {
  TokenMask mask(added_.size(), 1);
  for (std::size_t i = 0; i < added_.size(); ++i) {
    if (added_[i].special) mask[i] = on;
  }
  return mask;
}

void Pipeline::split_segments(std::string_view text, const TokenMatcher& matcher,
                              const TokenMask& mask, std::vector<Segment>& out) const {
  if (text.empty()) return;
  if (matcher.empty()) {
    out.push_back({0, static_cast<uint32_t>(text.size()), -1});
    return;
  }
  matcher.split(text, added_, mask, out);
}

Prepared Pipeline::prepare(std::string_view text, const TokenMask& mask, bool alignment) const {
  CTX_REQUIRE(mask.size() == added_.size(), "the special-token mask has the wrong length");
  check_text_size(text.size());
  Prepared p;
  std::vector<Segment> raw, sub;
  split_segments(text, raw_, mask, raw);
  NormalizedText nt;
  std::vector<uint32_t> byte_cp;
  for (const Segment& seg : raw) {
    const std::size_t base = p.text.size();
    if (seg.id >= 0) {
      p.text.append(text.substr(seg.begin, seg.end - seg.begin));
      if (alignment) {
        for (uint32_t b = seg.begin; b < seg.end; ++b) {
          p.src_begin.push_back(seg.begin);
          p.src_end.push_back(seg.end);
        }
      }
      p.segments.push_back(
          {static_cast<uint32_t>(base), static_cast<uint32_t>(p.text.size()), seg.id});
      continue;
    }
    const std::string_view part = text.substr(seg.begin, seg.end - seg.begin);
    if (normalizer.empty()) {
      p.text.append(part);
      if (alignment) {
        const auto* s = reinterpret_cast<const unsigned char*>(part.data());
        for (std::size_t i = 0; i < part.size();) {
          const std::size_t len = utf8_length(s[i]);
          for (std::size_t k = 0; k < len; ++k) {
            p.src_begin.push_back(static_cast<uint32_t>(seg.begin + i));
            p.src_end.push_back(static_cast<uint32_t>(seg.begin + i + len));
          }
          i += len;
        }
      }
    } else if (!alignment &&
               !has_non_ascii(reinterpret_cast<const uint8_t*>(part.data()), part.size()) &&
               normalizer.apply_ascii(part, p.text)) {
      // the ASCII fast path appended the normalized text
    } else if (!alignment && normalizer.apply_stable(part, p.text)) {
      // NFC / NFD on text they leave unchanged: appended as it is
    } else {
      nt.assign(part, seg.begin);
      normalizer.apply(nt);
      byte_cp.clear();
      nt.append_utf8(p.text, alignment ? &byte_cp : nullptr);
      for (uint32_t cp_index : byte_cp) {
        p.src_begin.push_back(nt.begin[cp_index]);
        p.src_end.push_back(nt.end[cp_index]);
      }
    }
    check_text_size(p.text.size());  // normalization can grow the text
    sub.clear();
    const std::string_view normalized(p.text.data() + base, p.text.size() - base);
    if (has_normalized_) {
      split_segments(normalized, normalized_, mask, sub);
    } else if (!normalized.empty()) {
      sub.push_back({0, static_cast<uint32_t>(normalized.size()), -1});
    }
    for (const Segment& s : sub) {
      p.segments.push_back(
          {static_cast<uint32_t>(base + s.begin), static_cast<uint32_t>(base + s.end), s.id});
    }
  }
  return p;
}

std::vector<Piece> Pipeline::run_step(std::size_t step, const std::string& text,
                                      const std::vector<Piece>& pieces) const {
  using Kind = PreTokenizerStep::Kind;
  CTX_REQUIRE(step < pre_tokenizer.size(), "no such pre-tokenizer step");
  const PreTokenizerStep& st = pre_tokenizer[step];
  CTX_REQUIRE(st.kind != Kind::External, "an external pre-tokenizer step cannot run natively");
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  for (const Piece& pc : pieces) {
    if (pc.id >= 0) {
      out.push_back(pc);
      continue;
    }
    if (st.byte_level && (st.kind == Kind::CharSplit || st.kind == Kind::Regex)) {
      CTX_CHECK(!pc.meta, "a byte-level step after Metaspace");
      split_byte_level(st, s, pc, out);
      continue;
    }
    if (st.kind == Kind::CharSplit) {
      if (pc.space || pc.meta) {  // the loader puts these steps before ByteLevel and Metaspace
        out.push_back(pc);
        continue;
      }
      split_on_chars(s, pc.begin, pc.end, st.char_flag, st.behavior, out);
      continue;
    }
    if (st.kind == Kind::Regex) {
      // Split steps come before ByteLevel and Metaspace (the loader checks), so no piece has
      // a virtual prefix here.
      CTX_CHECK(!pc.space && !pc.meta, "a Split step after ByteLevel or Metaspace");
      split_on_regex(s, pc.begin, pc.end, *st.regex, st.invert, st.behavior, out);
      continue;
    }
    if (st.kind == Kind::Metaspace) {
      // HF: replace ' ' by the replacement, prepend it (always, or only at the start of the
      // text) unless the piece starts with it, then split before every replacement.
      const std::string& r = metaspace;
      auto delimiter_at = [&](uint32_t i) -> uint32_t {  // byte length of a delimiter at i
        if (s[i] == ' ') return 1;
        return text.compare(i, r.size(), r) == 0 ? static_cast<uint32_t>(r.size()) : 0;
      };
      const bool starts = pc.begin < pc.end && delimiter_at(pc.begin) != 0;
      const bool prepend =
          !starts && (st.prepend == PreTokenizerStep::Prepend::Always ||
                      (st.prepend == PreTokenizerStep::Prepend::First && pc.begin == 0));
      if (!st.split) {
        out.push_back({pc.begin, pc.end, -1, prepend, true});
        continue;
      }
      uint32_t word = pc.begin;
      bool virtual_prefix = prepend;
      for (uint32_t i = pc.begin; i < pc.end;) {
        const uint32_t d = delimiter_at(i);
        if (d != 0 && i > word) {
          out.push_back({word, i, -1, virtual_prefix, true});
          virtual_prefix = false;
          word = i;
        }
        i += d != 0 ? d : static_cast<uint32_t>(utf8_length(s[i]));
      }
      if (word < pc.end || virtual_prefix) out.push_back({word, pc.end, -1, virtual_prefix, true});
      continue;
    }
    const bool add_space =
        st.add_prefix_space && !pc.space && (pc.begin == pc.end || s[pc.begin] != ' ');
    if (st.kind == Kind::ByteLevel) {
      Piece q = pc;
      q.space = pc.space || add_space;
      out.push_back(q);
      continue;
    }
    if (st.kind == Kind::Scanner) {
      // The pieces of the pattern tile the text (Isolated); a virtual leading space is
      // scanned as part of the text, as HF prepends it before running the regex.
      if (!pc.space && !add_space) {
        for_each_piece(st.scanner, s, pc.begin, pc.end, [&](std::size_t b, std::size_t e) {
          out.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), -1, false});
        });
        continue;
      }
      std::string spaced(" ");
      spaced.append(text, pc.begin, pc.end - pc.begin);
      const auto* t = reinterpret_cast<const unsigned char*>(spaced.data());
      for_each_piece(st.scanner, t, 0, spaced.size(), [&](std::size_t b, std::size_t e) {
        const auto at = [&](std::size_t x) { return pc.begin + static_cast<uint32_t>(x) - 1; };
        out.push_back({b == 0 ? pc.begin : at(b), at(e), -1, b == 0});
      });
      continue;
    }
    // Bert / WhitespaceSplit: whitespace removed; Bert also isolates punctuation. A virtual
    // leading space (from an earlier ByteLevel step) is whitespace and disappears.
    const bool bert = st.kind == Kind::Bert;
    uint32_t word = pc.begin;
    for (uint32_t i = pc.begin; i < pc.end;) {
      uint32_t cp;
      const uint32_t len = static_cast<uint32_t>(decode_utf8(s, i, &cp));
      if (is_whitespace(cp)) {
        if (word < i) out.push_back({word, i, -1, false});
        word = i + len;
      } else if (bert && (flags(cp) & kBertPunct)) {
        if (word < i) out.push_back({word, i, -1, false});
        out.push_back({i, i + len, -1, false});
        word = i + len;
      }
      i += len;
    }
    if (word < pc.end) out.push_back({word, pc.end, -1, false});
  }
  return out;
}

void Pipeline::pre_tokenize(const std::string& text, const Segment& seg,
                            std::vector<Piece>& out) const {
  std::vector<Piece> pieces{{seg.begin, seg.end, seg.id, false}};
  if (seg.id < 0) {
    for (std::size_t k = 0; k < pre_tokenizer.size(); ++k) pieces = run_step(k, text, pieces);
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

std::string_view Pipeline::model_input(const std::string& text, const Piece& pc, std::string& buf,
                                       std::vector<int64_t>* from) const {
  const std::string_view piece(text.data() + pc.begin, pc.end - pc.begin);
  if (from != nullptr) from->clear();
  if (!pc.space && !pc.meta) {
    if (from != nullptr) {
      for (uint32_t i = pc.begin; i < pc.end; ++i) from->push_back(i);
    }
    return piece;
  }
  buf.clear();
  const std::string prefix = pc.meta ? metaspace : std::string(" ");
  if (pc.space) {
    buf += prefix;
    if (from != nullptr) from->insert(from->end(), prefix.size(), -1);
  }
  for (uint32_t i = 0; i < piece.size(); ++i) {
    if (pc.meta && piece[i] == ' ') {
      buf += metaspace;
      if (from != nullptr) from->insert(from->end(), metaspace.size(), pc.begin + i);
    } else {
      buf.push_back(piece[i]);
      if (from != nullptr) from->push_back(pc.begin + i);
    }
  }
  return buf;
}

void Pipeline::run_model(const std::string& text, const std::vector<Piece>& pieces,
                         Scratch& scratch, std::vector<uint32_t>& ids, std::vector<uint32_t>* lens,
                         std::vector<uint32_t>* per_piece) const {
  std::string spaced;
  for (const Piece& pc : pieces) {
    const std::size_t before = ids.size();
    if (pc.id >= 0) {
      ids.push_back(static_cast<uint32_t>(pc.id));
      if (lens != nullptr) lens->push_back(pc.end - pc.begin);
      if (per_piece != nullptr) per_piece->push_back(1);
      continue;
    }
    const std::string_view piece = model_input(text, pc, spaced, nullptr);
    if (!piece.empty()) model->tokenize(piece, scratch, ids, lens);
    if (per_piece != nullptr) per_piece->push_back(static_cast<uint32_t>(ids.size() - before));
  }
}

void Pipeline::encode_pieces(const Prepared& p, const std::vector<Piece>& pieces, bool add_special,
                             std::vector<uint32_t>& ids, std::vector<uint32_t>* offsets) const {
  Scratch scratch;
  encode_pieces(p, pieces, add_special, scratch, ids, offsets);
}

void Pipeline::encode_pieces(const Prepared& p, const std::vector<Piece>& pieces, bool add_special,
                             Scratch& scratch, std::vector<uint32_t>& ids,
                             std::vector<uint32_t>* offsets) const {
  CTX_CHECK(model != nullptr, "the pipeline has no model");
  std::vector<uint32_t> lens, per_piece;
  const std::size_t first = ids.size();
  if (add_special) ids.insert(ids.end(), prefix_ids.begin(), prefix_ids.end());
  const std::size_t body = ids.size();
  run_model(p.text, pieces, scratch, ids, offsets != nullptr ? &lens : nullptr,
            offsets != nullptr ? &per_piece : nullptr);
  const std::size_t body_end = ids.size();
  if (add_special) ids.insert(ids.end(), suffix_ids.begin(), suffix_ids.end());
  if (offsets == nullptr) return;
  CTX_CHECK(p.src_begin.size() == p.text.size(), "offsets need a prepared text with alignment");
  // Token k of a piece covers normalized bytes [at, at + len) (the virtual space counts as one
  // byte before the piece); its original range runs from the first byte's source to the last's.
  auto src = [&](uint32_t a, uint32_t b, uint32_t* ob, uint32_t* oe) {
    if (a >= b) {
      const uint32_t at = a < p.src_begin.size() ? p.src_begin[a]
                          : p.src_end.empty()    ? 0
                                                 : p.src_end.back();
      *ob = *oe = at;
      return;
    }
    *ob = p.src_begin[a];
    *oe = p.src_end[b - 1];
  };
  const uint32_t zero = p.src_begin.empty() ? 0 : p.src_begin.front();
  for (std::size_t k = first; k < body; ++k) {
    offsets->push_back(zero);
    offsets->push_back(zero);
  }
  std::size_t t = 0;
  std::string buf;
  std::vector<int64_t> from;
  for (std::size_t q = 0; q < pieces.size(); ++q) {
    const Piece& pc = pieces[q];
    if (pc.id >= 0) {
      uint32_t b, e;
      src(pc.begin, pc.end, &b, &e);
      offsets->push_back(b);
      offsets->push_back(e);
      ++t;
      continue;
    }
    // Token k covers bytes [at, at + len) of the model's input; its original range runs from
    // the source of its first real (not virtual) byte to that of its last.
    model_input(p.text, pc, buf, &from);
    std::size_t at = 0;
    for (uint32_t k = 0; k < per_piece[q]; ++k, ++t) {
      const std::size_t hi = std::min(at + lens[t], from.size());
      int64_t lo_b = -1, hi_b = -1;
      for (std::size_t i = std::min(at, hi); i < hi; ++i) {
        if (from[i] < 0) continue;
        if (lo_b < 0) lo_b = from[i];
        hi_b = from[i];
      }
      uint32_t b, e;
      if (lo_b < 0) {
        src(pc.begin, pc.begin, &b, &e);
      } else {
        src(static_cast<uint32_t>(lo_b), static_cast<uint32_t>(hi_b) + 1, &b, &e);
      }
      offsets->push_back(b);
      offsets->push_back(e);
      at += lens[t];
    }
  }
  CTX_CHECK(t == body_end - body, "token offsets out of step with the tokens");
  const uint32_t last = p.src_end.empty() ? 0 : p.src_end.back();
  for (std::size_t k = body_end; k < ids.size(); ++k) {
    offsets->push_back(last);
    offsets->push_back(last);
  }
}

void Pipeline::encode(std::string_view text, const TokenMask& mask, bool add_special,
                      std::vector<uint32_t>& ids, std::vector<uint32_t>* offsets) const {
  Scratch scratch;
  encode(text, mask, add_special, scratch, ids, offsets);
}

void Pipeline::encode(std::string_view text, const TokenMask& mask, bool add_special,
                      Scratch& scratch, std::vector<uint32_t>& ids,
                      std::vector<uint32_t>* offsets) const {
  CTX_REQUIRE(!has_external_steps(), "this tokenizer needs the Python pre-tokenizer path");
  const Prepared p = prepare(text, mask, offsets != nullptr);
  std::vector<Piece> pieces;
  for (const Segment& seg : p.segments) pre_tokenize(p.text, seg, pieces);
  encode_pieces(p, pieces, add_special, scratch, ids, offsets);
}

std::size_t Pipeline::count(std::string_view text, const TokenMask& mask, bool add_special) const {
  std::vector<uint32_t> ids;
  encode(text, mask, add_special, ids, nullptr);
  return ids.size();
}

void Pipeline::count_many(const std::vector<std::string_view>& texts, const TokenMask& mask,
                          bool add_special, std::size_t threads, int64_t* out) const {
  CTX_REQUIRE(!has_external_steps(), "this tokenizer needs the Python pre-tokenizer path");
  parallel_for(texts.size(), 1, threads, [&](std::size_t lo, std::size_t hi) {
    std::vector<uint32_t> ids;
    Scratch scratch;
    for (std::size_t i = lo; i < hi; ++i) {
      ids.clear();
      encode(texts[i], mask, add_special, scratch, ids, nullptr);
      out[i] = static_cast<int64_t>(ids.size());
    }
  });
}

bool Pipeline::token_string(uint32_t id, std::string& out) const {
  if (id < id_to_added_.size() && id_to_added_[id] >= 0) {
    const AddedToken& t = added_[id_to_added_[id]];
    out = t.normalized && !normalizer.empty() ? normalizer.apply(t.content) : t.content;
    return true;
  }
  return model != nullptr && model->token_of(id, out);
}

std::string Pipeline::decode(const uint32_t* ids, std::size_t n, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(n);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (!token_string(ids[i], s)) continue;  // unknown ids are skipped, as HF does
    if (skip_special && ids[i] < id_to_added_.size() && id_to_added_[ids[i]] >= 0 &&
        added_[id_to_added_[ids[i]]].special) {
      continue;
    }
    tokens.push_back(s);
  }
  return decoder.decode(std::move(tokens));
}

std::pair<int64_t, int64_t> Pipeline::find_token(std::string_view text,
                                                 const TokenMask& mask) const {
  CTX_REQUIRE(mask.size() == added_.size(), "the special-token mask has the wrong length");
  std::vector<Segment> segs;
  const TokenMask all(added_.size(), 1);
  for (const TokenMatcher* m : {&raw_, &normalized_}) {
    segs.clear();
    split_segments(text, *m, all, segs);
    for (const Segment& s : segs) {
      if (s.id >= 0 && mask[id_to_added_[s.id]]) {
        return {static_cast<int64_t>(s.begin), id_to_added_[s.id]};
      }
    }
  }
  return {-1, -1};
}

}  // namespace ctxengine::hf
