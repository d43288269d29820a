#include "tokenizer/bpe_tokenizer.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "tokenizer/bpe_span_counter.hpp"

namespace ctxengine {
namespace {

// count_many splits texts longer than this at safe seams into parts of about this size.
constexpr std::size_t kSplitBytes = 256 * 1024;
// count_until does not count a piece longer than this whole before checking the limit.
constexpr std::size_t kHugePiece = 64 * 1024;

bool any_allowed(const std::vector<char>* allowed) {
  return allowed != nullptr && std::find(allowed->begin(), allowed->end(), 1) != allowed->end();
}

inline bool is_ascii_letter(uint8_t c) {
  return static_cast<uint8_t>((c | 0x20) - 'a') < 26;
}

}  // namespace

BpeTokenizer::BpeTokenizer(std::string name, std::shared_ptr<const BpeModel> model,
                           Pretokenizer pretokenizer, std::vector<SpecialToken> special_tokens,
                           std::shared_ptr<const Regex> regex)
    : name_(std::move(name)),
      model_(std::move(model)),
      pretokenizer_(pretokenizer),
      regex_(std::move(regex)),
      specials_(std::move(special_tokens)) {
  CTX_REQUIRE(model_ != nullptr, "a tokenizer needs a BPE model");
  CTX_REQUIRE(pretokenizer_ != Pretokenizer::Custom || regex_ != nullptr,
              "a custom pre-tokenizer needs a compiled regex");
  n_vocab_ = model_->vocab().id_bound();
  for (const SpecialToken& t : specials_.tokens())
    n_vocab_ = std::max<std::size_t>(n_vocab_, std::size_t{t.id} + 1);
}

std::size_t BpeTokenizer::next_piece(const uint8_t* s, std::size_t i,
                                     std::size_t end) const noexcept {
  switch (pretokenizer_) {
    case Pretokenizer::Cl100k:
      return detail::Cl100kScanner::next(s, i, end);
    case Pretokenizer::O200k:
      return detail::O200kScanner::next(s, i, end);
    case Pretokenizer::R50k:
      return detail::R50kScanner::next(s, i, end);
    case Pretokenizer::Llama3:
      return detail::Llama3Scanner::next(s, i, end);
    case Pretokenizer::Qwen2:
      return detail::Qwen2Scanner::next(s, i, end);
    case Pretokenizer::Custom:
      break;
  }
  return end;
}

namespace {

// Calls fn(a, b, probe) for each piece [a, b) of s[begin, end), one piece behind the scanner:
// the vocabulary slot of a piece (its whole-piece lookup, `probe`) is prefetched when it is
// found and read one iteration later, which hides much of the table's memory latency behind
// the scan of the next piece.
template <class Scanner, class Fn>
void probe_pipelined(const Vocabulary& v, const uint8_t* s, std::size_t n, std::size_t begin,
                     std::size_t end, Fn&& fn) {
  if (begin >= end) return;
  std::size_t a = begin, b = Scanner::next(s, a, end);
  Vocabulary::Probe probe = v.probe(s + a, b - a, n - a);
  v.prefetch(probe);
  while (b < end) {
    const std::size_t c = b, d = Scanner::next(s, c, end);
    const Vocabulary::Probe next = v.probe(s + c, d - c, n - c);
    v.prefetch(next);
    fn(a, b, probe);
    a = c;
    b = d;
    probe = next;
  }
  fn(a, b, probe);
}

// The same for a compiled pattern, whose matches come in batches (empty ones too: fn sees
// a == b). Its scanner finds a piece in fewer cycles than a slot takes to arrive from memory,
// so each batch is handled kAhead pieces behind its prefetches.
template <class Fn>
void probe_pipelined(const Regex& re, const Vocabulary& v, const uint8_t* s, std::size_t n,
                     std::size_t begin, std::size_t end, Fn&& fn) {
  constexpr std::size_t kBatch = 128, kAhead = 8;
  Regex::Span spans[kBatch];
  Vocabulary::Probe probes[kBatch];
  Regex::Cursor cursor(begin);
  while (const std::size_t found = re.next_matches(s, begin, end, cursor, spans, kBatch)) {
    for (std::size_t k = 0; k < found; ++k) {
      const Regex::Span& p = spans[k];
      probes[k] = v.probe(s + p.begin, p.end - p.begin, n - p.begin);
      v.prefetch(probes[k]);
      if (k >= kAhead) fn(spans[k - kAhead].begin, spans[k - kAhead].end, probes[k - kAhead]);
    }
    for (std::size_t q = found > kAhead ? found - kAhead : 0; q < found; ++q)
      fn(spans[q].begin, spans[q].end, probes[q]);
  }
}

}  // namespace

template <class Fn>
void BpeTokenizer::for_each_probed_piece(const uint8_t* s, std::size_t n, std::size_t begin,
                                         std::size_t end, Fn&& fn) const {
  const Vocabulary& v = model_->vocab();
  switch (pretokenizer_) {
    case Pretokenizer::Cl100k:
      return probe_pipelined<detail::Cl100kScanner>(v, s, n, begin, end, fn);
    case Pretokenizer::O200k:
      return probe_pipelined<detail::O200kScanner>(v, s, n, begin, end, fn);
    case Pretokenizer::R50k:
      return probe_pipelined<detail::R50kScanner>(v, s, n, begin, end, fn);
    case Pretokenizer::Llama3:
      return probe_pipelined<detail::Llama3Scanner>(v, s, n, begin, end, fn);
    case Pretokenizer::Qwen2:
      return probe_pipelined<detail::Qwen2Scanner>(v, s, n, begin, end, fn);
    case Pretokenizer::Custom:
      return probe_pipelined(*regex_, v, s, n, begin, end, fn);
  }
}

std::size_t BpeTokenizer::count_range(const uint8_t* s, std::size_t n, std::size_t begin,
                                      std::size_t end) const {
  const BpeModel& m = *model_;
  std::size_t total = 0;
  auto count = [&](std::size_t a, std::size_t b, const Vocabulary::Probe& probe) {
    total += m.count_piece(s + a, b - a, probe);
  };
  for_each_probed_piece(s, n, begin, end, count);
  return total;
}

template <bool kCount>
std::size_t BpeTokenizer::run_segments(std::string_view text, const std::vector<char>* allowed,
                                       std::vector<uint32_t>* ids,
                                       std::vector<std::size_t>* starts) const {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const std::size_t n = text.size();
  const bool specials = any_allowed(allowed);
  const BpeModel& m = *model_;
  const Vocabulary& v = m.vocab();
  std::size_t total = 0, pos = 0;
  while (true) {
    std::size_t index = 0;
    const std::size_t at = specials ? specials_.find(text, pos, allowed, &index) : npos;
    const std::size_t seg_end = at == npos ? n : at;
    if constexpr (kCount) {
      total += count_range(s, n, pos, seg_end);
    } else {
      auto encode = [&](std::size_t a, std::size_t b, const Vocabulary::Probe& probe) {
        if (a == b) return;  // an empty match of a compiled pattern encodes to nothing
        const std::size_t first = ids->size();
        m.encode_piece(s + a, b - a, probe, *ids);
        if (starts != nullptr) {
          std::size_t off = a;
          for (std::size_t k = first; k < ids->size(); ++k) {
            starts->push_back(off);
            off += v.bytes((*ids)[k]).size();
          }
        }
      };
      for_each_probed_piece(s, n, pos, seg_end, encode);
    }
    if (at == npos) break;
    if constexpr (kCount) {
      ++total;
    } else {
      ids->push_back(specials_[index].id);
      if (starts != nullptr) starts->push_back(at);
    }
    pos = at + specials_[index].text.size();
  }
  return kCount ? total : ids->size();
}

void BpeTokenizer::encode_ordinary(std::string_view text, std::vector<uint32_t>& out) const {
  run_segments<false>(text, nullptr, &out, nullptr);
}

std::size_t BpeTokenizer::count_ordinary(std::string_view text) const {
  return run_segments<true>(text, nullptr, nullptr, nullptr);
}

void BpeTokenizer::encode(std::string_view text, const std::vector<char>* allowed,
                          std::vector<uint32_t>& out) const {
  run_segments<false>(text, allowed, &out, nullptr);
}

std::size_t BpeTokenizer::count(std::string_view text, const std::vector<char>* allowed) const {
  return run_segments<true>(text, allowed, nullptr, nullptr);
}

void BpeTokenizer::encode_with_offsets(std::string_view text, const std::vector<char>* allowed,
                                       std::vector<uint32_t>& ids,
                                       std::vector<std::size_t>& starts) const {
  run_segments<false>(text, allowed, &ids, &starts);
}

std::size_t BpeTokenizer::find_safe_seam(std::string_view text, std::size_t from,
                                         std::size_t limit) const noexcept {
  if (pretokenizer_ == Pretokenizer::Custom) return npos;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const bool newline_seams = pretokenizer_ != Pretokenizer::R50k;
  limit = std::min(limit, text.size() > 0 ? text.size() - 1 : 0);
  for (std::size_t p = std::max<std::size_t>(from, 1); p < limit; ++p) {
    // "x| y": a letter run ends at the space, and " y" starts a piece in every known pattern.
    if (s[p] == ' ' && is_ascii_letter(s[p - 1]) && is_ascii_letter(s[p + 1])) return p;
    // "\n|x": a whitespace run whose last character is a newline is one piece, cut or not, in
    // the patterns with a [\r\n] rule (r50k has none: it would split "  \n" as "  ", "\n").
    // '/' is excluded: o200k's punctuation rule [\r\n/]* carries ".\n/" on as one piece.
    if (newline_seams && s[p - 1] == '\n' && s[p] > ' ' && s[p] < 0x80 && s[p] != '/') return p;
  }
  return npos;
}

std::vector<std::size_t> BpeTokenizer::seams(std::string_view text, std::size_t part_bytes) const {
  std::vector<std::size_t> out;
  const std::size_t n = text.size();
  std::size_t begin = 0;
  while (n - begin > 2 * part_bytes) {
    const std::size_t seam = find_safe_seam(text, begin + part_bytes, n - part_bytes);
    if (seam == npos) break;
    out.push_back(seam);
    begin = seam;
  }
  return out;
}

void BpeTokenizer::count_many(const std::vector<std::string_view>& texts,
                              const std::vector<char>* allowed, std::size_t threads,
                              int64_t* out) const {
  struct Part {
    std::size_t text, begin, end;
  };
  std::vector<Part> parts;
  parts.reserve(texts.size());
  const bool splittable = !any_allowed(allowed) && pretokenizer_ != Pretokenizer::Custom &&
                          resolve_threads(threads) > 1;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::size_t n = texts[i].size();
    std::size_t begin = 0;
    if (splittable && n > 2 * kSplitBytes) {
      for (std::size_t seam : seams(texts[i], kSplitBytes)) {
        parts.push_back(Part{i, begin, seam});
        begin = seam;
      }
    }
    parts.push_back(Part{i, begin, n});
  }
  std::vector<int64_t> counts(parts.size());
  parallel_for(parts.size(), 1, threads, [&](std::size_t lo, std::size_t hi) {
    for (std::size_t k = lo; k < hi; ++k) {
      const Part& p = parts[k];
      const std::string_view t = texts[p.text];
      if (p.begin == 0 && p.end == t.size()) {
        counts[k] = static_cast<int64_t>(count(t, allowed));
      } else {
        const auto* s = reinterpret_cast<const uint8_t*>(t.data());
        counts[k] = static_cast<int64_t>(count_range(s, t.size(), p.begin, p.end));
      }
    }
  });
  std::fill(out, out + texts.size(), int64_t{0});
  for (std::size_t k = 0; k < parts.size(); ++k) out[parts[k].text] += counts[k];
}

BpeTokenizer::Prefix BpeTokenizer::count_until(std::string_view text, std::size_t limit) const {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const std::size_t n = text.size();
  BpeSpanCounter prefix(*this, text, limit, kHugePiece);
  while (prefix.huge_piece_end() != 0) {
    // A piece too long to count whole just to learn that the limit passes inside it: with q
    // the last safe boundary before it, count(0, x) = count(0, q) + count_range(q, x) for any
    // x >= q, so gallop over prefixes of the piece and bisect once one passes the limit.
    const std::size_t p = prefix.covered(), e = prefix.huge_piece_end();
    const std::size_t q = prefix.safe_boundary_before(p);
    const std::size_t base = prefix.count(0, q);
    if (base > limit) {  // passed before the piece, at a boundary that was not safe
      const std::size_t end = prefix.fit(0, q, limit);
      return Prefix{prefix.count(0, end), end};
    }
    auto count_to = [&](std::size_t x) { return base + count_range(s, n, q, x); };
    auto char_start = [&](std::size_t i) {
      while (i > 0 && is_utf8_continuation(s[i])) --i;
      return i;
    };
    std::size_t lo = q, hi = 0;
    for (std::size_t step = std::max<std::size_t>(256, 4 * (limit - base + 1));; step *= 2) {
      if (p + step >= e) break;
      const std::size_t x = char_start(p + step);
      if (count_to(x) > limit) {
        hi = x;
        break;
      }
      lo = x;
    }
    if (hi == 0) {  // the whole piece fits: count it and carry on
      prefix.extend(limit, kHugePiece);
      continue;
    }
    while (lo + utf8_length(s[lo]) < hi) {
      std::size_t mid = char_start(lo + (hi - lo) / 2);
      if (mid == lo) mid = lo + utf8_length(s[lo]);
      if (count_to(mid) <= limit)
        lo = mid;
      else
        hi = mid;
    }
    return Prefix{count_to(lo), lo};
  }
  if (prefix.covered() == n && prefix.total() <= limit) return Prefix{prefix.total(), n};
  const std::size_t end = prefix.fit(0, prefix.covered(), limit);
  return Prefix{prefix.count(0, end), end};
}

std::unique_ptr<SpanCounter> BpeTokenizer::span_counter(std::string_view text) const {
  return std::make_unique<BpeSpanCounter>(*this, text);
}

void BpeTokenizer::decode(const uint32_t* ids, std::size_t n, std::string& out) const {
  const Vocabulary& v = model_->vocab();
  for (std::size_t i = 0; i < n; ++i) {
    const uint32_t id = ids[i];
    if (v.contains(id)) {
      out += v.bytes(id);
      continue;
    }
    const std::size_t k = specials_.index_of_id(id);
    if (k == SpecialTokens::npos)
      throw_error(ErrorKind::InvalidArgument, "token id " + std::to_string(id) + " (at position " +
                                                  std::to_string(i) + ") is not in " + name_ +
                                                  "'s vocabulary (ids 0.." +
                                                  std::to_string(n_vocab_ - 1) + ")");
    out += specials_[k].text;
  }
}

}  // namespace ctxengine
