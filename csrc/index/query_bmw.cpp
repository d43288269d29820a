// Block-max WAND (Ding & Suel, "Faster top-k document retrieval using block-max indexes",
// SIGIR 2011): document-at-a-time over cursors sorted by their current doc; a pivot is found
// from per-term bounds, then the block bounds of the blocks holding the pivot bound it again
// before any block is decoded. Lazy cursors (cursor.hpp) and partial bounds (the exact scores
// of the terms on the pivot plus the block bounds of the terms behind it) avoid most decodes.
#include <algorithm>
#include <vector>

#include "index/cursor.hpp"
#include "index/query.hpp"

namespace ctxengine {

using detail::Cursor;
using detail::kEnd;

void search_bmw(const SegmentQuery& q, TopK& top) {
  const std::size_t m = q.terms.size();
  if (m == 0) return;
  std::vector<Cursor> cur(m);  // in query-term order: the summation order
  std::vector<Cursor*> order(m);
  for (std::size_t i = 0; i < m; ++i) {
    cur[i].init(q, i);
    order[i] = &cur[i];
  }
  // The pivot search sums term bounds in doc order, not query-term order; float sums in another
  // order differ by a few ulps, so it compares with this much slack (conservative: a pivot found
  // a little early is then checked exactly against the block bounds).
  const double slack = 1.0 + 1e-6 * static_cast<double>(m + 2);
  for (;;) {
    // Insertion sort by doc: cursors move a little between iterations.
    for (std::size_t i = 1; i < m; ++i) {
      Cursor* c = order[i];
      std::size_t j = i;
      for (; j > 0 && order[j - 1]->doc > c->doc; --j) order[j] = order[j - 1];
      order[j] = c;
    }
    const float theta = top.threshold();
    double acc = 0;
    std::size_t p = m;
    for (std::size_t i = 0; i < m && order[i]->doc != kEnd; ++i) {
      acc += order[i]->t->ub;
      if (acc * slack > theta) {
        p = i;
        break;
      }
    }
    if (p == m) break;
    const uint32_t d = order[p]->doc;
    // Second bound: the block bounds of every cursor at or before d, summed in float in
    // query-term order. Each is >= the term's score in any doc of its block and float addition
    // is monotone, so the sum is >= the score of any doc up to the first block end.
    float block_acc = 0;
    for (Cursor& c : cur) {
      if (c.doc > d) continue;
      c.shallow(d);
      if (c.block < c.block_end) block_acc += c.block_bound();
    }
    if (!(block_acc > theta)) {
      // Nothing in [d, next) can win: skip to the first doc past one of these blocks, or to the
      // first doc of a cursor beyond d.
      uint64_t next = kEnd;
      const uint32_t* last = q.segment->arrays().block_last_doc.data;
      for (const Cursor& c : cur) {
        if (c.doc > d) {
          next = std::min<uint64_t>(next, c.doc);
        } else if (c.block < c.block_end) {
          next = std::min<uint64_t>(next, uint64_t{last[c.block]} + 1);
        }
      }
      const auto target = static_cast<uint32_t>(std::min<uint64_t>(next, kEnd));
      for (Cursor& c : cur)
        if (c.doc <= d) c.advance_to(target);
      continue;
    }
    // Make the cursors on d exact; a loose lower bound may move on.
    bool moved = false;
    for (Cursor& c : cur) {
      if (c.doc != d) continue;
      c.resolve();
      moved = moved || c.doc != d;
    }
    if (moved) continue;
    // With no cursor behind d, this is d's score, summed in query-term order. With laggards,
    // their block bounds stand in for them: if even that cannot beat the threshold, d is skipped
    // without decoding the laggards' blocks.
    const bool lagging = order[0]->doc < d;
    bool skip = !q.accepts(d);
    if (!skip) {
      float score = 0;
      for (Cursor& c : cur) {
        if (c.doc == d) {
          score += c.score();
        } else if (c.doc < d && c.block < c.block_end) {
          score += c.block_bound();
        }
      }
      if (lagging) {
        skip = !(score > theta);
      } else {
        top.push(score, q.key(d));
      }
    }
    if (!lagging || skip) {
      for (Cursor& c : cur)
        if (c.doc == d) c.advance_to(d + 1);
    } else {
      for (Cursor& c : cur)
        if (c.doc < d) c.advance_to(d);
    }
  }
}

}  // namespace ctxengine
