// Fast loading of large tokenizer.json files: the BPE model's vocabulary and merges (the bulk
// of a 128K-256K vocabulary file, 10-30 MB) are parsed here instead of by Python's json, and
// the merges are resolved to ids in C++. The rest of the file (a few KB to a few hundred KB)
// is returned as JSON text with those two values emptied, for the Python loader to check.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctxengine::hf {

struct BpeJson {
  std::string rest;                 // the file with model.vocab -> {} and model.merges -> []
  std::vector<std::string> tokens;  // model.vocab in file order
  std::vector<int64_t> ids;
  std::vector<std::pair<std::string, std::string>> merges;  // "a b" or ["a", "b"]
  bool found = false;  // false: no model.vocab object and model.merges array (rest is empty)

  // Merge ids (left, right, merged) in priority order; the merged token of (a, b) is a + b with
  // `prefix` (continuing_subword_prefix) removed from the front of b. Throws Format naming the
  // first merge that uses a string not in the vocabulary (as the Python loader words it).
  void resolve_merges(const std::string& prefix, const std::string& source,
                      std::vector<uint32_t>& left, std::vector<uint32_t>& right,
                      std::vector<uint32_t>& merged) const;
};

// Parses `json` (the whole tokenizer.json, UTF-8); Format errors name `source` and the byte.
BpeJson extract_bpe_json(std::string_view json, const std::string& source);

}  // namespace ctxengine::hf
