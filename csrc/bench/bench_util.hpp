// Shared pieces of the C++ benchmark executables: reading a whole file, checking it is UTF-8,
// and the best wall time of repeated runs.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "text/utf8.hpp"

namespace ctxengine::bench {

// The bytes of `path`; exits with a message when it cannot be read.
inline std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path);
    std::exit(1);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// `text`, or exit naming the first byte that is not UTF-8 (the core takes valid UTF-8 only).
inline const std::string& require_utf8(const std::string& text, const char* path) {
  const std::size_t bad = find_invalid_utf8(text);
  if (bad != npos) {
    std::fprintf(stderr, "%s is not UTF-8 text (byte offset %zu)\n", path, bad);
    std::exit(1);
  }
  return text;
}

// The best wall time in seconds of `repeat` calls of fn() (after one warm-up call).
template <class Fn>
double best_seconds(int repeat, Fn&& fn) {
  fn();
  double best = 1e300;
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s < best) best = s;
  }
  return best;
}

inline std::size_t arg_or(int argc, char** argv, int i, std::size_t fallback) {
  return argc > i ? static_cast<std::size_t>(std::strtoull(argv[i], nullptr, 10)) : fallback;
}

}  // namespace ctxengine::bench
