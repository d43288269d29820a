// bench_topk: throughput of the CPU exact inner-product top-k on random unit vectors.
// Usage: bench_topk [n=200000] [dim=384] [queries=100] [k=10] [threads=0]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bench/bench_args.hpp"
#include "common/error.hpp"
#include "score/topk.hpp"

int main(int argc, char** argv) {
  using ctxengine::bench::count_arg;
  const std::size_t n = count_arg("bench_topk", argc, argv, 1, "n", 200000);
  const std::size_t dim = count_arg("bench_topk", argc, argv, 2, "dim", 384);
  const std::size_t nq = count_arg("bench_topk", argc, argv, 3, "queries", 100);
  const std::size_t k = count_arg("bench_topk", argc, argv, 4, "k", 10);
  const std::size_t threads = count_arg("bench_topk", argc, argv, 5, "threads", 0, 0);
  if (k > n) {
    std::fprintf(stderr, "bench_topk: k (%zu) must not exceed n (%zu)\n", k, n);
    return 2;
  }
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  std::vector<float> base(n * dim), queries(nq * dim);
  for (auto* v : {&base, &queries}) {
    for (std::size_t row = 0; row < v->size() / dim; ++row) {
      float norm = 0;
      for (std::size_t d = 0; d < dim; ++d)
        norm += ((*v)[row * dim + d] = normal(rng)) * (*v)[row * dim + d];
      for (std::size_t d = 0; d < dim; ++d) (*v)[row * dim + d] /= std::sqrt(norm);
    }
  }
  std::vector<float> scores(nq * k);
  std::vector<int64_t> ids(nq * k);
  double best = 1e30;
  try {
    for (int rep = 0; rep < 5; ++rep) {
      auto start = std::chrono::steady_clock::now();
      ctxengine::inner_product_topk(queries.data(), nq, base.data(), n, dim, k, scores.data(),
                                    ids.data(), threads);
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (s < best) best = s;
    }
  } catch (const ctxengine::Error& e) {
    std::fprintf(stderr, "bench_topk: %s\n", e.what());
    return 1;
  }
  const double gflops = 2.0 * static_cast<double>(n) * dim * nq / best / 1e9;
  std::printf(
      "inner_product_topk n=%zu dim=%zu queries=%zu k=%zu: %.1f QPS, %.1f GFLOP/s (best of 5)\n", n,
      dim, nq, k, nq / best, gflops);
  return 0;
}
