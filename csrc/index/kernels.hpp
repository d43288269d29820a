// The data-parallel steps of a query: unpacking a block's bit-packed runs and turning its
// gaps into doc ids (postings.cpp), scoring a decoded block of postings (a gather from the
// table of tf parts by pair id, then the two multiplies of scoring.hpp, eight postings at once)
// and finding the next accumulator above a threshold (eight compares at once). The scalar
// versions are the reference; the AVX2 versions (kernels_avx2.cpp) compute the same integer
// results and the same IEEE operations in the same order, so they give the same bits. The variant
// is chosen once at run time from the CPU; CTXENGINE_SIMD=scalar forces the scalar one (tests run
// both).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ctxengine {

// out[i] = weight * (idf * parts[ids[i]]) for i < n: scoring postings through a table of tf
// parts (one per (tf, dl) pair, segment.hpp).
using ScoreIdsFn = void (*)(const uint32_t* ids, std::size_t n, const float* parts, float weight,
                            float idf, float* out);

// The first i in [from, n) with acc[i] > t, or n.
using NextAboveFn = std::size_t (*)(const float* acc, std::size_t from, std::size_t n, float t);

// Term-at-a-time's pass over a window of accumulators: reads acc[from, n) in groups of eight
// from `from`, writes `fill` over every value read, and appends the index and value of each
// one above t to idx / val. It stops at a group boundary before the values found could pass
// `cap` (>= 8): returns where it stopped (n when done) and the number found in *found. One pass
// both finds the candidates and clears the window for the next (a separate clearing pass cost
// as much as the scan).
using TakeAboveFn = std::size_t (*)(float* acc, std::size_t from, std::size_t n, float t,
                                    float fill, uint32_t* idx, float* val, std::size_t cap,
                                    std::size_t* found);

// Widths the unpacking kernels take: a value and its bit offset in a byte fit 32 bits.
inline constexpr unsigned kMaxKernelWidth = 25;

// out[i] = the w-bit value at bit i*w of p, for i < n (1 <= w <= kMaxKernelWidth; the scalar
// kernel takes any w up to 32). Reads may reach 16 bytes past the (n*w + 7) / 8 packed bytes
// (8 for the scalar kernel).
using UnpackFn = void (*)(const unsigned char* p, std::size_t n, unsigned w, uint32_t* out);

// v[i] = base + (v[0] + 1) + ... + (v[i] + 1) (mod 2^32): doc ids from gaps minus one, after
// the previous doc `base`. The caller makes sure nothing wraps.
using UndeltaFn = void (*)(uint32_t* v, std::size_t n, uint32_t base);

// unpack then undelta in one pass (1 <= w <= kMaxKernelWidth; the same reads and results).
using UnpackDocsFn = void (*)(const unsigned char* p, std::size_t n, unsigned w, uint32_t base,
                              uint32_t* out);

struct Kernels {
  ScoreIdsFn score_ids;
  NextAboveFn next_above;
  TakeAboveFn take_above;
  UnpackFn unpack;
  UndeltaFn undelta;
  UnpackDocsFn unpack_docs;
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
std::size_t next_above_scalar(const float* acc, std::size_t from, std::size_t n, float t);
void score_ids_scalar(const uint32_t* ids, std::size_t n, const float* parts, float weight,
                      float idf, float* out);
std::size_t take_above_scalar(float* acc, std::size_t from, std::size_t n, float t, float fill,
                              uint32_t* idx, float* val, std::size_t cap, std::size_t* found);
void unpack_scalar(const unsigned char* p, std::size_t n, unsigned w, uint32_t* out);
void undelta_scalar(uint32_t* v, std::size_t n, uint32_t base);
void unpack_docs_scalar(const unsigned char* p, std::size_t n, unsigned w, uint32_t base,
                        uint32_t* out);
#if defined(__x86_64__) || defined(_M_X64)
std::size_t next_above_avx2(const float* acc, std::size_t from, std::size_t n, float t);
void score_ids_avx2(const uint32_t* ids, std::size_t n, const float* parts, float weight, float idf,
                    float* out);
std::size_t take_above_avx2(float* acc, std::size_t from, std::size_t n, float t, float fill,
                            uint32_t* idx, float* val, std::size_t cap, std::size_t* found);
void unpack_avx2(const unsigned char* p, std::size_t n, unsigned w, uint32_t* out);
void undelta_avx2(uint32_t* v, std::size_t n, uint32_t base);
void unpack_docs_avx2(const unsigned char* p, std::size_t n, unsigned w, uint32_t base,
                      uint32_t* out);
#endif
}  // namespace detail

}  // namespace ctxengine
