// MaxScore (Turtle & Flood, 1995) in windows of documents, as Lucene's MaxScoreBulkScorer: a
// window starts at the next document of a term that can still matter (the terms whose bounds
// together cannot beat the k-th score are non-essential and never start one) and spans
// kWindow documents. In each window every term's bound is the largest bound of its blocks
// there, and the terms are split again by those window bounds: the essential terms' postings in
// the window are scored a block at a time (kernels.hpp) into per-term slots, and only the
// documents they reach are candidates. A candidate is dropped when its essential scores plus the
// window bounds of the rest cannot win; otherwise its bound is summed exactly in query-term
// order from those scores and the other terms' block bounds (float addition is monotone, so
// when that does not beat the k-th score the document cannot either: documents that could only
// tie, as in repeated text, are dropped without a decode), and only then are the other terms'
// blocks decoded, best bound first, while the bound left can still win.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

#include "index/cursor.hpp"
#include "index/kernels.hpp"
#include "index/query.hpp"

namespace ctxengine {

using detail::Cursor;
using detail::kEnd;

namespace {

constexpr uint32_t kWindow = 4096;

// The largest bound of c's blocks that overlap [start, end) (0 when none does).
float window_max(Cursor& c, uint32_t start, uint32_t end) {
  if (c.doc >= end) return 0.0f;  // its next posting (or a lower bound of it) is past the window
  c.shallow(start);
  const uint32_t* last = c.q->segment->arrays().block_last_doc.data;
  float best = 0.0f;
  for (std::size_t b = c.block; b < c.block_end; ++b) {
    best = std::max(best, b == c.block ? c.block_bound() : c.q->block_bound(*c.t, b));
    if (last[b] + 1 >= end) break;
  }
  return best;
}

// Per-term score slots of one window, their sum and which documents have any, all zero
// between uses.
struct Slots {
  std::vector<float> values;  // term i's score of document start + off at i * kWindow + off
  std::vector<float> acc;     // the sum over terms
  uint64_t bits[kWindow / 64];
  void reset(std::size_t terms) {
    if (values.size() < terms * kWindow) values.assign(terms * kWindow, 0.0f);
    if (acc.size() < kWindow) acc.assign(kWindow, 0.0f);
    std::memset(bits, 0, sizeof(bits));
  }
  // Zeroes what a window wrote: by its set bits when they are few, else whole rows.
  void clear(const std::size_t* terms, std::size_t n, uint32_t len) {
    std::size_t set = 0;
    for (uint32_t w = 0; w < kWindow / 64; ++w)
      set += static_cast<std::size_t>(__builtin_popcountll(bits[w]));
    if (set * 16 > len) {
      std::memset(acc.data(), 0, len * sizeof(float));
      for (std::size_t j = 0; j < n; ++j)
        std::memset(values.data() + terms[j] * kWindow, 0, len * sizeof(float));
    } else {
      for (uint32_t w = 0; w < kWindow / 64; ++w)
        for (uint64_t b = bits[w]; b != 0; b &= b - 1) {
          const uint32_t off = w * 64 + static_cast<uint32_t>(__builtin_ctzll(b));
          acc[off] = 0.0f;
          for (std::size_t j = 0; j < n; ++j) values[terms[j] * kWindow + off] = 0.0f;
        }
    }
    std::memset(bits, 0, sizeof(bits));
  }
  // Back to all zero after an error left some slots written.
  void wipe() {
    std::fill(values.begin(), values.end(), 0.0f);
    std::fill(acc.begin(), acc.end(), 0.0f);
  }
};

}  // namespace

void search_maxscore(const SegmentQuery& q, TopK& top) {
  const std::size_t m = q.terms.size();
  if (m == 0) return;
  const auto n_docs = static_cast<uint32_t>(q.segment->n_docs());
  std::vector<Cursor> cur(m);
  for (std::size_t i = 0; i < m; ++i) cur[i].init(q, i);
  std::vector<std::size_t> ord(m);  // by bound ascending
  std::iota(ord.begin(), ord.end(), 0);
  std::stable_sort(ord.begin(), ord.end(),
                   [&](std::size_t x, std::size_t y) { return q.terms[x].ub < q.terms[y].ub; });
  std::vector<double> prefix(m + 1, 0.0);  // prefix[j]: the bounds of ord[0..j) summed
  for (std::size_t j = 0; j < m; ++j) prefix[j + 1] = prefix[j] + q.terms[ord[j]].ub;
  // Sums in another order than the score's differ by a few ulps, so these tests keep this much
  // slack (they only ever decide to look closer).
  const double slack = 1.0 + 1e-6 * static_cast<double>(m + 2);
  auto can_win = [&](double bound) { return bound * slack > top.threshold(); };

  thread_local Slots slots;
  slots.reset(m);
  std::vector<float> wmax(m), value(m);
  std::vector<char> known(m);
  std::vector<std::size_t> word(m);  // terms by window bound ascending
  uint32_t next = 0;
  try {
    for (;;) {
      std::size_t ne = 0;
      while (ne < m && !can_win(prefix[ne + 1])) ++ne;
      if (ne == m) break;
      uint32_t start = kEnd;
      for (std::size_t j = ne; j < m; ++j) {
        Cursor& c = cur[ord[j]];
        c.next_geq(next);
        start = std::min(start, c.doc);
      }
      if (start == kEnd) break;
      const uint32_t end =
          static_cast<uint32_t>(std::min<uint64_t>(uint64_t{start} + kWindow, n_docs));
      next = end;
      for (std::size_t i = 0; i < m; ++i) wmax[i] = window_max(cur[i], start, end);
      std::iota(word.begin(), word.end(), 0);
      std::sort(word.begin(), word.end(),
                [&](std::size_t x, std::size_t y) { return wmax[x] < wmax[y]; });
      std::size_t wne = 0;
      double rest_all = 0;
      while (wne < m && !can_win(rest_all + wmax[word[wne]])) rest_all += wmax[word[wne++]];
      if (wne == m) continue;  // nothing in this window can win

      // Score the window's essential postings into their slots.
      for (std::size_t j = wne; j < m; ++j) {
        const std::size_t i = word[j];
        Cursor& c = cur[i];
        float* slot = slots.values.data() + i * kWindow;
        c.next_geq(start);
        while (c.doc < end) {
          const float* sc = c.block_scores();
          for (; c.pos < c.count && c.docs[c.pos] < end; ++c.pos) {
            const uint32_t off = c.docs[c.pos] - start;
            slot[off] = sc[c.pos];
            slots.acc[off] += sc[c.pos];
            slots.bits[off >> 6] |= uint64_t{1} << (off & 63);
          }
          if (c.pos < c.count) {
            c.doc = c.docs[c.pos];
          } else {
            c.pos = c.count - 1;
            c.next();
          }
        }
      }

      // Candidates, in doc order: the documents whose essential scores plus the window bounds
      // of the rest may win, found eight at a time over the summed scores (a float sum in any
      // order: the threshold is lowered by more than its rounding can move it).
      const uint32_t len = end - start;
      const float theta = top.threshold();
      const bool all = !(theta > -std::numeric_limits<float>::infinity());
      const double margin = 1e-6 * static_cast<double>(m + 2) * (std::abs(theta) + rest_all);
      for (uint32_t off = 0; off < len; ++off) {
        if (all) {
          while (off < len && !(slots.bits[off >> 6] >> (off & 63) & 1)) {
            const uint64_t rest_bits = slots.bits[off >> 6] >> (off & 63);
            off = rest_bits != 0 ? off + static_cast<uint32_t>(__builtin_ctzll(rest_bits))
                                 : (off | 63) + 1;
          }
        } else {
          const double t = top.threshold() / slack - rest_all - margin;
          off = static_cast<uint32_t>(kernels().next_above(slots.acc.data(), off, len,
                                                           static_cast<float>(std::max(t, -1.0))));
        }
        if (off >= len) break;
        if (!(slots.bits[off >> 6] >> (off & 63) & 1)) continue;
        const uint32_t d = start + off;
        double partial = 0;
        for (std::size_t j = wne; j < m; ++j) partial += slots.values[word[j] * kWindow + off];
        if (!q.accepts(d) || !can_win(partial + rest_all)) continue;
        double rest = 0;
        for (std::size_t j = 0; j < wne; ++j) {
          const std::size_t i = word[j];
          Cursor& c = cur[i];
          known[i] = 1;
          value[i] = 0.0f;
          if (c.doc > d) continue;  // the list has nothing at d
          c.shallow(d);
          if (c.block == c.block_end) {
            c.to_end();
            continue;
          }
          known[i] = 0;
          value[i] = c.block_bound();
          rest += value[i];
        }
        for (std::size_t j = wne; j < m; ++j) {
          value[word[j]] = slots.values[word[j] * kWindow + off];
          known[word[j]] = 1;
        }
        float exact_bound = 0;
        for (std::size_t i = 0; i < m; ++i) exact_bound += value[i];
        bool win = exact_bound > top.threshold();
        for (std::size_t j = wne; win && j-- > 0;) {
          const std::size_t i = word[j];
          if (known[i]) continue;
          Cursor& c = cur[i];
          rest -= value[i];
          c.next_geq(d);
          value[i] = c.doc == d ? c.score() : 0.0f;
          partial += value[i];
          win = can_win(partial + rest);
        }
        if (win) {
          float score = 0;
          for (std::size_t i = 0; i < m; ++i) score += value[i];
          top.push(score, q.key(d));
        }
      }
      slots.clear(word.data() + wne, m - wne, len);
    }
  } catch (...) {
    slots.wipe();
    throw;
  }
}

}  // namespace ctxengine
