// Bit-packed posting blocks. Value i of width w starts at bit i*w; the kernels (kernels.hpp)
// unpack eight values at once (AVX2) or one per 8-byte load (scalar), and turn gaps into doc ids
// with a vector prefix sum where no id can overflow. Near the end of the postings (fewer than
// 16 readable bytes past a run) a byte-wise loop reads exactly the run's bytes instead.
#include "index/postings.hpp"

#include <cstring>

#include "index/kernels.hpp"

namespace ctxengine {
namespace {

inline unsigned bit_width(uint32_t v) noexcept {
  return v == 0 ? 0u : 32u - static_cast<unsigned>(__builtin_clz(v));
}

inline std::size_t packed_bytes(std::size_t n, unsigned w) noexcept {
  return (n * w + 7) / 8;
}

void pack(const uint32_t* v, std::size_t n, unsigned w, std::string& out) {
  const std::size_t at = out.size();
  out.resize(at + packed_bytes(n, w), '\0');
  if (w == 0) return;
  auto* p = reinterpret_cast<unsigned char*>(&out[at]);
  for (std::size_t i = 0; i < n; ++i) {
    uint64_t x = v[i];
    std::size_t bit = i * w;
    for (unsigned done = 0; done < w;) {
      const unsigned shift = bit & 7u;
      const unsigned take = (8u - shift) < (w - done) ? (8u - shift) : (w - done);
      p[bit >> 3] |= static_cast<unsigned char>((x & ((1u << take) - 1u)) << shift);
      x >>= take;
      done += take;
      bit += take;
    }
  }
}

void unpack_slow(const unsigned char* p, std::size_t n, unsigned w, uint32_t* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    uint64_t x = 0;
    const std::size_t bit = i * w;
    const std::size_t first = bit >> 3, last = (bit + w + 7) >> 3;  // bytes [first, last)
    for (std::size_t b = first; b < last; ++b)
      x |= static_cast<uint64_t>(p[b]) << (8 * (b - first));
    out[i] =
        static_cast<uint32_t>((x >> (bit & 7u)) & (w == 32 ? 0xFFFFFFFFull : ((1ull << w) - 1)));
  }
}

// Unpacks n values of width w from [p, end); returns the byte after them or nullptr. Reads may
// reach `limit`.
inline const unsigned char* unpack(const unsigned char* p, const unsigned char* end,
                                   const unsigned char* limit, std::size_t n, unsigned w,
                                   uint32_t* out) noexcept {
  const std::size_t bytes = packed_bytes(n, w);
  if (w > 32 || static_cast<std::size_t>(end - p) < bytes) return nullptr;
  if (w == 0) {
    std::memset(out, 0, n * sizeof(uint32_t));
  } else if (w <= kMaxKernelWidth && static_cast<std::size_t>(limit - p) >= bytes + 16) {
    kernels().unpack(p, n, w, out);
  } else if (static_cast<std::size_t>(limit - p) >= bytes + 8) {
    detail::unpack_scalar(p, n, w, out);
  } else {
    unpack_slow(p, n, w, out);
  }
  return p + bytes;
}

// Turns gaps into doc ids; false when an id would pass 2^32 - 2. Gaps are below 2^w.
inline bool undelta(uint32_t* docs, std::size_t n, unsigned w, int64_t prev) noexcept {
  if (prev + static_cast<int64_t>(uint64_t{n} << w) <= int64_t{0xFFFFFFFE}) {
    // No id can pass the limit: the kernel needs no checks.
    kernels().undelta(docs, n, static_cast<uint32_t>(prev));
    return true;
  }
  uint64_t d = static_cast<uint64_t>(prev + 1);  // prev >= -1
  for (std::size_t i = 0; i < n; ++i) {
    d += docs[i];
    docs[i] = static_cast<uint32_t>(d);
    ++d;
  }
  return d - 1 <= 0xFFFFFFFEull;
}

}  // namespace

void encode_block(const uint32_t* docs, const uint32_t* values, std::size_t n,
                  int64_t prev_last_doc, std::string& out) {
  uint32_t gaps[kBlockSize];
  uint32_t gap_or = 0, value_or = 0;
  int64_t prev = prev_last_doc;
  for (std::size_t i = 0; i < n; ++i) {
    gaps[i] = static_cast<uint32_t>(docs[i] - prev - 1);
    prev = docs[i];
    gap_or |= gaps[i];
    value_or |= values[i];
  }
  const unsigned gw = bit_width(gap_or), vw = bit_width(value_or);
  out.push_back(static_cast<char>(gw));
  out.push_back(static_cast<char>(vw));
  pack(gaps, n, gw, out);
  pack(values, n, vw, out);
}

const unsigned char* decode_block(const unsigned char* p, const unsigned char* end,
                                  const unsigned char* limit, std::size_t n, int64_t prev_last_doc,
                                  uint32_t* docs, uint32_t* values) noexcept {
  if (n == 0 || n > kBlockSize || end - p < 2 || limit < end) return nullptr;
  const unsigned gw = p[0], vw = p[1];
  p += 2;
  const std::size_t gap_bytes = packed_bytes(n, gw);
  if (gw >= 1 && gw <= kMaxKernelWidth && static_cast<std::size_t>(end - p) >= gap_bytes &&
      static_cast<std::size_t>(limit - p) >= gap_bytes + 16 &&
      prev_last_doc + static_cast<int64_t>(uint64_t{n} << gw) <= int64_t{0xFFFFFFFE}) {
    // The common case in one pass: no id can pass the limit, the bytes after the run readable.
    kernels().unpack_docs(p, n, gw, static_cast<uint32_t>(prev_last_doc), docs);
    p += gap_bytes;
  } else if (!(p = unpack(p, end, limit, n, gw, docs)) || !undelta(docs, n, gw, prev_last_doc)) {
    return nullptr;
  }
  return unpack(p, end, limit, n, vw, values);
}

}  // namespace ctxengine
