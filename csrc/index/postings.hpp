// Compressed posting lists: each term's (doc, tf) pairs in blocks of kBlockSize documents. A
// block is two bit-packed runs (frame of reference, as PISA's and Lucene's FOR blocks): the
// doc-id gaps minus one, then the term frequencies minus one, each at the bit width of its
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
// prev_last_doc when prev_last_doc >= 0; tfs >= 1) to out.
void encode_block(const uint32_t* docs, const uint32_t* tfs, std::size_t n, int64_t prev_last_doc,
                  std::string& out);

// Decodes n postings of the block in [p, end); prev_last_doc is the previous block's last doc (-1
// for the first block). Returns the byte after the block, or nullptr when the block is malformed
// (a corrupt index): decoding never reads outside [p, end).
const unsigned char* decode_block(const unsigned char* p, const unsigned char* end, std::size_t n,
                                  int64_t prev_last_doc, uint32_t* docs, uint32_t* tfs) noexcept;

// Decodes only the doc ids of a block (the tfs are skipped, not unpacked).
const unsigned char* decode_block_docs(const unsigned char* p, const unsigned char* end,
                                       std::size_t n, int64_t prev_last_doc,
                                       uint32_t* docs) noexcept;

}  // namespace ctxengine
