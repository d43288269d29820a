// The two data-parallel steps of a term-at-a-time query: scoring a decoded block of postings
// (a gather of document lengths and norms, then the float expression of scoring.hpp for eight
// postings at once) and finding the next accumulator above a threshold (eight compares at
// once). The scalar versions are the reference; the AVX2 versions (kernels_avx2.cpp) compute
// the same IEEE operations in the same order, so they give the same bits. The variant is chosen
// once at run time from the CPU; CTXENGINE_SIMD=scalar forces the scalar one (tests run both).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ctxengine {

struct BlockScoreArgs {
  const uint32_t* doc_lengths;
  const float* norm_table;  // norm(dl) for dl < table_size
  std::size_t table_size;
  float tf_mult;
  float weight;
  float idf;
};

// out[i] = weight * (idf * (tf m / (tf + norm(dl(docs[i]))))) for i < n, where norm(dl) for dl
// >= table_size comes from `slow_norm`.
using ScoreBlockFn = void (*)(const BlockScoreArgs& args, const uint32_t* docs, const uint32_t* tfs,
                              std::size_t n, float (*slow_norm)(const void*, uint32_t),
                              const void* slow_ctx, float* out);

// The first i in [from, n) with acc[i] > t, or n.
using NextAboveFn = std::size_t (*)(const float* acc, std::size_t from, std::size_t n, float t);

struct Kernels {
  ScoreBlockFn score_block;
  NextAboveFn next_above;
  const char* name;
};

// The kernels in use (chosen once; CTXENGINE_SIMD=scalar|avx2 forces one).
const Kernels& kernels();
// Both sets, for tests and benchmarks: "scalar" and, where the CPU has it, "avx2".
const Kernels& scalar_kernels();
const Kernels* avx2_kernels();  // nullptr where not built or not supported

// Sets the kernels used from now on ("scalar", "avx2" or "auto"); false when unavailable.
bool set_kernels(const char* name);

namespace detail {
void score_block_scalar(const BlockScoreArgs& args, const uint32_t* docs, const uint32_t* tfs,
                        std::size_t n, float (*slow_norm)(const void*, uint32_t),
                        const void* slow_ctx, float* out);
std::size_t next_above_scalar(const float* acc, std::size_t from, std::size_t n, float t);
#if defined(__x86_64__) || defined(_M_X64)
void score_block_avx2(const BlockScoreArgs& args, const uint32_t* docs, const uint32_t* tfs,
                      std::size_t n, float (*slow_norm)(const void*, uint32_t),
                      const void* slow_ctx, float* out);
std::size_t next_above_avx2(const float* acc, std::size_t from, std::size_t n, float t);
#endif
}  // namespace detail

}  // namespace ctxengine
