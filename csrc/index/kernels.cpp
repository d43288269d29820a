// Scalar kernels (the reference for the SIMD ones) and the run-time choice between them.
#include "index/kernels.hpp"

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace ctxengine {
namespace detail {

void score_ids_scalar(const uint32_t* ids, std::size_t n, const float* parts, float weight,
                      float idf, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = weight * (idf * parts[ids[i]]);
}

std::size_t next_above_scalar(const float* acc, std::size_t from, std::size_t n, float t) {
  for (std::size_t i = from; i < n; ++i)
    if (acc[i] > t) return i;
  return n;
}

std::size_t take_above_scalar(float* acc, std::size_t from, std::size_t n, float t, float fill,
                              uint32_t* idx, float* val, std::size_t cap, std::size_t* found) {
  std::size_t f = 0, i = from;
  while (i < n && f + 8 <= cap) {
    const std::size_t group_end = i + 8 < n ? i + 8 : n;
    for (; i < group_end; ++i) {
      const float v = acc[i];
      acc[i] = fill;
      if (v > t) {
        idx[f] = static_cast<uint32_t>(i);
        val[f++] = v;
      }
    }
  }
  *found = f;
  return i;
}

namespace {

// Branch-free: one unaligned 8-byte load and a shift per value (w + 7 <= 39 bits fit), the width
// a template parameter so that each loop compiles to shifts by constants.
template <unsigned W>
void unpack_fixed(const unsigned char* p, std::size_t n, uint32_t* out) {
  constexpr uint64_t mask = W == 32 ? 0xFFFFFFFFull : ((1ull << W) - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t bit = i * W;
    uint64_t word;
    std::memcpy(&word, p + (bit >> 3), 8);
    out[i] = static_cast<uint32_t>((word >> (bit & 7u)) & mask);
  }
}

using FixedFn = void (*)(const unsigned char*, std::size_t, uint32_t*);

template <std::size_t... W>
constexpr std::array<FixedFn, sizeof...(W)> fixed_table(std::index_sequence<W...>) {
  return {&unpack_fixed<static_cast<unsigned>(W)>...};
}

}  // namespace

void unpack_scalar(const unsigned char* p, std::size_t n, unsigned w, uint32_t* out) {
  static constexpr auto table = fixed_table(std::make_index_sequence<33>{});
  table[w](p, n, out);
}

void undelta_scalar(uint32_t* v, std::size_t n, uint32_t base) {
  for (std::size_t i = 0; i < n; ++i) v[i] = base = base + v[i] + 1;
}

void unpack_docs_scalar(const unsigned char* p, std::size_t n, unsigned w, uint32_t base,
                        uint32_t* out) {
  unpack_scalar(p, n, w, out);
  undelta_scalar(out, n, base);
}

}  // namespace detail

namespace {

const Kernels kScalar{&detail::score_ids_scalar,
                      &detail::next_above_scalar,
                      &detail::take_above_scalar,
                      &detail::unpack_scalar,
                      &detail::undelta_scalar,
                      &detail::unpack_docs_scalar,
                      "scalar"};
#if defined(__x86_64__) || defined(_M_X64)
const Kernels kAvx2{&detail::score_ids_avx2,
                    &detail::next_above_avx2,
                    &detail::take_above_avx2,
                    &detail::unpack_avx2,
                    &detail::undelta_avx2,
                    &detail::unpack_docs_avx2,
                    "avx2"};
#endif

const Kernels* pick(const char* name) {
  const bool want_auto = name == nullptr || std::strcmp(name, "auto") == 0 || !*name;
  if (name != nullptr && std::strcmp(name, "scalar") == 0) return &kScalar;
  if (want_auto || std::strcmp(name, "avx2") == 0) {
    if (const Kernels* k = avx2_kernels()) return k;
    return want_auto ? &kScalar : nullptr;
  }
  return nullptr;
}

std::atomic<const Kernels*>& current() {
  static std::atomic<const Kernels*> k{[] {
    const Kernels* chosen = pick(std::getenv("CTXENGINE_SIMD"));
    return chosen != nullptr ? chosen : &kScalar;
  }()};
  return k;
}

}  // namespace

const Kernels& scalar_kernels() {
  return kScalar;
}

const Kernels* avx2_kernels() {
#if defined(__x86_64__) || defined(_M_X64)
  static const bool ok = __builtin_cpu_supports("avx2");
  return ok ? &kAvx2 : nullptr;
#else
  return nullptr;
#endif
}

const Kernels& kernels() {
  return *current().load(std::memory_order_relaxed);
}

bool set_kernels(const char* name) {
  const Kernels* k = pick(name);
  if (k == nullptr) return false;
  current().store(k, std::memory_order_relaxed);
  return true;
}

}  // namespace ctxengine
