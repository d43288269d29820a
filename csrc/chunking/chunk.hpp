// The chunking entry points: one text in memory, a batch of texts on all cores, a stream read
// block by block in bounded memory, and fixed token windows. Offsets are byte offsets into the
// UTF-8 text, or code point offsets (Python str indices) when asked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chunking/boundary.hpp"
#include "chunking/chunker.hpp"
#include "chunking/scanner.hpp"
#include "tokenizer/span_counter.hpp"

namespace ctxengine {

struct ChunkRequest {
  ChunkMode mode = ChunkMode::Recursive;
  CodeLanguage language = CodeLanguage::Indent;  // by="code"
  ChunkOptions options;
  bool char_offsets = true;  // report code point offsets instead of byte offsets
};

// Chunks as arrays (struct of arrays). `heading[i]` is the index in `headings` of the last
// heading at or before chunk i's start, or -1 (by="markdown" only; empty otherwise).
struct Chunks {
  std::vector<int64_t> starts, ends, tokens, heading;
  std::vector<Heading> headings;
};

// Builds the counter of one text; must be callable from several threads at once.
using CounterFactory = std::function<std::unique_ptr<SpanCounter>(std::string_view)>;
// The byte offset where each token of a text's encoding starts (by="tokens").
using TokenStartsFn = std::function<void(std::string_view, std::vector<int64_t>&)>;

// What chunking needs from a tokenizer: span counters, and token offsets when it has them.
struct ChunkTokenizer {
  CounterFactory counters;
  TokenStartsFn token_starts;  // empty for tokenizers that only count (by="tokens" needs it)
};

// The code language for by="code": `language` when given (else from the file name `path`).
CodeLanguage resolve_code_language(std::string_view language, std::string_view path);

// The stored boundaries of a text (offsets as `request.char_offsets` says) and their levels:
// what the chunker chooses from, for tests and for tools that show a text's structure.
void scan_boundaries(std::string_view text, const ChunkRequest& request,
                     std::vector<int64_t>* positions, std::vector<int64_t>* levels);

// Chunks one text; `counter` must count spans of exactly `text`.
Chunks chunk_text(std::string_view text, const SpanCounter& counter, const ChunkRequest& request);

// by="tokens": windows of max_tokens tokens of the text's own encoding (token i starts at byte
// token_starts[i]; n_tokens of them), each cut on a token boundary that is also a character
// boundary and re-counted on its own (<= max_tokens); consecutive windows share up to
// `overlap` tokens. Whitespace is kept: the windows tile the text.
Chunks chunk_token_windows(std::string_view text, const SpanCounter& counter,
                           const int64_t* token_starts, std::size_t n_tokens,
                           const ChunkRequest& request);

// Chunks one text in any mode (by="tokens" asks the tokenizer for token offsets), building the
// counter and scanning the boundaries side by side on up to `threads` threads (0 = all cores;
// at most two are used). The result does not depend on the thread count.
Chunks chunk_any(std::string_view text, const ChunkTokenizer& tokenizer,
                 const ChunkRequest& request, std::size_t threads);

// Chunks many texts, one per task on up to `threads` threads (0 = all cores). Results do not
// depend on the thread count. Flattened: document d's chunks are [doc_offsets[d],
// doc_offsets[d + 1]); heading indices point into the shared `chunks.headings`.
struct ChunkBatch {
  Chunks chunks;
  std::vector<int64_t> doc_offsets;
};
ChunkBatch chunk_many(const std::vector<std::string_view>& texts, const ChunkTokenizer& tokenizer,
                      const ChunkRequest& request, std::size_t threads);

// Chunks a stream fed in blocks of whole UTF-8 characters, holding only the text still needed
// (the current chunk, the look-ahead, and what the last block added). Gives exactly the chunks
// chunk_text gives for the whole text. Offsets are absolute.
class ChunkStream {
 public:
  ChunkStream(const ChunkRequest& request, CounterFactory counters);
  ~ChunkStream();

  // Appends `data` and returns the chunks that are now final; with `eof`, all the rest.
  // `texts` receives each chunk's text; the returned `headings` are those first seen in this
  // call (heading indices count every heading since the stream began).
  Chunks feed(std::string_view data, bool eof, std::vector<std::string>* texts);

  // Bytes held now: what the next decisions may still read.
  std::size_t buffered_bytes() const { return buf_.size(); }

 private:
  ChunkRequest request_;
  CounterFactory counters_;
  std::unique_ptr<BoundaryScanner> scanner_;
  Chunker chunker_;
  std::vector<Boundary> boundaries_;
  std::string buf_;         // text from byte base_ on
  uint64_t base_ = 0;       // bytes dropped so far
  uint64_t char_base_ = 0;  // code points dropped so far
  std::size_t headings_sent_ = 0;
  bool done_ = false;
};

}  // namespace ctxengine
