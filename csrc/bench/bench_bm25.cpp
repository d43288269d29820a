// bench_bm25: BM25 build throughput and query latency on a text file.
// Usage: bench_bm25 FILE [COPIES] [THREADS]. Splits FILE into documents at blank lines, repeats
// them COPIES times, builds the BM25 index, then runs 1,000 queries of 2-4 words drawn from the
// text (k = 10), and prints build throughput and query latency percentiles.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_args.hpp"
#include "common/error.hpp"
#include "index/bm25_index.hpp"

using namespace ctxengine;
using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [COPIES] [THREADS]\n", argv[0]);
    return 2;
  }
  const std::size_t copies = bench::count_arg("bench_bm25", argc, argv, 2, "COPIES", 1);
  const std::size_t threads = bench::count_arg("bench_bm25", argc, argv, 3, "THREADS", 0, 0);
  const std::string one = bench::read_file_or_exit("bench_bm25", argv[1]);
  std::string data;
  data.reserve(one.size() * copies);
  for (std::size_t c = 0; c < copies; ++c) data += one;

  std::vector<int64_t> starts, ends;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t end = data.find("\n\n", pos);
    if (end == std::string::npos) end = data.size();
    if (end > pos) {
      starts.push_back(static_cast<int64_t>(pos));
      ends.push_back(static_cast<int64_t>(end));
    }
    pos = end + 2;
  }
  try {
    CTX_REQUIRE(!starts.empty(),
                std::string(argv[1]) + " holds no paragraphs (text between blank lines) to index");
    auto t0 = Clock::now();
    std::vector<int64_t> keys(starts.size());
    for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = static_cast<int64_t>(i);
    auto index = Bm25Index::build(data, starts.data(), ends.data(), keys.data(), starts.size(),
                                  AnalyzerOptions{}, Bm25Params{}, IndexConfig{}, threads);
    const double build = seconds_since(t0);
    const auto segs = index->segments();
    std::printf("documents %zu, %.1f MB, terms %zu, postings bytes %zu\n", starts.size(),
                data.size() / 1e6, segs[0].segment->n_terms(),
                segs[0].segment->arrays().postings.size);
    std::printf("build: %.3f s, %.1f MB/s, %.0f docs/s\n", build, data.size() / 1e6 / build,
                starts.size() / build);

    std::mt19937_64 rng(42);
    std::vector<std::string> queries;
    // Queries are 2-4 terms of one paragraph; a text whose paragraphs are all shorter than two
    // terms gives none (bounded draws, so such a file ends with a message, not a hang).
    for (std::size_t draw = 0; queries.size() < 1000 && draw < 1000000; ++draw) {
      const std::size_t d = rng() % starts.size();
      TermBuffer terms;
      analyze(std::string_view(data).substr(starts[d], ends[d] - starts[d]), AnalyzerOptions{},
              terms);
      if (terms.size() < 2) continue;
      std::string q;
      const std::size_t n = 2 + rng() % 3;
      for (std::size_t i = 0; i < n; ++i) q += std::string(terms.term(rng() % terms.size())) + " ";
      queries.push_back(q);
    }
    CTX_REQUIRE(
        !queries.empty(),
        std::string(argv[1]) + " has no paragraph of two or more words to draw queries from");
    std::vector<double> lat;
    for (int pass = 0; pass < 2; ++pass) {
      lat.clear();
      for (const auto& q : queries) {
        auto t = Clock::now();
        index->search(q, 10, nullptr, 0, nullptr);
        lat.push_back(seconds_since(t) * 1e3);
      }
    }
    std::sort(lat.begin(), lat.end());
    std::printf("query k=10: p50 %.4f ms, p90 %.4f ms, p99 %.4f ms\n", lat[lat.size() / 2],
                lat[lat.size() * 9 / 10], lat[lat.size() * 99 / 100]);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_bm25: %s\n", e.what());
    return 1;
  }
  return 0;
}
