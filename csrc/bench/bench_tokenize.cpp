// bench_tokenize: tokenizer throughput without Python.
// Usage: bench_tokenize TEXT_FILE RANK_FILE [PATTERN] [REPEATS]
// Reads a UTF-8 text file and a tiktoken rank file (uncompressed; PATTERN is a scanner name,
// default cl100k_base, or any pattern string, which is compiled), then prints MB/s of the
// scanner alone (the hand-written one and the compiled pattern, for a known pattern both),
// count, encode and count_many (all cores), each the median of REPEATS runs (default 5).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "bench/bench_args.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "text/utf8.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/tiktoken_file.hpp"

namespace {

double thread_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median wall time of fn() over `repeats` runs after a warm-up, and the median CPU time of the
// calling thread (what a single-threaded call costs even when other processes share the cores).
template <class Fn>
std::pair<double, double> median_seconds(int repeats, Fn&& fn) {
  std::vector<double> wall, cpu;
  fn();
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    fn();
    cpu.push_back(thread_cpu_seconds() - c0);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ctxengine;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TEXT_FILE RANK_FILE [PATTERN] [REPEATS]\n", argv[0]);
    return 2;
  }
  try {
    const std::string text = bench::read_file_or_exit("bench_tokenize", argv[1]);
    if (find_invalid_utf8(text) != npos) {
      std::fprintf(stderr, "bench_tokenize: %s is not valid UTF-8\n", argv[1]);
      return 1;
    }
    const std::string ranks = bench::read_file_or_exit("bench_tokenize", argv[2]);
    const std::string pattern_name = argc > 3 ? argv[3] : "cl100k_base";
    const int repeats =
        static_cast<int>(bench::count_arg("bench_tokenize", argc, argv, 4, "REPEATS", 5, 1));
    const Pretokenizer p = pretokenizer_from_name(pattern_name);
    const std::string pattern =
        p == Pretokenizer::Custom ? pattern_name : std::string(pattern_strings(p)[0]);
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    auto tok = load_tiktoken(pattern_name, ranks, argv[2], pattern, {});
    const double load_cpu = thread_cpu_seconds() - c0;
    const double load =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::printf(
        "text %.2f MB, %s, vocabulary %zu tokens, %zu merge pairs, load %.1f ms "
        "(%.1f ms CPU)\n",
        mb, pattern_name.c_str(), tok->model().vocab().size(), tok->model().pair_count(),
        load * 1e3, load_cpu * 1e3);

    std::size_t pieces = 0, tokens = 0;
    const auto* s = reinterpret_cast<const uint8_t*>(text.data());
    std::printf("%-12s %10s %14s\n", "", "wall MB/s", "thread-CPU MB/s");
    std::pair<double, double> t;
    if (p != Pretokenizer::Custom) {
      t = median_seconds(repeats, [&] {
        pieces = 0;
        for_each_piece(p, s, 0, text.size(), [&](std::size_t, std::size_t) { ++pieces; });
      });
      std::printf("%-12s %10.1f %14.1f  (%zu pieces)\n", "scan", mb / t.first, mb / t.second,
                  pieces);
    }
    const auto compiled = Regex::compile(pattern, Regex::Flavor::Tiktoken);
    t = median_seconds(repeats, [&] {
      pieces = 0;
      compiled->for_each_match(s, 0, text.size(), [&](std::size_t, std::size_t) { ++pieces; });
    });
    std::printf("%-12s %10.1f %14.1f  (%zu pieces)\n", "scan (regex)", mb / t.first, mb / t.second,
                pieces);
    t = median_seconds(repeats, [&] { tokens = tok->count_ordinary(text); });
    std::printf("%-12s %10.1f %14.1f  (%zu tokens)\n", "count", mb / t.first, mb / t.second,
                tokens);
    std::vector<uint32_t> ids;
    t = median_seconds(repeats, [&] {
      ids.clear();
      tok->encode_ordinary(text, ids);
    });
    std::printf("%-12s %10.1f %14.1f\n", "encode", mb / t.first, mb / t.second);
    // count_many over the text cut into 64 KB documents at newlines.
    std::vector<std::string_view> docs;
    for (std::size_t i = 0; i < text.size();) {
      std::size_t j = std::min(text.size(), i + 65536);
      while (j < text.size() && text[j - 1] != '\n') ++j;
      docs.emplace_back(text.data() + i, j - i);
      i = j;
    }
    std::vector<int64_t> counts(docs.size());
    t = median_seconds(repeats, [&] { tok->count_many(docs, nullptr, 0, counts.data()); });
    std::printf("%-12s %10.1f %14s  (%zu documents, %zu threads)\n", "count_many", mb / t.first,
                "-", docs.size(), resolve_threads(0));
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_tokenize: %s\n", e.what());
    return 1;
  }
  return 0;
}
