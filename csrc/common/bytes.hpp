// Byte-string helpers for hot paths over short strings (pieces, tokens, terms): inline word
// loads beat calls to memcmp and variable-size memcpy (which compiles to a slow `rep movsb`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ctxengine::detail {

inline uint64_t load_u64(const uint8_t* p) noexcept {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline uint32_t load_u32(const uint8_t* p) noexcept {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// a[0, len) == b[0, len), reading neither past len. Pieces are short: inline word compares beat
// a call to memcmp.
inline bool same_bytes(const uint8_t* a, const uint8_t* b, std::size_t len) noexcept {
  if (len >= 8) {
    for (std::size_t i = 0; i + 8 < len; i += 8) {
      if (load_u64(a + i) != load_u64(b + i)) return false;
    }
    return load_u64(a + len - 8) == load_u64(b + len - 8);
  }
  if (len >= 4) return load_u32(a) == load_u32(b) && load_u32(a + len - 4) == load_u32(b + len - 4);
  if (len == 0) return true;
  return a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1];  // all of 1-3
}

// A word that depends on every byte of p[0, len) (len < 8), reading none past len: the bytes
// that are hashed after the whole words (a variable-size memcpy would be a slow `rep movsb`).
inline uint64_t tail_word(const uint8_t* p, std::size_t len) noexcept {
  if (len >= 4) return load_u32(p) | (uint64_t{load_u32(p + len - 4)} << 32);
  if (len == 0) return 0;
  return p[0] | (uint64_t{p[len / 2]} << 8) | (uint64_t{p[len - 1]} << 16);
}

}  // namespace ctxengine::detail
