// The inner loops of the sparse-attention kernels, one scalar and one AVX2 variant each. The
// scalar variants live beside their drivers (quest.cpp, page_meta.cpp, ...), the AVX2 ones in
// the *_avx2.cpp files that CMake compiles with -mavx2 -mfma -mf16c (and the logits kernel in
// logits_avx512.cpp); kernels() picks one table per call from simd_level(), so
// CTXENGINE_SIMD=scalar switches every kernel at once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "attn/tensor.hpp"

namespace ctxengine::attn::detail {

// Folds rows [0, n) of `rows` (n x dim, row-major, in `dtype`) into the running per-channel
// bounds lo/hi (float32, dim each). A NaN in a channel makes both bounds of that channel NaN
// for good (NaN propagates, as np.min/np.max).
using MinMaxFn = void (*)(const void* rows, DType dtype, std::size_t n, std::size_t dim, float* lo,
                          float* hi);

// Quest bounds of `pages` consecutive pages for `nrows` queries: out[r * ld + p] =
// sum_d q_r[d] * (q_r[d] >= 0 ? kmax_p[d] : kmin_p[d]). q is nrows x dim float32; kmin/kmax are
// pages x dim in `dtype` (float32 or float16 bits).
using QuestFn = void (*)(const float* q, std::size_t nrows, const void* kmin, const void* kmax,
                         DType dtype, std::size_t pages, std::size_t dim, float* out,
                         std::size_t ld);

// out[r * ld + (j - j0)] = dot(q_r, k[head, j]) for rows r < nrows (float32, nrows x dim) and
// keys j in [j0, j1). `scratch` holds round_up(j1 - j0, 32) * dim floats.
using LogitsFn = void (*)(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                          std::size_t j0, std::size_t j1, float* out, std::size_t ld,
                          float* scratch);

// x[j] = exp(x[j] - shift) * scale, in place (float32); returns the sum of the new values
// (added in float lanes).
using ExpScaleFn = float (*)(float* x, std::size_t n, float shift, float scale);

// Sign codes of n rows: bit b of row i is set when dot(x_i, planes[:, b]) > 0; planes is
// dim x bits float32 (bits a multiple of 32); out is n x (bits / 32) uint32, bit b at word b/32,
// position b%32. `acc` holds `bits` floats.
using HashFn = void (*)(const void* x, DType dtype, std::size_t n, std::size_t dim,
                        const float* planes, std::size_t bits, uint32_t* out, float* acc);

// dist[j] = popcount(q ^ codes[j]) for j < n (words uint32 per code).
using HammingFn = void (*)(const uint32_t* q, const uint32_t* codes, std::size_t n,
                           std::size_t words, uint16_t* dist);

struct Kernels {
  MinMaxFn minmax;
  QuestFn quest;
  LogitsFn logits;
  ExpScaleFn exp_scale;
  HashFn hash;
  HammingFn hamming;
};

const Kernels& kernels();

// Whether this build compiled the AVX-512 logits kernel (logits_avx512.cpp).
bool avx512_compiled();

// Whether this build compiled the AVX2 kernels (a compiler without -mavx2 -mfma -mf16c
// support builds them as the scalar ones; then the AVX2 level is not offered).
bool avx2_compiled();

void minmax_scalar(const void* rows, DType dtype, std::size_t n, std::size_t dim, float* lo,
                   float* hi);
void minmax_avx2(const void* rows, DType dtype, std::size_t n, std::size_t dim, float* lo,
                 float* hi);
void quest_scalar(const float* q, std::size_t nrows, const void* kmin, const void* kmax,
                  DType dtype, std::size_t pages, std::size_t dim, float* out, std::size_t ld);
void quest_avx2(const float* q, std::size_t nrows, const void* kmin, const void* kmax, DType dtype,
                std::size_t pages, std::size_t dim, float* out, std::size_t ld);
void logits_scalar(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                   std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch);
void logits_avx2(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                 std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch);
void logits_avx512(const float* q, std::size_t nrows, const HeadsView& k, std::size_t head,
                   std::size_t j0, std::size_t j1, float* out, std::size_t ld, float* scratch);
float exp_scale_scalar(float* x, std::size_t n, float shift, float scale);
float exp_scale_avx2(float* x, std::size_t n, float shift, float scale);
void hash_scalar(const void* x, DType dtype, std::size_t n, std::size_t dim, const float* planes,
                 std::size_t bits, uint32_t* out, float* acc);
void hash_avx2(const void* x, DType dtype, std::size_t n, std::size_t dim, const float* planes,
               std::size_t bits, uint32_t* out, float* acc);
void hamming_scalar(const uint32_t* q, const uint32_t* codes, std::size_t n, std::size_t words,
                    uint16_t* dist);
void hamming_avx2(const uint32_t* q, const uint32_t* codes, std::size_t n, std::size_t words,
                  uint16_t* dist);

}  // namespace ctxengine::attn::detail
