// AVX2 kernels: eight postings or accumulators per step, the same IEEE operations in the same
// order as the scalar ones (two multiplies: no FMA is possible, so none can be contracted), hence
// the same bits.
#include "index/kernels.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cstring>

namespace ctxengine::detail {
namespace {

// Unpacking eight w-bit values at once. Eight values take exactly w bytes, so each group of
// eight starts on a byte. Values 0-3 of a group lie in its first 13 bytes and values 4-7 in the
// 13 bytes from byte (4w)/8 (w <= 25), so two 16-byte loads fill the two halves of a register;
// a byte shuffle gives each lane the 4 bytes that hold its value, a per-lane shift and a mask
// finish it (the scalar kernel's 4-byte load, eight lanes at a time).
struct UnpackTables {
  alignas(32) uint8_t shuffle[kMaxKernelWidth + 1][32];
  alignas(32) uint32_t shift[kMaxKernelWidth + 1][8];
  uint32_t high[kMaxKernelWidth + 1];  // byte offset of values 4-7
};

const UnpackTables& unpack_tables() {
  static const UnpackTables t = [] {
    UnpackTables u{};
    for (unsigned w = 1; w <= kMaxKernelWidth; ++w) {
      u.high[w] = (4 * w) / 8;
      for (unsigned j = 0; j < 8; ++j) {
        const unsigned base = j < 4 ? 0 : u.high[w];
        const unsigned byte = (j * w) / 8 - base;
        for (unsigned b = 0; b < 4; ++b)
          u.shuffle[w][(j / 4) * 16 + (j % 4) * 4 + b] = static_cast<uint8_t>(byte + b);
        u.shift[w][j] = (j * w) % 8;
      }
    }
    return u;
  }();
  return t;
}

// The per-width constants of the unpacking loop.
struct Unpacker {
  __m256i shuffle, shift, mask;
  std::size_t high;
  explicit Unpacker(unsigned w) {
    const UnpackTables& t = unpack_tables();
    shuffle = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.shuffle[w]));
    shift = _mm256_load_si256(reinterpret_cast<const __m256i*>(t.shift[w]));
    mask = _mm256_set1_epi32(static_cast<int>((uint32_t{1} << w) - 1));
    high = t.high[w];
  }
  // The eight values of the group at q.
  __m256i eight(const unsigned char* q) const {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + high));
    const __m256i x = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    return _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(x, shuffle), shift), mask);
  }
};

// Values i to n of the run at p, one at a time (the tail after the groups of eight; unpack_scalar
// counts bits from its own start).
void unpack_tail(const unsigned char* p, std::size_t i, std::size_t n, unsigned w, uint32_t* out) {
  const uint32_t m = (uint32_t{1} << w) - 1;
  for (; i < n; ++i) {
    const std::size_t bit = i * w;
    uint32_t word;
    std::memcpy(&word, p + (bit >> 3), 4);
    out[i] = (word >> (bit & 7u)) & m;
  }
}

// An inclusive prefix sum of (gap + 1) over the eight lanes of x: in each 128-bit half (two
// shifted adds), then the low half's total carried into the high half.
inline __m256i prefix_sum_plus_one(__m256i x) {
  x = _mm256_add_epi32(x, _mm256_set1_epi32(1));
  x = _mm256_add_epi32(x, _mm256_slli_si256(x, 4));
  x = _mm256_add_epi32(x, _mm256_slli_si256(x, 8));
  const __m256i carry = _mm256_shuffle_epi32(_mm256_permute2x128_si256(x, x, 0x08), 0xFF);
  return _mm256_add_epi32(x, carry);
}

}  // namespace

void unpack_avx2(const unsigned char* p, std::size_t n, unsigned w, uint32_t* out) {
  const Unpacker u(w);
  std::size_t i = 0;
  for (const unsigned char* q = p; i + 8 <= n; i += 8, q += w)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), u.eight(q));
  if (i < n) unpack_tail(p, i, n, w, out);
}

void undelta_avx2(uint32_t* v, std::size_t n, uint32_t base) {
  // The running base is added after the group's prefix sum; the group's total does not depend
  // on it, so the chain from group to group is one add.
  const __m256i last = _mm256_set1_epi32(7);
  __m256i b = _mm256_set1_epi32(static_cast<int>(base));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x =
        prefix_sum_plus_one(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(v + i), _mm256_add_epi32(x, b));
    b = _mm256_add_epi32(b, _mm256_permutevar8x32_epi32(x, last));
  }
  if (i < n) undelta_scalar(v + i, n - i, static_cast<uint32_t>(_mm256_cvtsi256_si32(b)));
}

void unpack_docs_avx2(const unsigned char* p, std::size_t n, unsigned w, uint32_t base,
                      uint32_t* out) {
  const Unpacker u(w);
  const __m256i last = _mm256_set1_epi32(7);
  __m256i b = _mm256_set1_epi32(static_cast<int>(base));
  std::size_t i = 0;
  for (const unsigned char* q = p; i + 8 <= n; i += 8, q += w) {
    const __m256i x = prefix_sum_plus_one(u.eight(q));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_add_epi32(x, b));
    b = _mm256_add_epi32(b, _mm256_permutevar8x32_epi32(x, last));
  }
  if (i < n) {
    unpack_tail(p, i, n, w, out);
    undelta_scalar(out + i, n - i, static_cast<uint32_t>(_mm256_cvtsi256_si32(b)));
  }
}

void score_ids_avx2(const uint32_t* ids, std::size_t n, const float* parts, float weight, float idf,
                    float* out) {
  const __m256 w = _mm256_set1_ps(weight);
  const __m256 f = _mm256_set1_ps(idf);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i id = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ids + i));
    const __m256 part = _mm256_i32gather_ps(parts, id, 4);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(w, _mm256_mul_ps(f, part)));
  }
  if (i < n) score_ids_scalar(ids + i, n - i, parts, weight, idf, out + i);
}

std::size_t next_above_avx2(const float* acc, std::size_t from, std::size_t n, float t) {
  const __m256 th = _mm256_set1_ps(t);
  std::size_t i = from;
  for (; i + 8 <= n; i += 8) {
    const int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(acc + i), th, _CMP_GT_OQ));
    if (m != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
  }
  return next_above_scalar(acc, i, n, t);
}

std::size_t take_above_avx2(float* acc, std::size_t from, std::size_t n, float t, float fill,
                            uint32_t* idx, float* val, std::size_t cap, std::size_t* found) {
  const __m256 th = _mm256_set1_ps(t);
  const __m256 fv = _mm256_set1_ps(fill);
  std::size_t f = 0, i = from;
  // Adds the values of group v (at i + 8g) that pass t.
  const auto emit = [&](__m256 v, unsigned m, std::size_t at) {
    alignas(32) float tmp[8];
    _mm256_store_ps(tmp, v);
    for (; m != 0; m &= m - 1) {
      const auto j = static_cast<std::size_t>(__builtin_ctz(m));
      idx[f] = static_cast<uint32_t>(at + j);
      val[f++] = tmp[j];
    }
  };
  // Four groups a step while even four full groups of finds fit (so that the scalar kernel,
  // checking before each group, would not have stopped in between).
  for (; i + 32 <= n && f + 32 <= cap; i += 32) {
    const __m256 v0 = _mm256_loadu_ps(acc + i), v1 = _mm256_loadu_ps(acc + i + 8);
    const __m256 v2 = _mm256_loadu_ps(acc + i + 16), v3 = _mm256_loadu_ps(acc + i + 24);
    _mm256_storeu_ps(acc + i, fv);
    _mm256_storeu_ps(acc + i + 8, fv);
    _mm256_storeu_ps(acc + i + 16, fv);
    _mm256_storeu_ps(acc + i + 24, fv);
    const __m256 c0 = _mm256_cmp_ps(v0, th, _CMP_GT_OQ), c1 = _mm256_cmp_ps(v1, th, _CMP_GT_OQ);
    const __m256 c2 = _mm256_cmp_ps(v2, th, _CMP_GT_OQ), c3 = _mm256_cmp_ps(v3, th, _CMP_GT_OQ);
    const __m256 any = _mm256_or_ps(_mm256_or_ps(c0, c1), _mm256_or_ps(c2, c3));
    if (_mm256_movemask_ps(any) == 0) continue;
    emit(v0, static_cast<unsigned>(_mm256_movemask_ps(c0)), i);
    emit(v1, static_cast<unsigned>(_mm256_movemask_ps(c1)), i + 8);
    emit(v2, static_cast<unsigned>(_mm256_movemask_ps(c2)), i + 16);
    emit(v3, static_cast<unsigned>(_mm256_movemask_ps(c3)), i + 24);
  }
  for (; i + 8 <= n && f + 8 <= cap; i += 8) {
    const __m256 v = _mm256_loadu_ps(acc + i);
    _mm256_storeu_ps(acc + i, fv);
    emit(v, static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(v, th, _CMP_GT_OQ))), i);
  }
  if (i < n && f + 8 <= cap) {
    std::size_t more;
    i = take_above_scalar(acc, i, n, t, fill, idx + f, val + f, 8, &more);
    f += more;
  }
  *found = f;
  return i;
}

}  // namespace ctxengine::detail

#endif
