// Blocked scan: query blocks x base blocks keep the base block in cache while several queries
// read it; each query keeps a bounded heap. With few queries the base is split across threads
// and the partial heaps are merged; the (score desc, id asc) order makes every split agree.
#include "score/topk.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine {
namespace {

struct Scored {
  float score;
  int64_t id;
};

// "a ranks before b": higher score first, then lower id.
inline bool ranks_before(const Scored& a, const Scored& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.id < b.id);
}

// Keeps the k best seen so far as a heap whose top is the worst of them.
class TopK {
 public:
  explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k); }
  void push(float score, int64_t id) {
    Scored s{score, id};
    if (heap_.size() < k_) {
      heap_.push_back(s);
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    } else if (ranks_before(s, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), ranks_before);
      heap_.back() = s;
      std::push_heap(heap_.begin(), heap_.end(), ranks_before);
    }
  }
  // Lowest score the heap still accepts without a tie-break (an early-out for the hot loop).
  bool full() const { return heap_.size() == k_; }
  float worst() const { return heap_.front().score; }
  std::vector<Scored>& items() { return heap_; }

 private:
  std::size_t k_;
  std::vector<Scored> heap_;
};

constexpr std::size_t kQueryBlock = 8;
constexpr std::size_t kBaseBlock = 512;

void scan(const float* queries, std::size_t q0, std::size_t q1, const float* base, std::size_t j0,
          std::size_t j1, std::size_t dim, std::vector<TopK>& heaps) {
  for (std::size_t jb = j0; jb < j1; jb += kBaseBlock) {
    const std::size_t je = std::min(j1, jb + kBaseBlock);
    for (std::size_t q = q0; q < q1; ++q) {
      TopK& heap = heaps[q - q0];
      const float* qv = queries + q * dim;
      for (std::size_t j = jb; j < je; ++j) {
        float s = dot_product(qv, base + j * dim, dim);
        if (s != s) s = -std::numeric_limits<float>::infinity();  // NaN ranks last, sorts safely
        if (heap.full() && s < heap.worst()) continue;
        heap.push(s, static_cast<int64_t>(j));
      }
    }
  }
}

void write_sorted(std::vector<Scored>& items, std::size_t k, float* scores, int64_t* ids) {
  std::sort(items.begin(), items.end(), ranks_before);
  for (std::size_t i = 0; i < k; ++i) {
    scores[i] = items[i].score;
    ids[i] = items[i].id;
  }
}

}  // namespace

float dot_product(const float* a, const float* b, std::size_t dim) noexcept {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t d = 0;
  for (; d + 8 <= dim; d += 8)
    for (std::size_t l = 0; l < 8; ++l) acc[l] += a[d + l] * b[d + l];
  for (std::size_t l = 0; d < dim; ++d, ++l) acc[l] += a[d] * b[d];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

void inner_product_topk(const float* queries, std::size_t nq, const float* base, std::size_t n,
                        std::size_t dim, std::size_t k, float* out_scores, int64_t* out_ids,
                        std::size_t threads) {
  CTX_REQUIRE(k >= 1 && k <= n, "k must be between 1 and the number of vectors");
  CTX_REQUIRE(dim >= 1, "vectors must have at least one dimension");
  const std::size_t nthreads = resolve_threads(threads);

  if (nq >= 2 * nthreads || nthreads == 1 || n < 4 * kBaseBlock) {
    parallel_for(nq, kQueryBlock, nthreads, [&](std::size_t q0, std::size_t q1) {
      std::vector<TopK> heaps(q1 - q0, TopK(k));
      scan(queries, q0, q1, base, 0, n, dim, heaps);
      for (std::size_t q = q0; q < q1; ++q)
        write_sorted(heaps[q - q0].items(), k, out_scores + q * k, out_ids + q * k);
    });
    return;
  }

  // Few queries: split the base into slices, keep a heap per (slice, query), merge.
  const std::size_t slices = std::min<std::size_t>(nthreads * 4, (n + kBaseBlock - 1) / kBaseBlock);
  const std::size_t slice_len = (n + slices - 1) / slices;
  std::vector<std::vector<TopK>> partial(slices);
  parallel_for(slices, 1, nthreads, [&](std::size_t s0, std::size_t s1) {
    for (std::size_t s = s0; s < s1; ++s) {
      const std::size_t j0 = s * slice_len, j1 = std::min(n, j0 + slice_len);
      partial[s].assign(nq, TopK(k));
      if (j0 < j1) scan(queries, 0, nq, base, j0, j1, dim, partial[s]);
    }
  });
  for (std::size_t q = 0; q < nq; ++q) {
    std::vector<Scored> merged;
    for (auto& slice : partial) {
      auto& items = slice[q].items();
      merged.insert(merged.end(), items.begin(), items.end());
    }
    std::partial_sort(merged.begin(), merged.begin() + static_cast<std::ptrdiff_t>(k), merged.end(),
                      ranks_before);
    merged.resize(k);
    write_sorted(merged, k, out_scores + q * k, out_ids + q * k);
  }
}

}  // namespace ctxengine
