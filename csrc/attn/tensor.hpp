// The array shapes of sparse-attention scoring (csrc/attn) and fp16 conversion.
//
// Queries are [Hq, Nq, D] and keys [Hkv, Nk, D], row-major, float32 or IEEE float16 (raw bits).
// Query head h reads KV head h / (Hq / Hkv) (grouped-query attention), and query i sits at
// position Nk - Nq + i of the sequence: the queries are the last Nq positions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ctxengine::attn {

enum class DType { F32, F16 };

inline std::size_t dtype_size(DType t) {
  return t == DType::F32 ? 4 : 2;
}

// A read-only [heads, n, dim] array of float32 or float16.
struct HeadsView {
  const void* data = nullptr;
  DType dtype = DType::F32;
  std::size_t heads = 0, n = 0, dim = 0;

  const float* f32(std::size_t h, std::size_t i) const {
    return static_cast<const float*>(data) + (h * n + i) * dim;
  }
  const uint16_t* f16(std::size_t h, std::size_t i) const {
    return static_cast<const uint16_t*>(data) + (h * n + i) * dim;
  }
};

// Exact IEEE half -> float (every half is a float); the scalar twin of F16C's vcvtph2ps.
inline float half_to_float(uint16_t h) noexcept {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: mant * 2^-24, exact in float
      float f = float(mant) * 5.9604644775390625e-8f;
      std::memcpy(&bits, &f, 4);
      bits |= sign;
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

// Row i of head h as float32 into out[dim] (a copy; exact for float16).
inline void load_row(const HeadsView& v, std::size_t h, std::size_t i, float* out) noexcept {
  if (v.dtype == DType::F32) {
    std::memcpy(out, v.f32(h, i), v.dim * sizeof(float));
  } else {
    const uint16_t* src = v.f16(h, i);
    for (std::size_t d = 0; d < v.dim; ++d) out[d] = half_to_float(src[d]);
  }
}

// Checks what every kernel needs of q and k: the same D, Hq a multiple of Hkv, Nq <= Nk.
void check_qk(const HeadsView& q, const HeadsView& k);

// Position of query i in the sequence.
inline std::size_t query_position(std::size_t nq, std::size_t nk, std::size_t i) {
  return nk - nq + i;
}

// An order-preserving key of a score: larger float -> larger key; -0 equals +0; NaN maps to 0,
// below -inf, so NaN ranks last everywhere.
inline uint32_t order_key(float v) noexcept {
  if (v != v) return 0;
  if (v == 0.0f) v = 0.0f;
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

}  // namespace ctxengine::attn
