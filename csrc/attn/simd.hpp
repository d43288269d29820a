// Which instruction set the sparse-attention kernels run: the scalar path is always built; the
// AVX2 path (AVX2 + FMA + F16C + POPCNT, files named *_avx2.cpp) is chosen once at run time when
// the CPU has it. CTXENGINE_SIMD=scalar forces the scalar path (as simdjson's
// SIMDJSON_FORCE_IMPLEMENTATION), so the tests can run both.
#pragma once

#include <string>

namespace ctxengine::attn {

enum class Simd { Scalar, Avx2 };

// The level in use: decided on first call from the CPU and CTXENGINE_SIMD, unless overridden.
Simd simd_level() noexcept;
std::string simd_name(Simd level);

// Forces a level ("scalar", "avx2") or returns to the automatic choice ("auto"). For tests and
// benchmarks; asking for AVX2 on a CPU without it is an error.
void set_simd_level(const std::string& name);

}  // namespace ctxengine::attn
