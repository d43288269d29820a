// Compressed posting lists: each term's (doc, tf) pairs in blocks of kBlockSize documents. A
// block is the doc-id gaps then the term frequencies, each as LEB128 varints; per block the index
// keeps its last doc id, its byte offset and the largest score any of its documents gets for the
// term (the "block max" of block-max WAND, Ding & Suel, SIGIR 2011).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ctxengine {

inline constexpr std::size_t kBlockSize = 128;

// Appends the varint encoding of n postings (docs strictly increasing, all > prev_last_doc when
// prev_last_doc >= 0) to out.
void encode_block(const uint32_t* docs, const uint32_t* tfs, std::size_t n, int64_t prev_last_doc,
                  std::string& out);

// Decodes n postings of the block in [p, end); prev_last_doc is the previous block's last doc (-1
// for the first block). Returns the byte after the block, or nullptr when the bytes run out
// (a corrupt index): decoding never reads past `end`.
const unsigned char* decode_block(const unsigned char* p, const unsigned char* end, std::size_t n,
                                  int64_t prev_last_doc, uint32_t* docs, uint32_t* tfs) noexcept;

}  // namespace ctxengine
