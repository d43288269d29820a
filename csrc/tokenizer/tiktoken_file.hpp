// Parsing of tiktoken rank files (`*.tiktoken`): one token per line, its bytes in base64 and its
// rank (= token id) in decimal, separated by one space, as tiktoken's load_tiktoken_bpe reads them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/bpe_tokenizer.hpp"
#include "tokenizer/vocabulary.hpp"

namespace ctxengine {

// Parses the content of a rank file. `source` names the file in error messages. Throws Format
// naming the file and the 1-based line on a malformed line (missing field, bad base64, bad rank),
// a duplicate token or rank, or an empty file.
Vocabulary parse_tiktoken_ranks(std::string_view content, const std::string& source);

// A tokenizer from a rank file's content, its regex pattern (a known pattern string or scanner
// name runs a hand-written scanner; any other pattern is compiled with tiktoken's semantics,
// Unsupported naming the construct outside the dialect) and its special tokens.
// A tokenizer from token bytes by id and, for HF-style BPE, a list of merges (pairs of ids, in
// priority order); without merges the ids are tiktoken ranks. `pattern` as for load_tiktoken.
std::shared_ptr<BpeTokenizer> make_bpe_tokenizer(
    const std::string& name, const std::vector<std::pair<std::string, uint32_t>>& tokens,
    const std::vector<std::pair<uint32_t, uint32_t>>* merges, bool whole_piece_lookup,
    std::string_view pattern, std::vector<SpecialToken> special_tokens, const std::string& source);

std::shared_ptr<BpeTokenizer> load_tiktoken(const std::string& name, std::string_view content,
                                            const std::string& source, std::string_view pattern,
                                            std::vector<SpecialToken> special_tokens);

}  // namespace ctxengine
