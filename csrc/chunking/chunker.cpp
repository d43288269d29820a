// Greedy merging to the budget; see chunker.hpp.
//
// semantic-text-splitter picks the highest semantic level whose first unit fits and then
// binary-searches how many units of that level fit, re-tokenizing each candidate. Here one
// count-until-limit call (SpanCounter::fit) says how far the budget reaches; the chunk ends at
// the strongest stored boundary in that reach (the farthest one of that level), which is the
// same choice, and one exact count of the chosen span confirms it. BPE counts of growing spans
// are almost but not always monotone, so a candidate that turns out over the budget is skipped
// for the next one, down to a plain character cut that fit() itself vouches for.
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

}  // namespace

// One chunk's search: the window, the counter in absolute offsets, the start and the floor.
struct Chunker::Span {
  const TextWindow& w;
  const SpanCounter& counter;
  const std::vector<Boundary>& boundaries;
  uint64_t s;        // the chunk's start
  uint64_t min_end;  // the chunk must end after this (the previous end, when overlapping)

  std::size_t count(uint64_t a, uint64_t b) const {
    return counter.count(static_cast<std::size_t>(a - w.base),
                         static_cast<std::size_t>(b - w.base));
  }
  uint64_t fit(uint64_t a, uint64_t b, std::size_t limit) const {
    return w.base + counter.fit(static_cast<std::size_t>(a - w.base),
                                static_cast<std::size_t>(b - w.base), limit);
  }
};

Chunker::Chunker(const ChunkOptions& options)
    : opt_(options), window_(4 * options.max_tokens + 64) {
  CTX_REQUIRE(options.max_tokens >= 1, "max_tokens must be at least 1");
  CTX_REQUIRE(
      options.overlap < options.max_tokens,
      "overlap must be smaller than max_tokens (got overlap=" + std::to_string(options.overlap) +
          ", max_tokens=" + std::to_string(options.max_tokens) + ")");
}

Chunker::Step Chunker::next(const TextWindow& w, const SpanCounter& counter,
                            const std::vector<Boundary>& boundaries, uint64_t committed,
                            ChunkRecord* out) {
  const uint64_t limit = w.eof ? w.end() : std::min(committed, w.end());
  for (;;) {
    uint64_t s = cursor_;
    if (opt_.trim) s = skip_ws(w, s, limit);
    if (s >= limit) return w.eof ? Step::Done : Step::NeedMore;

    // How far the budget reaches: offer fit() a window, doubling it while all of it fits.
    uint64_t win = window_, fe;
    for (;;) {
      uint64_t we = s + win;
      if (we >= limit) {
        if (!w.eof) return Step::NeedMore;
        we = limit;
      } else {
        we = align_char(w, we);
      }
      fe = Span{w, counter, boundaries, s, s}.fit(s, we, opt_.max_tokens);
      if (fe == we && we < limit) {
        win *= 2;
        continue;
      }
      break;
    }
    if (fe == s) {
      std::size_t len;
      const uint32_t cp = detail::char_at(w, s, &len);
      const std::size_t need = Span{w, counter, boundaries, s, s}.count(s, s + len);
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
      throw_error(ErrorKind::Limit, "max_tokens=" + std::to_string(opt_.max_tokens) +
                                        " cannot hold the character " + code + ", which takes " +
                                        std::to_string(need) + " tokens on its own; use " +
                                        "max_tokens >= " + std::to_string(need));
    }

    const Span span{w, counter, boundaries, s, overlap_active_ ? prev_end_ : s};
    uint64_t raw_end;
    if (!choose_end(span, fe, out, &raw_end)) {
      CTX_CHECK(overlap_active_, "no chunk end found although fit() advanced");
      // The overlap left no room to move past the previous chunk: start after it instead.
      overlap_active_ = false;
      cursor_ = prev_raw_end_;
      continue;
    }

    // Adapt the first window to the text: its bytes per token, a quarter to spare.
    if (out->tokens > 0)
      window_ = (out->end - out->start) * opt_.max_tokens / out->tokens * 5 / 4 + 64;

    const bool at_end = w.eof && (opt_.trim ? skip_ws(w, raw_end, w.end()) : raw_end) >= w.end();
    overlap_active_ = false;
    cursor_ = raw_end;
    if (opt_.overlap > 0 && !at_end) {
      const uint64_t o = overlap_start(span, out->start, out->end);
      if (o < out->end) {
        overlap_active_ = true;
        prev_end_ = out->end;
        prev_raw_end_ = raw_end;
        cursor_ = o;
      }
    }
    return Step::Chunk;
  }
}

bool Chunker::choose_end(const Span& span, uint64_t fe, ChunkRecord* out, uint64_t* raw_end) {
  const TextWindow& w = span.w;
  const uint64_t s = span.s;
  int attempts = 0;
  auto try_end = [&](uint64_t raw) {
    ++attempts;
    const uint64_t e = opt_.trim ? trim_end(w, s, raw) : raw;
    if (e <= span.min_end) return false;
    const std::size_t tokens = span.count(s, e);
    if (tokens > opt_.max_tokens) return false;
    *out = ChunkRecord{s, e, tokens};
    *raw_end = raw;
    return true;
  };

  // The end of the text is the strongest boundary of all.
  if (w.eof && fe == w.end() && try_end(fe)) return true;

  // Stored boundaries in (min_end, fe]: the strongest level, the farthest first.
  const auto& b = span.boundaries;
  const auto lo = std::upper_bound(b.begin(), b.end(), make_boundary(span.min_end, 0xFF));
  const auto hi = std::upper_bound(lo, b.end(), make_boundary(fe, 0xFF));
  if (lo != hi) {
    auto best = lo;
    for (auto it = lo; it != hi; ++it)
      if (boundary_level(*it) >= boundary_level(*best)) best = it;
    if (try_end(boundary_pos(*best))) return true;
    std::vector<Boundary> order(lo, hi);
    std::stable_sort(order.begin(), order.end(), [](Boundary x, Boundary y) {
      return boundary_level(x) != boundary_level(y) ? boundary_level(x) > boundary_level(y)
                                                    : boundary_pos(x) > boundary_pos(y);
    });
    for (std::size_t i = 1; i < order.size() && attempts < kMaxAttempts; ++i)
      if (try_end(boundary_pos(order[i]))) return true;
  }

  // Words: the farthest word boundary in reach.
  const uint64_t floor = std::max(s, span.min_end);
  uint64_t p = fe < w.end() ? fe : prev_char_start(w, fe);
  while (p > floor && attempts < kMaxAttempts) {
    if (is_word_boundary(w, p) && try_end(p)) return true;
    p = prev_char_start(w, p);
  }

  // Characters: fit()'s own answer, trimmed, then as it is (fit() vouches for its count). An
  // overlapping chunk that could only add whitespace gives up its overlap instead.
  if (opt_.trim) {
    if (try_end(fe)) return true;
    if (span.min_end > s) return false;
  }
  if (fe > span.min_end) {
    *out = ChunkRecord{s, fe, span.count(s, fe)};
    *raw_end = fe;
    return out->tokens <= opt_.max_tokens;
  }
  return false;
}

// The earliest boundary in (s, e) from which the rest of the chunk takes at most `overlap`
// tokens: the next chunk starts there. Returns e when none qualifies.
uint64_t Chunker::overlap_start(const Span& span, uint64_t s, uint64_t e) {
  const TextWindow& w = span.w;
  std::vector<uint64_t> starts;
  const auto& b = span.boundaries;
  auto it = std::upper_bound(b.begin(), b.end(), make_boundary(s, 0xFF));
  for (uint64_t p = align_char(w, s + 1); p < e;) {
    bool boundary = is_word_boundary(w, p);
    while (it != b.end() && boundary_pos(*it) < p) ++it;
    if (it != b.end() && boundary_pos(*it) == p) boundary = true;
    if (boundary) {
      const uint64_t o = opt_.trim ? skip_ws(w, p, e) : p;
      if (o < e && (starts.empty() || starts.back() < o)) starts.push_back(o);
    }
    std::size_t len;
    detail::ws_at(w, p, &len);
    p += len;
  }
  // Counts fall as the start moves right (almost always); bisect for the first that fits.
  std::size_t lo = 0, hi = starts.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (span.count(starts[mid], e) <= opt_.overlap)
      hi = mid;
    else
      lo = mid + 1;
  }
  if (lo < starts.size() && span.count(starts[lo], e) <= opt_.overlap) return starts[lo];
  return e;
}

}  // namespace ctxengine
