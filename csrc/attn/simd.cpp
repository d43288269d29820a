// Run-time choice of the sparse-attention kernels' instruction set.
#include "attn/simd.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#endif

#include "attn/kernels.hpp"
#include "common/error.hpp"

namespace ctxengine::attn {
namespace {

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
// F16C straight from CPUID (leaf 1, ECX bit 29): clang before 15 has no "f16c" in
// __builtin_cpu_supports. AVX2's own check below covers the OS saving the YMM registers.
bool cpu_has_f16c() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 29)) != 0;
}
#endif

bool cpu_has_avx2() noexcept {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  return detail::avx2_compiled() && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma") && cpu_has_f16c() && __builtin_cpu_supports("popcnt");
#else
  return false;
#endif
}

bool cpu_has_avx512() noexcept {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
  return cpu_has_avx2() && detail::avx512_compiled() && __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

Simd automatic() noexcept {
  const char* env = std::getenv("CTXENGINE_SIMD");
  if (env != nullptr && std::strcmp(env, "scalar") == 0) return Simd::Scalar;
  if (!cpu_has_avx2()) return Simd::Scalar;
  if (env != nullptr && std::strcmp(env, "avx2") == 0) return Simd::Avx2;
  return cpu_has_avx512() ? Simd::Avx512 : Simd::Avx2;
}

// -1: not decided yet; otherwise a Simd value.
std::atomic<int> g_level{-1};

}  // namespace

Simd simd_level() noexcept {
  int level = g_level.load(std::memory_order_relaxed);
  if (level < 0) {
    level = static_cast<int>(automatic());
    g_level.store(level, std::memory_order_relaxed);
  }
  return static_cast<Simd>(level);
}

std::string simd_name(Simd level) {
  return level == Simd::Avx512 ? "avx512" : level == Simd::Avx2 ? "avx2" : "scalar";
}

void set_simd_level(const std::string& name) {
  if (name == "auto") {
    g_level.store(static_cast<int>(automatic()));
  } else if (name == "scalar") {
    g_level.store(static_cast<int>(Simd::Scalar));
  } else if (name == "avx2") {
    if (!cpu_has_avx2())
      throw_error(ErrorKind::Unsupported,
                  "this CPU or build lacks AVX2/FMA/F16C; use 'scalar' or 'auto'");
    g_level.store(static_cast<int>(Simd::Avx2));
  } else if (name == "avx512") {
    if (!cpu_has_avx512())
      throw_error(ErrorKind::Unsupported, "this CPU or build lacks AVX-512F; use 'avx2' or 'auto'");
    g_level.store(static_cast<int>(Simd::Avx512));
  } else {
    throw_error(ErrorKind::InvalidArgument,
                "unknown SIMD level '" + name + "': use 'auto', 'scalar', 'avx2' or 'avx512'");
  }
}

}  // namespace ctxengine::attn

namespace ctxengine::attn::detail {

const Kernels& kernels() {
  static const Kernels scalar{minmax_scalar,    quest_scalar, logits_scalar,
                              exp_scale_scalar, hash_scalar,  hamming_scalar};
  static const Kernels avx2{minmax_avx2,    quest_avx2, logits_avx2,
                            exp_scale_avx2, hash_avx2,  hamming_avx2};
  static const Kernels avx512{minmax_avx2,    quest_avx2, logits_avx512,
                              exp_scale_avx2, hash_avx2,  hamming_avx2};
  switch (simd_level()) {
    case Simd::Avx512:
      return avx512;
    case Simd::Avx2:
      return avx2;
    default:
      return scalar;
  }
}

}  // namespace ctxengine::attn::detail
