// The loops of hash codes and Hamming distances, written once and compiled twice: into hash.cpp
// (scalar, the package's base ISA) and hash_avx2.cpp (with AVX2/FMA/POPCNT, where the compiler
// vectorises the projections and emits popcnt). Internal linkage keeps the two copies apart.
#pragma once

#include <cstddef>
#include <cstdint>

#include "attn/tensor.hpp"

namespace ctxengine::attn::detail {
namespace {

inline void hash_rows_impl(const void* x, DType dtype, std::size_t n, std::size_t dim,
                           const float* planes, std::size_t bits, uint32_t* out, float* acc) {
  const std::size_t words = bits / 32;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t b = 0; b < bits; ++b) acc[b] = 0.0f;
    for (std::size_t d = 0; d < dim; ++d) {
      const float v = dtype == DType::F32
                          ? static_cast<const float*>(x)[i * dim + d]
                          : half_to_float(static_cast<const uint16_t*>(x)[i * dim + d]);
      const float* plane = planes + d * bits;
      for (std::size_t b = 0; b < bits; ++b) acc[b] += v * plane[b];
    }
    for (std::size_t w = 0; w < words; ++w) {
      uint32_t word = 0;
      for (std::size_t t = 0; t < 32; ++t) word |= uint32_t(acc[w * 32 + t] > 0.0f) << t;
      out[i * words + w] = word;
    }
  }
}

inline void hamming_impl(const uint32_t* q, const uint32_t* codes, std::size_t n, std::size_t words,
                         uint16_t* dist) {
  for (std::size_t j = 0; j < n; ++j) {
    unsigned d = 0;
    for (std::size_t w = 0; w < words; ++w) d += __builtin_popcount(q[w] ^ codes[j * words + w]);
    dist[j] = static_cast<uint16_t>(d);
  }
}

}  // namespace
}  // namespace ctxengine::attn::detail
