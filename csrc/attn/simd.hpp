// Which instruction set the sparse-attention kernels run: the scalar path is always built; the
// AVX2 path (AVX2 + FMA + F16C + POPCNT, files named *_avx2.cpp) and the AVX-512 level (the AVX2
// kernels plus an AVX-512F logits kernel) are chosen once at run time when the CPU has them.
// CTXENGINE_SIMD=scalar (or avx2) caps the level (as simdjson's SIMDJSON_FORCE_IMPLEMENTATION),
// so the tests can run each one.
#pragma once

#include <string>

namespace ctxengine::attn {

enum class Simd { Scalar, Avx2, Avx512 };

// The level in use: decided on first call from the CPU and CTXENGINE_SIMD, unless overridden.
Simd simd_level() noexcept;
std::string simd_name(Simd level);

// Forces a level ("scalar", "avx2", "avx512") or returns to the automatic choice ("auto"). For
// tests and benchmarks; asking for a level the CPU or build lacks is an error.
void set_simd_level(const std::string& name);

}  // namespace ctxengine::attn
