#include "tokenizer/bpe_span_counter.hpp"

#include <algorithm>
#include <limits>

#include "common/error.hpp"
#include "tokenizer/bpe_tokenizer.hpp"
#include "tokenizer/char_class.hpp"

namespace ctxengine {
namespace {

// Spans up to this many bytes are simply re-encoded.
constexpr std::size_t kDirectBytes = 48;
// fit() resolves regions longer than this from one encoding of them (resolve()); shorter ones
// by bisection, re-encoding at each probe.
constexpr std::size_t kEncodeRegionBytes = 96;
// Counts of spans at least this long go through the memo.
constexpr std::size_t kMemoBytes = 1024;
// bisect() gallops from this step when its bracket is wider than twice it.
constexpr std::size_t kGallopBytes = 2048;

// Table rows are 32-bit; beyond this, count_many and plain counting still work.
void check_size(std::size_t n) {
  if (n >= std::numeric_limits<uint32_t>::max())
    throw_error(ErrorKind::Unsupported,
                "span counting supports texts below 4 GiB; split the text into documents");
}

}  // namespace

BpeSpanCounter::BpeSpanCounter(const BpeTokenizer& tokenizer, std::string_view text)
    : tok_(&tokenizer), text_(text) {
  build(std::numeric_limits<std::size_t>::max(), std::numeric_limits<std::size_t>::max());
}

BpeSpanCounter::BpeSpanCounter(const BpeTokenizer& tokenizer, std::string_view text,
                               std::size_t limit, std::size_t huge_piece)
    : tok_(&tokenizer), text_(text) {
  build(limit, huge_piece);
}

void BpeSpanCounter::extend(std::size_t limit, std::size_t huge_piece) {
  CTX_CHECK(huge_end_ != 0, "extend() continues a build that stopped before a huge piece");
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const std::size_t n = text_.size(), i = covered();
  const std::size_t total = cum_.back() + tok_->model().count_piece(s + i, huge_end_ - i, n - i);
  starts_.push_back(static_cast<uint32_t>(huge_end_));
  cum_.push_back(static_cast<uint32_t>(total));
  huge_end_ = 0;
  if (total > limit && safe_at(starts_.size() - 1)) return;
  build(limit, huge_piece);
}

// The table, one piece behind the scanner: the vocabulary slot of each piece is prefetched
// when the piece is found and read one iteration later (as BpeTokenizer's counting does).
template <class Scanner>
void BpeSpanCounter::build_with(std::size_t limit, std::size_t huge_piece) {
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const std::size_t n = text_.size();
  const BpeModel& m = tok_->model();
  const Vocabulary& v = m.vocab();
  std::size_t total = cum_.back();
  std::size_t a = covered();
  if (a >= n) return;
  std::size_t b = Scanner::next(s, a, n);
  Vocabulary::Probe probe = v.probe(s + a, b - a, n - a);
  v.prefetch(probe);
  while (true) {
    if (b - a > huge_piece) {
      huge_end_ = b;
      return;
    }
    const std::size_t c = b, d = c < n ? Scanner::next(s, c, n) : c;
    const Vocabulary::Probe next = c < n ? v.probe(s + c, d - c, n - c) : Vocabulary::Probe{};
    if (c < n) v.prefetch(next);
    total += m.count_piece(s + a, b - a, probe);
    starts_.push_back(static_cast<uint32_t>(b));
    cum_.push_back(static_cast<uint32_t>(total));
    if (c >= n) return;
    if (total > limit && safe_at(starts_.size() - 1)) return;
    a = c;
    b = d;
    probe = next;
  }
}

void BpeSpanCounter::build(std::size_t limit, std::size_t huge_piece) {
  check_size(text_.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const std::size_t n = text_.size();
  if (starts_.empty()) {
    starts_.assign(1, 0);
    cum_.assign(1, 0);
  }
  if (limit >= n) {
    starts_.reserve(n / 4 + 2);
    cum_.reserve(starts_.capacity());
  }
  switch (tok_->pretokenizer()) {
    case Pretokenizer::Cl100k:
      return build_with<detail::Cl100kScanner>(limit, huge_piece);
    case Pretokenizer::O200k:
      return build_with<detail::O200kScanner>(limit, huge_piece);
    case Pretokenizer::R50k:
      return build_with<detail::R50kScanner>(limit, huge_piece);
    case Pretokenizer::Llama3:
      return build_with<detail::Llama3Scanner>(limit, huge_piece);
    case Pretokenizer::Qwen2:
      return build_with<detail::Qwen2Scanner>(limit, huge_piece);
    case Pretokenizer::Custom:
      break;
  }
  const BpeModel& m = tok_->model();
  std::size_t total = cum_.back();
  tok_->for_each_piece_in(s, 0, n, [&](std::size_t a, std::size_t b) {
    total += m.count_piece(s + a, b - a, n - a);
    starts_.push_back(static_cast<uint32_t>(b));
    cum_.push_back(static_cast<uint32_t>(total));
  });
}

// Every alternative of the known patterns other than the whitespace ones (\s++$, \s*[\r\n],
// \s+(?!\S), \s) takes a non-space character, at most after one prefix character that may be
// a space (" ?X", "[^\r\n\p{L}\p{N}]?\p{L}+"). Such a piece decided its end by reading at most
// the character after it, and pieces before it read at most to the end of their whitespace
// run, which ends inside it; cutting the text at or after its end turns only later characters
// into "end of text", which those decisions treat as a non-match. So checking the first two
// characters tells whether the boundary after a piece is safe.
bool BpeSpanCounter::has_nonspace(std::size_t a, std::size_t b) const noexcept {
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const detail::Char first = detail::read_char(s, a);
  if (!(first.cls & detail::kSpace)) return true;
  if (a + first.len >= b) return false;
  return !(detail::read_char(s, a + first.len).cls & detail::kSpace);
}

std::size_t BpeSpanCounter::safe_index_before(std::size_t begin, std::size_t pos) const noexcept {
  auto k = static_cast<std::size_t>(
      std::upper_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(pos)) -
      starts_.begin() - 1);
  while (k > 0 && starts_[k] > begin && !safe_at(k)) --k;
  return starts_[k] > begin ? k : 0;
}

std::size_t BpeSpanCounter::safe_boundary_before(std::size_t pos) const noexcept {
  return starts_[safe_index_before(0, pos)];
}

std::size_t BpeSpanCounter::next_char(std::size_t i) const noexcept {
  return i + utf8_length(static_cast<unsigned char>(text_[i]));
}

std::size_t BpeSpanCounter::char_start(std::size_t i) const noexcept {
  while (i > 0 && i < text_.size() && is_utf8_continuation(static_cast<unsigned char>(text_[i])))
    --i;
  return i;
}

std::size_t BpeSpanCounter::middle_char(std::size_t lo, std::size_t hi) const noexcept {
  std::size_t mid = lo + (hi - lo) / 2;
  while (mid > lo && is_utf8_continuation(static_cast<unsigned char>(text_[mid]))) --mid;
  return mid == lo ? next_char(lo) : mid;
}

bool BpeSpanCounter::memo_find(std::size_t begin, std::size_t end, std::size_t* count) const {
  std::lock_guard<std::mutex> lock(memo_mutex_);
  for (const Memo& m : memo_) {
    if (m.begin == begin && m.end == end && m.end != 0) {
      *count = m.count;
      return true;
    }
  }
  return false;
}

void BpeSpanCounter::memo_put(std::size_t begin, std::size_t end, std::size_t count) const {
  std::lock_guard<std::mutex> lock(memo_mutex_);
  memo_[memo_next_] = Memo{begin, end, count};
  memo_next_ = (memo_next_ + 1) % kMemoSize;
}

std::size_t BpeSpanCounter::count(std::size_t begin, std::size_t end) const {
  CTX_REQUIRE(begin <= end && end <= covered(),
              "span [" + std::to_string(begin) + ", " + std::to_string(end) +
                  ") is outside the counted text (0.." + std::to_string(covered()) + ")");
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const std::size_t n = text_.size();
  if (begin == end) return 0;
  if (end - begin <= kDirectBytes || tok_->pretokenizer() == Pretokenizer::Custom)
    return tok_->count_range(s, n, begin, end);
  const bool long_span = end - begin >= kMemoBytes;
  std::size_t result = 0;
  if (long_span && memo_find(begin, end, &result)) return result;

  // Tail: the last safe boundary <= end.
  const std::size_t kt = safe_index_before(begin, end);
  if (kt == 0) {
    result = tok_->count_range(s, n, begin, end);
  } else {
    // Head: re-scan from `begin` until a piece ends on a boundary of the whole text.
    const std::size_t tail = starts_[kt];
    std::size_t kh = static_cast<std::size_t>(
        std::lower_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(begin)) -
        starts_.begin());
    std::size_t head = 0;
    bool synced = true;
    if (starts_[kh] != begin) {
      const BpeModel& m = tok_->model();
      std::size_t i = begin;
      while (true) {
        const std::size_t e = tok_->next_piece(s, i, end);
        head += m.count_piece(s + i, e - i, n - i);
        i = e;
        if (i > tail) {
          result = head + tok_->count_range(s, n, i, end);
          synced = false;
          break;
        }
        while (starts_[kh] < i) ++kh;
        if (starts_[kh] == i) break;
      }
    }
    if (synced) result = head + (cum_[kt] - cum_[kh]) + tok_->count_range(s, n, tail, end);
  }
  if (long_span) memo_put(begin, end, result);
  return result;
}

// Invariant: lo.count = count(begin, lo.pos) <= limit, and count(begin, hi) > limit when
// hi_over (otherwise hi is the end of the span and its count is not known yet). For x in
// [a, hi], count(begin, x) = c + count_range(a, x).
BpeSpanCounter::Point BpeSpanCounter::bisect(std::size_t a, std::size_t c, Point lo, std::size_t hi,
                                             bool hi_over, std::size_t limit) const {
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const std::size_t n = text_.size();
  auto at = [&](std::size_t x) { return c + tok_->count_range(s, n, a, x); };
  if (!hi_over) {
    const std::size_t v = at(hi);
    if (v <= limit) return Point{hi, v};
  }
  // Each probe re-encodes from `a`: gallop from lo so that probes stay near the answer.
  for (std::size_t step = kGallopBytes; hi - lo.pos > 2 * step; step *= 2) {
    const std::size_t x = char_start(lo.pos + step);
    const std::size_t v = at(x);
    if (v > limit) {
      hi = x;
      break;
    }
    lo = Point{x, v};
  }
  while (next_char(lo.pos) < hi) {
    const std::size_t mid = middle_char(lo.pos, hi);
    const std::size_t v = at(mid);
    if (v <= limit)
      lo = Point{mid, v};
    else
      hi = mid;
  }
  return lo;
}

// The last step of fit(): for x in [a, hi], count(begin, x) = c + count_range(a, x), with
// c <= limit; count(begin, hi) > limit when hi_over, else hi is the span's end. Short regions
// are bisected. A long one (a long piece, such as a 1 MB line of one letter or CJK text without
// punctuation) is encoded once, piece by piece, up to where the count passes the limit, and
// the answer is read off the token boundaries of the piece p = text[a_j, b_j) where that
// happens. BPE merges the lowest (priority, position) pair first, so the run on a prefix of p
// that ends at a token boundary u of p's encoding makes exactly the merges the run on p makes
// left of u (no merge crosses u, and every merge left of u was the minimum of all pairs, so of
// the prefix's pairs too): text[a_j, u) encodes to the tokens of p before u, when it is one
// piece on its own (checked with the scanner) and the whole-piece lookup does not find it in
// the vocabulary (checked). So the boundaries just below and above the limit bracket the
// answer within one token, which a probe or two settle. Each probe re-encodes only
// text[a_j, y): the piece before a_j holds a non-space character, so cutting after it changes
// nothing before it.
BpeSpanCounter::Point BpeSpanCounter::resolve(std::size_t a, std::size_t c, std::size_t hi,
                                              bool hi_over, std::size_t limit) const {
  if (hi - a <= kEncodeRegionBytes || tok_->pretokenizer() == Pretokenizer::Custom)
    return bisect(a, c, Point{a, c}, hi, hi_over, limit);
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const std::size_t n = text_.size();
  const BpeModel& m = tok_->model();
  const Vocabulary& v = m.vocab();
  const std::size_t budget = limit - c;

  // Encode text[a, x) for x up to hi until its count passes the budget: x = hi when hi is near
  // enough, else galloping (text[a, x) as a text of its own; its pieces are those of the span
  // except near x, and the ones used below are checked).
  std::size_t step = 8 * (std::min<std::size_t>(budget, std::size_t{1} << 30) + 1) + 256;
  std::size_t x = hi - a <= 4 * step ? hi : char_start(a + step);
  std::vector<uint32_t> ids;
  std::size_t aj = a, bj = a, sj = 0;  // piece j = [aj, bj), sj tokens of text[a, aj)
  std::size_t al = a, sl = 0;          // the last piece start after a non-space piece
  bool prev_nonspace = true;           // the piece before aj holds a non-space (or aj == a)
  while (true) {
    std::size_t i = a, total = 0;
    bool found = false;
    al = a;
    sl = 0;
    prev_nonspace = true;
    while (i < x) {
      const std::size_t e = tok_->next_piece(s, i, x);
      std::size_t k;
      ids.clear();
      if (e - i > 128) {  // a long piece: its tokens are needed if the limit falls inside it
        m.encode_piece(s + i, e - i, n - i, ids);
        k = ids.size();
      } else {
        k = m.count_piece(s + i, e - i, n - i);
      }
      if (total + k > budget) {
        if (ids.empty()) m.encode_piece(s + i, e - i, n - i, ids);
        aj = i;
        bj = e;
        sj = total;
        found = true;
        break;
      }
      total += k;
      prev_nonspace = has_nonspace(i, e);
      i = e;
      if (prev_nonspace) {
        al = i;
        sl = total;
      }
    }
    if (found) break;
    if (x == hi) {
      CTX_CHECK(!hi_over, "a span counted over the limit fits when re-encoded");
      return Point{hi, c + total};
    }
    step *= 2;
    x = hi - a <= step ? hi : char_start(a + step);
  }

  // The fallback: bisect from the last safe piece start, below the first end known to be over.
  const std::size_t over_at = (bj == x || has_nonspace(aj, bj)) ? bj : x;
  auto fallback = [&] { return bisect(al, c + sl, Point{al, c + sl}, over_at, true, limit); };
  if (!prev_nonspace) return fallback();

  const std::size_t r = budget - sj;  // r < ids.size(): the limit falls inside piece j
  const bool lookup = m.whole_piece_lookup();
  auto is_char = [&](std::size_t p) {
    return p >= n || !is_utf8_continuation(static_cast<unsigned char>(text_[p]));
  };
  // The token boundaries u_k of piece j on character boundaries, nearest below u_r and at or
  // above u_{r+1}.
  std::size_t u = aj, lo = aj, lo_k = 0, hi_pos = bj, hi_k = ids.size();
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (k <= r && is_char(u)) {
      lo = u;
      lo_k = k;
    }
    u += v.token_size(ids[k]);
    if (k + 1 >= r + 1 && is_char(u)) {
      hi_pos = u;
      hi_k = k + 1;
      break;
    }
  }
  // text[aj, lo): lo_k tokens, or 1 when it is itself a token.
  std::size_t lo_count = lo_k;
  if (lo_k >= 1) {
    if (tok_->next_piece(s, aj, lo) != lo) return fallback();
    if (lo_k >= 2 && lookup && v.find(s + aj, lo - aj, n - aj) != kNoToken) lo_count = 1;
  }
  // text[aj, hi_pos): over the budget?
  if (hi_pos < bj) {
    if (tok_->next_piece(s, aj, hi_pos) != hi_pos) return fallback();
    if (hi_k >= 2 && lookup && v.find(s + aj, hi_pos - aj, n - aj) != kNoToken && r >= 1)
      return fallback();
  } else if (hi_pos != over_at) {
    return fallback();
  }
  const std::size_t base = c + sj;
  const Point low{lo, base + lo_count};
  const std::size_t y = next_char(lo);
  if (y >= hi_pos) return low;
  const std::size_t vy = base + tok_->count_range(s, n, aj, y);
  if (vy > limit) return low;
  return bisect(aj, base, Point{y, vy}, hi_pos, true, limit);
}

std::size_t BpeSpanCounter::fit(std::size_t begin, std::size_t end, std::size_t limit) const {
  CTX_REQUIRE(begin <= end && end <= covered(), "span is outside the counted text");
  if (begin == end) return end;
  Point found{end, 0};
  if (end - begin <= kDirectBytes || tok_->pretokenizer() == Pretokenizer::Custom) {
    found = bisect(begin, 0, Point{begin, 0}, end, false, limit);
  } else {
    found = [&]() -> Point {
      const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
      const std::size_t n = text_.size();
      const std::size_t kt = safe_index_before(begin, end);
      if (kt == 0) return resolve(begin, 0, end, false, limit);
      // Head: re-scan from `begin` until a piece ends on a boundary of the whole text. The
      // anchor is the last point after a non-space piece: counts from there on add up.
      std::size_t anchor = begin, anchor_count = 0, head = 0;
      std::size_t kh = static_cast<std::size_t>(
          std::lower_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(begin)) -
          starts_.begin());
      if (starts_[kh] != begin) {
        const BpeModel& m = tok_->model();
        for (std::size_t i = begin;;) {
          const std::size_t e = tok_->next_piece(s, i, end);
          const std::size_t k = m.count_piece(s + i, e - i, n - i);
          const bool nonspace = has_nonspace(i, e);
          if (head + k > limit) {
            return nonspace ? resolve(anchor, anchor_count, e, true, limit)
                            : resolve(anchor, anchor_count, end, false, limit);
          }
          head += k;
          i = e;
          if (nonspace) {
            anchor = i;
            anchor_count = head;
          }
          if (i >= end) return Point{end, head};
          if (i > starts_[kt]) return resolve(anchor, anchor_count, end, false, limit);
          while (starts_[kh] < i) ++kh;
          if (starts_[kh] == i) break;
        }
      }
      // The synced part: safe boundary k has count head + cum_[k] - cum_[kh]. Find the last
      // boundary in [kh, kt] within the limit.
      const uint64_t target = uint64_t{cum_[kh]} + std::min<uint64_t>(limit - head, 1ull << 32);
      const auto k1 = static_cast<std::size_t>(
          std::upper_bound(cum_.begin() + static_cast<std::ptrdiff_t>(kh),
                           cum_.begin() + static_cast<std::ptrdiff_t>(kt) + 1, target,
                           [](uint64_t t, uint32_t c) { return t < c; }) -
          cum_.begin() - 1);
      auto value = [&](std::size_t k) { return head + cum_[k] - cum_[kh]; };
      if (k1 == kt) return resolve(starts_[kt], value(kt), end, false, limit);
      std::size_t k2 = k1 + 1;
      while (!safe_at(k2)) ++k2;  // stops at kt at the latest
      std::size_t k = k1;
      while (k > kh && !safe_at(k)) --k;
      if (k > kh) return resolve(starts_[k], value(k), starts_[k2], true, limit);
      return resolve(anchor, anchor_count, starts_[k2], true, limit);
    }();
  }
  if (found.pos - begin >= kMemoBytes) memo_put(begin, found.pos, found.count);
  return found.pos;
}

std::size_t BpeSpanCounter::fit_start(std::size_t begin, std::size_t end, std::size_t limit) const {
  CTX_REQUIRE(begin <= end && end <= covered(), "span is outside the counted text");
  if (count(begin, end) <= limit) return begin;
  // Invariant: count(lo, end) > limit >= count(hi, end). A start on a boundary of the whole
  // text at or before the tail's safe boundary needs no head re-scan: its count is a prefix-sum
  // difference plus the tail, which falls as the start moves right. Search those first.
  std::size_t lo = begin, hi = end;
  const std::size_t kt = safe_index_before(begin, end);
  if (kt != 0 && end - begin > kDirectBytes && tok_->pretokenizer() != Pretokenizer::Custom) {
    const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
    const std::size_t tail = tok_->count_range(s, text_.size(), starts_[kt], end);
    const auto kb = static_cast<std::size_t>(
        std::upper_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(begin)) -
        starts_.begin());  // the first boundary after begin
    // The first k in [kb, kt] with cum_[kt] - cum_[k] + tail <= limit.
    if (tail <= limit) {
      // cum_[k] >= cum_[kt] + tail - limit
      const std::size_t k =
          cum_[kt] + tail <= limit
              ? kb
              : static_cast<std::size_t>(
                    std::lower_bound(cum_.begin() + static_cast<std::ptrdiff_t>(kb),
                                     cum_.begin() + static_cast<std::ptrdiff_t>(kt) + 1,
                                     static_cast<uint32_t>(cum_[kt] + tail - limit)) -
                    cum_.begin());
      hi = starts_[k];
      if (k > kb) lo = starts_[k - 1];
    } else {
      lo = starts_[kt];
    }
  }
  for (std::size_t step = kGallopBytes; hi - lo > 2 * step; step *= 2) {
    const std::size_t x = char_start(hi - step);
    if (count(x, end) > limit) {
      lo = x;
      break;
    }
    hi = x;
  }
  while (next_char(lo) < hi) {
    const std::size_t mid = middle_char(lo, hi);
    if (count(mid, end) <= limit)
      hi = mid;
    else
      lo = mid;
  }
  return hi;
}

}  // namespace ctxengine
