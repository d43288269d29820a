// bench_topk: throughput of the CPU exact inner-product top-k on random unit vectors.
// Usage: bench_topk [n=200000] [dim=384] [queries=100] [k=10] [threads=0]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "score/topk.hpp"

int main(int argc, char** argv) {
  auto arg = [&](int i, std::size_t fallback) {
    return argc > i ? static_cast<std::size_t>(std::strtoull(argv[i], nullptr, 10)) : fallback;
  };
  const std::size_t n = arg(1, 200000), dim = arg(2, 384), nq = arg(3, 100), k = arg(4, 10);
  const std::size_t threads = arg(5, 0);
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
  for (int rep = 0; rep < 5; ++rep) {
    auto start = std::chrono::steady_clock::now();
    ctxengine::inner_product_topk(queries.data(), nq, base.data(), n, dim, k, scores.data(),
                                  ids.data(), threads);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s < best) best = s;
  }
  const double gflops = 2.0 * static_cast<double>(n) * dim * nq / best / 1e9;
  std::printf(
      "inner_product_topk n=%zu dim=%zu queries=%zu k=%zu: %.1f QPS, %.1f GFLOP/s (best of 5)\n", n,
      dim, nq, k, nq / best, gflops);
  return 0;
}
