// Parsing of tiktoken rank files (`*.tiktoken`): one token per line, its bytes in base64 and its
// rank (= token id) in decimal, separated by one space, as tiktoken's load_tiktoken_bpe reads them.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe_tokenizer.hpp"
#include "tokenizer/vocabulary.hpp"

namespace ctxengine {

// Parses the content of a rank file. `source` names the file in error messages. Throws Format
// naming the file and the 1-based line on a malformed line (missing field, bad base64, bad rank),
// a duplicate token or rank, or an empty file.
Vocabulary parse_tiktoken_ranks(std::string_view content, const std::string& source);

// A tokenizer from a rank file's content, its regex pattern (one of the known patterns, see
// identify_pattern; Unsupported otherwise) and its special tokens.
std::shared_ptr<BpeTokenizer> load_tiktoken(const std::string& name, std::string_view content,
                                            const std::string& source, std::string_view pattern,
                                            std::vector<SpecialToken> special_tokens);

}  // namespace ctxengine
