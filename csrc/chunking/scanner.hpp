// Boundary scanners: one forward pass over the text per mode, emitting the stored boundaries
// (levels >= sentence) in order. A scanner can stop at any character and resume later, so the
// same code serves a whole text in memory and a stream read block by block; its decisions read
// at most kLookahead bytes ahead and kLookbehind bytes behind, so both give the same boundaries.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "chunking/boundary.hpp"

namespace ctxengine {

enum class ChunkMode : uint8_t { Recursive, Tokens, Sentences, Markdown, Code };

// How a source language nests: by indentation (Python, and the default for unknown languages,
// without lexing), or by braces (C, C++, Java, JavaScript, Go, Rust, ...).
enum class CodeLanguage : uint8_t { Indent, Python, Braces };

// "recursive" -> ChunkMode::Recursive, ...; throws InvalidArgument naming the known modes.
ChunkMode parse_chunk_mode(std::string_view name);
// A language name ("python", "c++", "javascript", "go", "yaml", ...; case-insensitive);
// throws InvalidArgument naming the known ones.
CodeLanguage code_language_from_name(std::string_view language);
// Guesses from a file name's extension ("src/main.rs" -> Braces); unknown -> Indent.
CodeLanguage code_language_from_path(std::string_view path);

class BoundaryScanner {
 public:
  virtual ~BoundaryScanner() = default;

  // Scans characters that start before `limit` (<= w.end()), appending boundaries in order.
  // Call with limit = w.end() only when w.eof; otherwise leave kLookahead bytes after limit.
  virtual void scan(const TextWindow& w, uint64_t limit, std::vector<Boundary>& out) = 0;

  // Every boundary below this offset has been emitted and is final.
  virtual uint64_t committed() const = 0;

  // Headings seen so far and still held (markdown); nullptr for modes without headings.
  // headings()[i] is heading number headings_base() + i (parents use those numbers).
  virtual const std::vector<Heading>* headings() const { return nullptr; }
  virtual int64_t headings_base() const { return 0; }
  // Lets go of the headings before the last one that starts before `pos` (a stream no longer
  // needs them: every later chunk starts at or after `pos`).
  virtual void forget_headings_before(uint64_t /*pos*/) {}
};

std::unique_ptr<BoundaryScanner> make_scanner(ChunkMode mode, CodeLanguage language);

}  // namespace ctxengine
