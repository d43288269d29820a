// Compressed posting lists: each term's (doc, value) pairs in blocks of kBlockSize documents,
// where a posting's value is the id of its (tf, document length) pair in the segment's pair
// table (segment.hpp). A block is two bit-packed runs (frame of reference, as PISA's and
// Lucene's FOR blocks): the doc-id gaps minus one, then the values, each at the bit width of its
// largest value, after a two-byte header holding both widths. Per block the segment keeps its
// last doc id, its byte offset and its impacts (csrc/index/impacts.hpp), from which the query
// bounds the block's best score under any corpus statistics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ctxengine {

inline constexpr std::size_t kBlockSize = 128;

// Appends the encoding of n postings (1 <= n <= kBlockSize; docs strictly increasing, all >
// prev_last_doc when prev_last_doc >= 0) to out.
void encode_block(const uint32_t* docs, const uint32_t* values, std::size_t n,
                  int64_t prev_last_doc, std::string& out);

// Decodes n postings of the block in [p, end); prev_last_doc is the previous block's last doc (-1
// for the first block). Returns the byte after the block, or nullptr when the block is malformed
// (a corrupt index). Bytes up to `limit` (>= end: where the buffer ends) may be read, never
// used: the fast unpacking loads 8 bytes at a time.
const unsigned char* decode_block(const unsigned char* p, const unsigned char* end,
                                  const unsigned char* limit, std::size_t n, int64_t prev_last_doc,
                                  uint32_t* docs, uint32_t* values) noexcept;

}  // namespace ctxengine
