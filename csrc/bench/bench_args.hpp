// Command-line helpers shared by the C++ benchmark executables: read a whole input file and
// parse a numeric argument strictly. A bad argument ends the program with one line on stderr
// (exit 2; exit 1 for a file that cannot be read or is empty) instead of a silent zero from
// atoi or a crash further on.
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace ctxengine::bench {

// The bytes of `path`; exits when it cannot be read, or is empty and `allow_empty` is false
// (throughput of nothing is not a figure).
inline std::string read_file_or_exit(const char* prog, const char* path, bool allow_empty = false) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read %s\n", prog, path);
    std::exit(1);
  }
  std::ostringstream out;
  out << in.rdbuf();
  std::string data = out.str();
  if (data.empty() && !allow_empty) {
    std::fprintf(stderr, "%s: %s is empty; give it a text file (e.g. the Python docs)\n", prog,
                 path);
    std::exit(1);
  }
  return data;
}

// argv[i] as a whole number >= `min`, or `fallback` when there are fewer arguments.
inline std::size_t count_arg(const char* prog, int argc, char** argv, int i, const char* name,
                             std::size_t fallback, std::size_t min = 1) {
  if (argc <= i) return fallback;
  const char* text = argv[i];
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (*text == '\0' || *text == '-' || *end != '\0' || errno == ERANGE || value < min) {
    std::fprintf(stderr, "%s: %s must be a whole number >= %zu (got '%s')\n", prog, name, min,
                 text);
    std::exit(2);
  }
  return static_cast<std::size_t>(value);
}

}  // namespace ctxengine::bench
