// LEB128 varints: small gaps (frequent terms) take one byte, and decoding is a tight loop with no
// tables. A block codec such as PForDelta would decode faster; the query loop skips most blocks
// without decoding them, so decoding is not where the time goes.
#include "index/postings.hpp"

namespace ctxengine {
namespace {

inline void put_varint(uint32_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads one varint of at most 5 bytes from [p, end); nullptr when it does not end in time.
inline const unsigned char* get_varint(const unsigned char* p, const unsigned char* end,
                                       uint32_t* v) noexcept {
  uint32_t x = 0;
  for (int shift = 0; shift < 35 && p < end; shift += 7) {
    const unsigned char c = *p++;
    x |= static_cast<uint32_t>(c & 0x7F) << shift;
    if (!(c & 0x80)) {
      *v = x;
      return p;
    }
  }
  return nullptr;
}

}  // namespace

void encode_block(const uint32_t* docs, const uint32_t* tfs, std::size_t n, int64_t prev_last_doc,
                  std::string& out) {
  int64_t prev = prev_last_doc;
  for (std::size_t i = 0; i < n; ++i) {
    put_varint(static_cast<uint32_t>(docs[i] - prev - 1), out);
    prev = docs[i];
  }
  for (std::size_t i = 0; i < n; ++i) put_varint(tfs[i] - 1, out);
}

const unsigned char* decode_block(const unsigned char* p, const unsigned char* end, std::size_t n,
                                  int64_t prev_last_doc, uint32_t* docs, uint32_t* tfs) noexcept {
  int64_t prev = prev_last_doc;
  for (std::size_t i = 0; i < n; ++i) {
    uint32_t gap;
    if (!(p = get_varint(p, end, &gap))) return nullptr;
    prev += static_cast<int64_t>(gap) + 1;
    if (prev > 0xFFFFFFFFll) return nullptr;
    docs[i] = static_cast<uint32_t>(prev);
  }
  for (std::size_t i = 0; i < n; ++i) {
    uint32_t tf;
    if (!(p = get_varint(p, end, &tf))) return nullptr;
    tfs[i] = tf + 1;
  }
  return p;
}

}  // namespace ctxengine
