// A tokenizer.json as one object: added tokens, normalizer, pre-tokenizer, model,
// post-processor and decoder, run in HF tokenizers' order. Split regexes run as hand-written
// scanners (known patterns) or compiled (regex.hpp); a pattern outside the compiled dialect
// makes an "external" step that the Python layer runs with the `regex` module between
// prepare() and encode_pieces(); everything else runs here, and encode()/count() do the whole
// pipeline in one call. Offsets are 32-bit: texts (and normalized texts) of 4 GiB or more are
// refused with a Limit error (check_text_size), never truncated.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/added_vocab.hpp"
#include "tokenizer/hf_decoder.hpp"
#include "tokenizer/hf_model.hpp"
#include "tokenizer/normalizer.hpp"
#include "tokenizer/pretokenizer.hpp"
#include "tokenizer/regex.hpp"

namespace ctxengine::hf {

struct PreTokenizerStep {
  enum class Kind {
    Bert,             // whitespace removed, punctuation (kBertPunct) isolated
    WhitespaceSplit,  // whitespace removed
    ByteLevel,        // ByteLevel without its regex: a virtual leading space if asked
    Scanner,          // Split(Isolated) / ByteLevel(use_regex) on a pattern with a scanner
    Metaspace,        // spaces become the replacement, prepended and split before if asked
    CharSplit,        // split on characters with flag `char_flag` (Digits, Punctuation)
    Regex,            // Split on a compiled regex, any behavior, `invert`
    External,         // run by the Python layer
  };
  Kind kind = Kind::External;
  bool add_prefix_space = false;                // ByteLevel, Scanner (ByteLevel's own regex)
  Pretokenizer scanner = Pretokenizer::Custom;  // Scanner
  enum class Prepend { Always, First, Never };  // Metaspace's prepend_scheme
  Prepend prepend = Prepend::Always;            // Metaspace
  bool split = true;                            // Metaspace
  // CharSplit: HF's SplitDelimiterBehavior and the hf_unicode.hpp flag of the delimiters.
  enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
  Behavior behavior = Behavior::Isolated;
  uint8_t char_flag = 0;
  std::shared_ptr<const ctxengine::Regex> regex;  // Regex
  bool invert = false;                            // Regex
  // CharSplit, Regex after a ByteLevel step: they see HF's byte-level text, one character of
  // GPT-2's byte alphabet per byte (Falcon's Digits and Split after ByteLevel), so they may cut
  // inside a UTF-8 sequence (U+043C is D0 BC, and BC stands for the numeric '¼').
  bool byte_level = false;
};

// Throws Limit when a text of `bytes` bytes cannot be run with 32-bit offsets (4 GiB or more).
void check_text_size(std::size_t bytes);

// A pre-token: normalized bytes [begin, end), or an added token's id. `space`: a virtual
// leading space (ByteLevel's add_prefix_space) or, for a Metaspace piece, a virtual leading
// replacement; `meta`: the piece's spaces read as the Metaspace replacement.
struct Piece {
  uint32_t begin = 0, end = 0;
  int64_t id = -1;  // >= 0: an added token
  bool space = false;
  bool meta = false;
};

// The text after added-token extraction and normalization: the normalized UTF-8 of all
// segments, the original byte range of each normalized byte, and the segments.
struct Prepared {
  std::string text;
  std::vector<uint32_t> src_begin, src_end;  // per byte of text (when alignment was asked)
  std::vector<Segment> segments;             // over text; id >= 0 for added tokens
};

// Which added tokens are matched: one flag per added token (non-special ones are always on).
using TokenMask = std::vector<uint8_t>;

class Pipeline {
 public:
  Normalizer normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::unique_ptr<Model> model;
  Decoder decoder;
  std::vector<uint32_t> prefix_ids, suffix_ids;  // the post-processor's tokens (one sequence)
  std::string metaspace = "\xE2\x96\x81";        // Metaspace's replacement (U+2581 by default)

  // Adds an added token (call before finalize()).
  void add_token(AddedToken token) { added_.push_back(std::move(token)); }
  // Builds the matchers (normalizing the contents of normalized added tokens).
  void finalize();

  const std::vector<AddedToken>& added_tokens() const noexcept { return added_; }
  bool has_external_steps() const noexcept;
  TokenMask all_special_mask(bool on) const;

  // The whole pipeline (no external steps): ids, and with `offsets` the original byte range of
  // each token (begin, end pairs).
  void encode(std::string_view text, const TokenMask& mask, bool add_special,
              std::vector<uint32_t>& ids, std::vector<uint32_t>* offsets) const;
  std::size_t count(std::string_view text, const TokenMask& mask, bool add_special) const;
  // Token counts of many texts on `threads` threads (0 = all cores).
  void count_many(const std::vector<std::string_view>& texts, const TokenMask& mask,
                  bool add_special, std::size_t threads, int64_t* out) const;

  // The general path, around the external pre-tokenizer steps.
  Prepared prepare(std::string_view text, const TokenMask& mask, bool alignment) const;
  // Runs native step `step` on the text pieces (added-token pieces pass through).
  std::vector<Piece> run_step(std::size_t step, const std::string& text,
                              const std::vector<Piece>& pieces) const;
  void encode_pieces(const Prepared& prepared, const std::vector<Piece>& pieces, bool add_special,
                     std::vector<uint32_t>& ids, std::vector<uint32_t>* offsets) const;

  // Token ids to text (skip_special: leave out special added tokens).
  std::string decode(const uint32_t* ids, std::size_t n, bool skip_special) const;
  // The string of a token id (an added token's content or the model's token string).
  bool token_string(uint32_t id, std::string& out) const;
  // The first (leftmost-longest) match of an added token whose mask flag is set, as
  // (byte offset, token index), or (-1, -1); used to refuse disallowed special tokens.
  std::pair<int64_t, int64_t> find_token(std::string_view text, const TokenMask& mask) const;

 private:
  void split_segments(std::string_view text, const TokenMatcher& matcher, const TokenMask& mask,
                      std::vector<Segment>& out) const;
  void pre_tokenize(const std::string& text, const Segment& seg, std::vector<Piece>& out) const;
  // The bytes the model sees for a text piece (its virtual prefix and Metaspace replacements
  // applied), and with `from` the normalized byte each came from (-1 for a virtual prefix).
  std::string_view model_input(const std::string& text, const Piece& pc, std::string& buf,
                               std::vector<int64_t>* from) const;
  void run_model(const std::string& text, const std::vector<Piece>& pieces, Scratch& scratch,
                 std::vector<uint32_t>& ids, std::vector<uint32_t>* lens,
                 std::vector<uint32_t>* per_piece) const;

  void encode(std::string_view text, const TokenMask& mask, bool add_special, Scratch& scratch,
              std::vector<uint32_t>& ids, std::vector<uint32_t>* offsets) const;
  void encode_pieces(const Prepared& prepared, const std::vector<Piece>& pieces, bool add_special,
                     Scratch& scratch, std::vector<uint32_t>& ids,
                     std::vector<uint32_t>* offsets) const;

  std::vector<AddedToken> added_;
  TokenMatcher raw_, normalized_;
  bool has_normalized_ = false;
  std::vector<int64_t> id_to_added_;  // token id -> index in added_, or -1
};

}  // namespace ctxengine::hf
