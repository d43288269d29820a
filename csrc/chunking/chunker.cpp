// Greedy merging to the budget; see chunker.hpp.
//
// semantic-text-splitter picks the highest semantic level whose first unit fits and then
// binary-searches how many units of that level fit, re-tokenizing each candidate. Here one
// count-until-limit call (SpanCounter::fit) says how far the budget reaches; the chunk ends at
// the strongest stored boundary in that reach (the farthest one of that level), which is the
// same choice, and one exact count of the chosen span confirms it. BPE counts of growing spans
// are almost but not always monotone, so a candidate that turns out over the budget is skipped
// for the next one, down to a plain character cut that fit() itself vouches for.
//
// Overlap: the next chunk may start inside the previous one, at the earliest word or stored
// boundary from which the rest of the previous chunk takes at most `overlap` tokens, and then
// runs as far as the budget allows. The repeated text uses budget, which could push the chunk's
// end from a strong boundary to a weak one (into a code block that would have fitted alone), so
// the chunk is also found without overlap; when that one ends at a stronger boundary, it is
// kept and given as much of the overlap as still fits in front of it.
#include "chunking/chunker.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

#include "chunking/text_scan.hpp"
#include "common/error.hpp"

namespace ctxengine {

using detail::align_char;
using detail::is_word_boundary;
using detail::prev_char_start;
using detail::skip_ws;
using detail::trim_end;

namespace {

// Candidates tried per chunk before falling back to a character cut (only ever reached when
// counts misbehave: each failure means a span over the budget inside the budget's reach).
constexpr int kMaxAttempts = 32;

// How far past fit()'s answer stored boundaries are still tried. BPE counts of growing prefixes
// dip where a longer piece merges better ("...\n~~~" can take a token more than "...\n~~~~"),
// so fit() can stop just short of a boundary whose span still fits (a code fence of exactly
// max_tokens tokens); such dips span a pre-token or two, hence a short look past.
constexpr uint64_t kLookPastBytes = 64;
constexpr int kLookPastBoundaries = 4;

// The first window offered to fit(), from an estimate of the budget's reach in bytes: some room
// to spare, and no overflow for absurd budgets (the window only ever doubles from here).
uint64_t first_window(double bytes) {
  return bytes >= 1e12 ? uint64_t{1} << 40 : static_cast<uint64_t>(bytes) + 64;
}

}  // namespace

// The text, its counter in absolute offsets, its boundaries, and how far decisions may read.
struct Chunker::Span {
  const TextWindow& w;
  const SpanCounter& counter;
  const std::vector<Boundary>& boundaries;
  uint64_t limit;  // w.end() at the end of the text, else the scanners' committed offset

  std::size_t count(uint64_t a, uint64_t b) const {
    return counter.count(static_cast<std::size_t>(a - w.base),
                         static_cast<std::size_t>(b - w.base));
  }
  uint64_t fit(uint64_t a, uint64_t b, std::size_t limit_tokens) const {
    return w.base + counter.fit(static_cast<std::size_t>(a - w.base),
                                static_cast<std::size_t>(b - w.base), limit_tokens);
  }
  uint64_t skip(uint64_t p, bool trim) const { return trim ? skip_ws(w, p, limit) : p; }
};

Chunker::Chunker(const ChunkOptions& options)
    : opt_(options), window_(first_window(4.0 * static_cast<double>(options.max_tokens))) {
  CTX_REQUIRE(options.max_tokens >= 1, "max_tokens must be at least 1");
  CTX_REQUIRE(
      options.overlap < options.max_tokens,
      "overlap must be smaller than max_tokens (got overlap=" + std::to_string(options.overlap) +
          ", max_tokens=" + std::to_string(options.max_tokens) + ")");
}

Chunker::Step Chunker::next(const TextWindow& w, const SpanCounter& counter,
                            const std::vector<Boundary>& boundaries, uint64_t committed,
                            ChunkRecord* out) {
  const Span span{w, counter, boundaries, w.eof ? w.end() : std::min(committed, w.end())};
  // Where the chunk starts without overlap, and that chunk.
  const uint64_t s = span.skip(cursor_, opt_.trim);
  if (s >= span.limit) return w.eof ? Step::Done : Step::NeedMore;
  End plain, end;
  switch (find(span, s, s, &plain)) {
    case Found::NeedMore:
      return Step::NeedMore;
    case Found::No:
      CTX_CHECK(false, "no chunk end found although fit() advanced");
    case Found::Yes:
      break;
  }
  end = plain;
  if (overlap_) {
    End over;
    const Found found = find(span, starts_[first_start_], prev_end_, &over);
    if (found == Found::NeedMore) return Step::NeedMore;
    if (found == Found::Yes && over.level >= plain.level)
      end = over;
    else
      prepend_overlap(span, plain, &end);
  }

  *out = end.chunk;
  // Adapt the first window to the text: its bytes per token, a quarter to spare.
  if (out->tokens > 0)
    window_ = first_window(static_cast<double>(out->end - out->start) * 1.25 *
                           static_cast<double>(opt_.max_tokens) / static_cast<double>(out->tokens));
  cursor_ = end.raw_end;
  overlap_ = false;
  const bool at_end = w.eof && span.skip(end.raw_end, opt_.trim) >= w.end();
  if (opt_.overlap > 0 && !at_end) plan_overlap(span, end.chunk);
  return Step::Chunk;
}

Chunker::Found Chunker::find(const Span& span, uint64_t s, uint64_t min_end, End* out) const {
  const TextWindow& w = span.w;
  const uint64_t limit = span.limit;
  // How far the budget reaches: offer fit() a window, doubling it while all of it fits.
  uint64_t win = window_, fe;
  for (;;) {
    uint64_t we = win >= limit - s ? limit : s + win;
    if (we >= limit) {
      if (!w.eof) return Found::NeedMore;
      we = limit;
    } else {
      we = align_char(w, we);
    }
    fe = span.fit(s, we, opt_.max_tokens);
    if (fe == we && we < limit) {
      win = win > limit ? limit : 2 * win;
      continue;
    }
    break;
  }
  if (fe == s) {
    std::size_t len;
    const uint32_t cp = detail::char_at(w, s, &len);
    const std::size_t need = span.count(s, s + len);
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
    throw_error(ErrorKind::Limit, "max_tokens=" + std::to_string(opt_.max_tokens) +
                                      " cannot hold the character " + code + ", which takes " +
                                      std::to_string(need) + " tokens on its own; use " +
                                      "max_tokens >= " + std::to_string(need));
  }
  // Chunks end trimmed, so a boundary past whitespace that starts within reach is within reach
  // too (the whitespace is not counted): the reach extends over that whitespace.
  uint64_t reach = span.skip(fe, opt_.trim);
  if (reach >= limit && !w.eof) return Found::NeedMore;
  // Stored boundaries just past the reach whose span fits anyway extend it. A stream decides
  // only once the look-past stretch is committed, so it chooses as the whole text does.
  if (!w.eof && limit - reach <= kLookPastBytes) return Found::NeedMore;
  const auto& b = span.boundaries;
  auto it = std::upper_bound(b.begin(), b.end(), make_boundary(reach, 0xFF));
  for (int n = 0; it != b.end() && n < kLookPastBoundaries; ++it, ++n) {
    const uint64_t raw = boundary_pos(*it);
    if (raw > reach + kLookPastBytes || raw > limit) break;
    const uint64_t e = opt_.trim ? trim_end(w, s, raw) : raw;
    if (span.count(s, e) <= opt_.max_tokens) reach = raw;
  }
  return choose_end(span, s, min_end, fe, reach, out) ? Found::Yes : Found::No;
}

bool Chunker::choose_end(const Span& span, uint64_t s, uint64_t min_end, uint64_t fe,
                         uint64_t reach, End* out) const {
  const TextWindow& w = span.w;
  int attempts = 0;
  auto try_end = [&](uint64_t raw, int level) {
    ++attempts;
    const uint64_t e = opt_.trim ? trim_end(w, s, raw) : raw;
    if (e <= min_end) return false;
    const std::size_t tokens = span.count(s, e);
    if (tokens > opt_.max_tokens) return false;
    *out = End{ChunkRecord{s, e, tokens}, raw, level};
    return true;
  };

  // The end of the text is the strongest boundary of all.
  if (w.eof && reach == w.end() && try_end(reach, kLevelTextEnd)) return true;

  // Stored boundaries in (min_end, reach]: the strongest level, the farthest first.
  const auto& b = span.boundaries;
  const auto lo = std::upper_bound(b.begin(), b.end(), make_boundary(min_end, 0xFF));
  const auto hi = std::upper_bound(lo, b.end(), make_boundary(reach, 0xFF));
  if (lo != hi) {
    auto best = lo;
    for (auto it = lo; it != hi; ++it)
      if (boundary_level(*it) >= boundary_level(*best)) best = it;
    if (try_end(boundary_pos(*best), boundary_level(*best))) return true;
    std::vector<Boundary> order(lo, hi);
    std::stable_sort(order.begin(), order.end(), [](Boundary x, Boundary y) {
      return boundary_level(x) != boundary_level(y) ? boundary_level(x) > boundary_level(y)
                                                    : boundary_pos(x) > boundary_pos(y);
    });
    for (std::size_t i = 1; i < order.size() && attempts < kMaxAttempts; ++i)
      if (try_end(boundary_pos(order[i]), boundary_level(order[i]))) return true;
  }

  // Words: the farthest word boundary in reach.
  const uint64_t floor = std::max(s, min_end);
  uint64_t p = reach < w.end() ? reach : prev_char_start(w, reach);
  while (p > floor && attempts < kMaxAttempts) {
    if (is_word_boundary(w, p) && try_end(p, kLevelWord)) return true;
    p = prev_char_start(w, p);
  }

  // Characters: fit()'s own answer, trimmed; if trimming raises the count past the budget (BPE
  // counts are not monotone: ";\n" can be one token where ";" after the text before it is
  // not), the character boundaries before it, trimmed, so a trimmed chunk never ends in
  // whitespace (found by fuzz/fuzz_text.py). Only when none fits, fit()'s answer as it is
  // (fit() vouches for its count). An overlapping chunk that could only add whitespace gives
  // up its overlap instead.
  if (opt_.trim) {
    for (uint64_t q = fe; q > floor; q = prev_char_start(w, q))
      if (try_end(q, kLevelChar)) return true;
    if (min_end > s) return false;
  }
  if (fe <= min_end) return false;
  *out = End{ChunkRecord{s, fe, span.count(s, fe)}, fe, kLevelChar};
  return out->chunk.tokens <= opt_.max_tokens;
}

// `plain` with as much of the planned overlap in front of it as fits in the budget.
bool Chunker::prepend_overlap(const Span& span, const End& plain, End* out) const {
  const uint64_t e = plain.chunk.end;
  // Counts fall as the start moves right (almost always); bisect for the first start that fits,
  // then check both budgets exactly.
  std::size_t lo = first_start_, hi = starts_.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (span.count(starts_[mid], e) <= opt_.max_tokens)
      hi = mid;
    else
      lo = mid + 1;
  }
  for (; lo < starts_.size(); ++lo) {
    const std::size_t tokens = span.count(starts_[lo], e);
    if (tokens <= opt_.max_tokens && span.count(starts_[lo], prev_end_) <= opt_.overlap) {
      *out = End{ChunkRecord{starts_[lo], e, tokens}, plain.raw_end, plain.level};
      return true;
    }
  }
  *out = plain;
  return false;
}

// Where the chunk after `chunk` may start inside it: every word or stored boundary in
// (start, end), trimmed; the first one from which the rest takes at most `overlap` tokens.
void Chunker::plan_overlap(const Span& span, const ChunkRecord& chunk) {
  const TextWindow& w = span.w;
  const uint64_t s = chunk.start, e = chunk.end;
  starts_.clear();
  const auto& b = span.boundaries;
  auto it = std::upper_bound(b.begin(), b.end(), make_boundary(s, 0xFF));
  for (uint64_t p = align_char(w, s + 1); p < e;) {
    bool boundary = is_word_boundary(w, p);
    while (it != b.end() && boundary_pos(*it) < p) ++it;
    if (it != b.end() && boundary_pos(*it) == p) boundary = true;
    if (boundary) {
      const uint64_t o = opt_.trim ? skip_ws(w, p, e) : p;
      if (o < e && (starts_.empty() || starts_.back() < o)) starts_.push_back(o);
    }
    std::size_t len;
    detail::ws_at(w, p, &len);
    p += len;
  }
  std::size_t lo = 0, hi = starts_.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (span.count(starts_[mid], e) <= opt_.overlap)
      hi = mid;
    else
      lo = mid + 1;
  }
  for (; lo < starts_.size(); ++lo) {
    if (span.count(starts_[lo], e) <= opt_.overlap) {
      overlap_ = true;
      first_start_ = lo;
      prev_end_ = e;
      return;
    }
  }
}

}  // namespace ctxengine
