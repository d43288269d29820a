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
// fit() gallops from this step when its bracket is wider than twice it.
constexpr std::size_t kGallopBytes = 2048;

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
  if (total > limit && !space_before(covered())) return;
  build(limit, huge_piece);
}

void BpeSpanCounter::build(std::size_t limit, std::size_t huge_piece) {
  if (text_.size() >= std::numeric_limits<uint32_t>::max())
    throw_error(ErrorKind::Unsupported,
                "span counting supports texts below 4 GiB; split the text into documents");
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  const std::size_t n = text_.size();
  const BpeModel& m = tok_->model();
  if (starts_.empty()) {
    starts_.assign(1, 0);
    cum_.assign(1, 0);
  }
  std::size_t total = cum_.back();
  if (tok_->pretokenizer() == Pretokenizer::Custom) {
    tok_->for_each_piece_in(s, 0, n, [&](std::size_t a, std::size_t b) {
      total += m.count_piece(s + a, b - a, n - a);
      starts_.push_back(static_cast<uint32_t>(b));
      cum_.push_back(static_cast<uint32_t>(total));
    });
    return;
  }
  if (limit >= n) {
    starts_.reserve(n / 4 + 2);
    cum_.reserve(starts_.capacity());
  }
  for (std::size_t i = covered(); i < n;) {
    const std::size_t e = tok_->next_piece(s, i, n);
    if (e - i > huge_piece) {
      huge_end_ = e;
      return;
    }
    total += m.count_piece(s + i, e - i, n - i);
    starts_.push_back(static_cast<uint32_t>(e));
    cum_.push_back(static_cast<uint32_t>(total));
    i = e;
    if (total > limit && !space_before(e)) break;
  }
}

std::size_t BpeSpanCounter::safe_boundary_before(std::size_t pos) const noexcept {
  auto k = static_cast<std::size_t>(
      std::upper_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(pos)) -
      starts_.begin() - 1);
  while (k > 0 && space_before(starts_[k])) --k;
  return starts_[k];
}

bool BpeSpanCounter::space_before(std::size_t pos) const noexcept {
  const auto* s = reinterpret_cast<const uint8_t*>(text_.data());
  std::size_t j = pos - 1;
  while (j > 0 && is_utf8_continuation(s[j])) --j;
  return (detail::read_char(s, j).cls & detail::kSpace) != 0;
}

std::size_t BpeSpanCounter::next_char(std::size_t i) const noexcept {
  return i + utf8_length(static_cast<unsigned char>(text_[i]));
}

std::size_t BpeSpanCounter::char_start(std::size_t i) const noexcept {
  while (i > 0 && is_utf8_continuation(static_cast<unsigned char>(text_[i]))) --i;
  return i;
}

std::size_t BpeSpanCounter::middle_char(std::size_t lo, std::size_t hi) const noexcept {
  std::size_t mid = lo + (hi - lo) / 2;
  while (mid > lo && is_utf8_continuation(static_cast<unsigned char>(text_[mid]))) --mid;
  return mid == lo ? next_char(lo) : mid;
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

  // Tail: the last boundary <= end that follows a non-space character.
  const auto b32 = static_cast<uint32_t>(end);
  std::size_t kt = static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), b32) -
                                            starts_.begin()) -
                   1;
  while (kt > 0 && starts_[kt] > begin && space_before(starts_[kt])) --kt;
  if (starts_[kt] <= begin) return tok_->count_range(s, n, begin, end);
  const std::size_t tail = starts_[kt];

  // Head: re-scan from `begin` until a piece ends on a boundary of the whole text.
  std::size_t kh = static_cast<std::size_t>(
      std::lower_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(begin)) -
      starts_.begin());
  std::size_t head = 0;
  if (starts_[kh] != begin) {
    const BpeModel& m = tok_->model();
    std::size_t i = begin;
    while (true) {
      const std::size_t e = tok_->next_piece(s, i, end);
      head += m.count_piece(s + i, e - i, n - i);
      i = e;
      if (i > tail) return head + tok_->count_range(s, n, i, end);
      while (starts_[kh] < i) ++kh;
      if (starts_[kh] == i) break;
    }
  }
  return head + (cum_[kt] - cum_[kh]) + tok_->count_range(s, n, tail, end);
}

std::size_t BpeSpanCounter::fit(std::size_t begin, std::size_t end, std::size_t limit) const {
  CTX_REQUIRE(begin <= end && end <= covered(), "span is outside the counted text");
  if (count(begin, end) <= limit) return end;
  // Invariant: count(begin, lo) <= limit < count(begin, hi). Bisect over piece boundaries
  // first, then over characters.
  std::size_t lo = begin, hi = end;
  auto li = static_cast<std::size_t>(
      std::upper_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(begin)) -
      starts_.begin());
  auto hi_i = static_cast<std::size_t>(
      std::lower_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(end)) -
      starts_.begin());
  // Candidates are starts_[li, hi_i); li - 1 and hi_i stand for begin and end.
  std::size_t a = li - 1, b = hi_i;
  while (b - a > 1) {
    const std::size_t mid = a + (b - a) / 2;
    if (count(begin, starts_[mid]) <= limit) {
      a = mid;
      lo = starts_[mid];
    } else {
      b = mid;
      hi = starts_[mid];
    }
  }
  // Inside one long piece each probe re-encodes from the piece's start: gallop from lo so
  // that probes stay near the answer instead of bisecting the whole piece.
  for (std::size_t step = kGallopBytes; hi - lo > 2 * step; step *= 2) {
    const std::size_t x = char_start(lo + step);
    if (count(begin, x) > limit) {
      hi = x;
      break;
    }
    lo = x;
  }
  while (next_char(lo) < hi) {
    const std::size_t mid = middle_char(lo, hi);
    if (count(begin, mid) <= limit)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

std::size_t BpeSpanCounter::fit_start(std::size_t begin, std::size_t end, std::size_t limit) const {
  CTX_REQUIRE(begin <= end && end <= covered(), "span is outside the counted text");
  if (count(begin, end) <= limit) return begin;
  // Invariant: count(lo, end) > limit >= count(hi, end).
  std::size_t lo = begin, hi = end;
  auto li = static_cast<std::size_t>(
      std::upper_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(begin)) -
      starts_.begin());
  auto hi_i = static_cast<std::size_t>(
      std::lower_bound(starts_.begin(), starts_.end(), static_cast<uint32_t>(end)) -
      starts_.begin());
  std::size_t a = li - 1, b = hi_i;
  while (b - a > 1) {
    const std::size_t mid = a + (b - a) / 2;
    if (count(starts_[mid], end) <= limit) {
      b = mid;
      hi = starts_[mid];
    } else {
      a = mid;
      lo = starts_[mid];
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
