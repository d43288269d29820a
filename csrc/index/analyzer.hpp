// The lexical analyzer of the BM25 index: UTF-8 text -> index terms. Words are runs of letters,
// marks, numbers and connector punctuation (what regex \w matches), lowercased with the simple
// Unicode mapping; Han ideographs and kana, which are written without spaces, become one term
// per character or overlapping bigrams (as Lucene's CJKAnalyzer); English stop words and a light
// English stemmer are optional. The same analyzer runs over documents and queries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ctxengine {

enum class CjkMode : uint8_t {
  Unigrams,  // one term per Han/kana character
  Bigrams,   // overlapping pairs of adjacent Han/kana characters; a lone character stays a unigram
};

struct AnalyzerOptions {
  bool lowercase = true;
  CjkMode cjk = CjkMode::Bigrams;
  bool stop_words = false;  // drop the English stop words of english_stop_words()
  bool stem = false;        // the S-stemmer (Harman 1991) on ASCII words
  // Terms longer than this many UTF-8 bytes (base64 blobs, minified code) are not indexed; a
  // query term that long cannot match either. As Lucene's StandardAnalyzer's 255 limit.
  std::size_t max_term_bytes = 255;
  // Words of fewer code points than this are not indexed ("a", "I", the "s" of "user's"),
  // unless they hold an ASCII digit ("3" in "python 3"); CJK terms are kept whatever their
  // length (one character carries a word's meaning). bm25s's default token pattern (\w\w+)
  // drops one-character words too, digits included.
  std::size_t min_word_chars = 1;
};

// Appends the terms of `text` to `out`: the term bytes go to out.bytes and each term's end
// offset in out.bytes to out.ends. Invalid UTF-8 bytes separate words and are never part of one.
struct TermBuffer {
  std::string bytes;
  std::vector<uint32_t> ends;
  void clear() {
    bytes.clear();
    ends.clear();
  }
  std::size_t size() const { return ends.size(); }
  std::string_view term(std::size_t i) const {
    const uint32_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(bytes).substr(begin, ends[i] - begin);
  }
};

void analyze(std::string_view text, const AnalyzerOptions& options, TermBuffer& out);

// True for the code points treated as CJK characters (Han ideographs, Hiragana, Katakana).
bool is_cjk_character(uint32_t cp) noexcept;

// The S-stemmer: "ies" -> "y" (not after e or a), "es" -> "e" (not after a, e or o), drops a final
// "s" (not after u or s). Returns the stemmed length of the ASCII word w[0, n); words shorter
// than 4 bytes are left alone.
std::size_t s_stem(char* w, std::size_t n) noexcept;

// The English stop words (Lucene's EnglishAnalyzer set, 33 words), sorted.
const std::vector<std::string_view>& english_stop_words();
bool is_english_stop_word(std::string_view term) noexcept;

}  // namespace ctxengine
