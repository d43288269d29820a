// bench_scan_avx2: does an AVX2 scanner pay? The cl100k scanner with its letter runs scanned
// 32 bytes at a time (AVX2) against the shipped one (8 bytes at a time, SWAR), on one text.
// Usage: bench_scan_avx2 TEXT_FILE [REPEATS]
// Prints the median thread-CPU MB/s of each and checks that both give the same pieces.
#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "bench/bench_args.hpp"
#include "tokenizer/scanners.hpp"

namespace {

using ctxengine::detail::Cl100kFamilyScanner;

struct Avx2Runs {
  static std::size_t letters(const uint8_t* s, std::size_t i, std::size_t end) noexcept {
    const __m256i lower_bit = _mm256_set1_epi8(0x20);
    const __m256i before_a = _mm256_set1_epi8('a' - 1);
    const __m256i after_z = _mm256_set1_epi8('z' + 1);
    while (i + 32 <= end) {
      const __m256i v =
          _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i)), lower_bit);
      // signed compares: bytes >= 0x80 are negative and fall outside 'a'..'z'
      const __m256i in =
          _mm256_and_si256(_mm256_cmpgt_epi8(v, before_a), _mm256_cmpgt_epi8(after_z, v));
      const auto mask = static_cast<uint32_t>(_mm256_movemask_epi8(in));
      if (mask == 0xFFFFFFFFu) {
        i += 32;
        continue;
      }
      i += static_cast<std::size_t>(__builtin_ctz(~mask));
      if (s[i] < 0x80) return i;
      break;
    }
    return ctxengine::detail::letter_run_end(s, i, end);
  }
};

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class Scanner>
double median_mb_s(const std::string& text, int repeats, std::vector<std::size_t>& ends) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  std::vector<double> t;
  for (int r = 0; r <= repeats; ++r) {
    ends.clear();
    const double c0 = cpu_seconds();
    for (std::size_t i = 0; i < text.size();) {
      i = Scanner::next(s, i, text.size());
      ends.push_back(i);
    }
    if (r > 0) t.push_back(cpu_seconds() - c0);  // the first run warms up
  }
  std::sort(t.begin(), t.end());
  return static_cast<double>(text.size()) / 1e6 / t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TEXT_FILE [REPEATS]\n", argv[0]);
    return 2;
  }
  if (!__builtin_cpu_supports("avx2")) {
    std::fprintf(stderr, "bench_scan_avx2: this CPU has no AVX2\n");
    return 1;
  }
  const std::string text = ctxengine::bench::read_file_or_exit("bench_scan_avx2", argv[1]);
  const int repeats = static_cast<int>(
      ctxengine::bench::count_arg("bench_scan_avx2", argc, argv, 2, "REPEATS", 9, 1));
  std::vector<std::size_t> swar_ends, avx2_ends;
  const double swar = median_mb_s<Cl100kFamilyScanner<true, 3>>(text, repeats, swar_ends);
  const double avx2 = median_mb_s<Cl100kFamilyScanner<true, 3, Avx2Runs>>(text, repeats, avx2_ends);
  if (swar_ends != avx2_ends) {
    std::fprintf(stderr, "bench_scan_avx2: the two scanners disagree\n");
    return 1;
  }
  std::printf("cl100k scanner, %.2f MB, %zu pieces, thread-CPU MB/s (median of %d)\n",
              static_cast<double>(text.size()) / 1e6, swar_ends.size(), repeats);
  std::printf("SWAR (8 bytes, shipped) %8.1f\nAVX2 (32 bytes)         %8.1f  (%.2fx)\n", swar, avx2,
              avx2 / swar);
  return 0;
}
