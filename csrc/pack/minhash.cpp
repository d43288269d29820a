// Shingling and one-permutation sketches (see minhash.hpp for the definitions the reference in
// python/ctxengine/packing/_reference.py mirrors exactly).
#include "pack/minhash.hpp"

#include <algorithm>
#include <vector>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "text/unicode.hpp"
#include "text/utf8.hpp"

namespace ctxengine {
namespace {

constexpr uint64_t kFnvOffset = 0xCBF29CE484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001B3ull;
constexpr uint64_t kShingleSeed = 0x243F6A8885A308D3ull;  // the digits of pi, any constant works

inline bool is_ascii_word(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

inline unsigned char ascii_lower(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c + 32) : c;
}

// FNV-1a over the unit's bytes (ASCII lowercased), then mixed: the hash of one unit.
class UnitHasher {
 public:
  void add(const unsigned char* p, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) h_ = (h_ ^ ascii_lower(p[i])) * kFnvPrime;
    open_ = true;
  }
  bool open() const noexcept { return open_; }
  uint64_t finish() noexcept {
    const uint64_t h = mix64(h_);
    h_ = kFnvOffset;
    open_ = false;
    return h;
  }

 private:
  uint64_t h_ = kFnvOffset;
  bool open_ = false;
};

// The unit hashes of a text, in order.
void units_of(std::string_view text, std::vector<uint64_t>& units) {
  units.clear();
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  UnitHasher word;
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      if (is_ascii_word(c)) {
        word.add(s + i, 1);
      } else if (word.open()) {
        units.push_back(word.finish());
      }
      ++i;
      continue;
    }
    if (i + utf8_length(c) > n) break;  // a truncated last character ends the text
    uint32_t cp;
    const std::size_t len = decode_utf8(s, i, &cp);
    const GeneralCategory cat = general_category(cp);
    if (is_letter(cat) || is_mark(cat) || is_number(cat)) {
      if (is_character_unit(cp)) {
        if (word.open()) units.push_back(word.finish());
        UnitHasher single;
        single.add(s + i, len);
        units.push_back(single.finish());
      } else {
        word.add(s + i, len);
      }
    } else if (word.open()) {
      units.push_back(word.finish());
    }
    i += len;
  }
  if (word.open()) units.push_back(word.finish());
}

}  // namespace

bool is_character_unit(uint32_t cp) noexcept {
  return (cp >= 0x0E00 && cp <= 0x0EFF)        // Thai, Lao
         || (cp >= 0x1000 && cp <= 0x109F)     // Myanmar
         || (cp >= 0x1780 && cp <= 0x17FF)     // Khmer
         || (cp >= 0x3040 && cp <= 0x30FF)     // Hiragana, Katakana
         || (cp >= 0x31F0 && cp <= 0x31FF)     // Katakana phonetic extensions
         || (cp >= 0x3400 && cp <= 0x4DBF)     // CJK extension A
         || (cp >= 0x4E00 && cp <= 0x9FFF)     // CJK unified ideographs
         || (cp >= 0xF900 && cp <= 0xFAFF)     // CJK compatibility ideographs
         || (cp >= 0xFF66 && cp <= 0xFF9F)     // halfwidth Katakana
         || (cp >= 0x20000 && cp <= 0x3FFFF);  // CJK extensions B and later
}

void minhash_sketch(std::string_view text, std::size_t k, std::size_t shingle, uint32_t* out) {
  CTX_REQUIRE(k >= 1, "a sketch needs k >= 1");
  CTX_REQUIRE(shingle >= 1, "shingles need at least one unit");
  std::fill(out, out + k, kSketchEmpty);
  std::vector<uint64_t> units;
  units_of(text, units);
  if (units.empty()) return;
  // A text shorter than one shingle is one shingle of all its units.
  const std::size_t width = std::min(shingle, units.size());
  for (std::size_t i = 0; i + width <= units.size(); ++i) {
    uint64_t h = kShingleSeed;
    for (std::size_t j = 0; j < width; ++j) h = mix64(h ^ units[i + j]);
    const std::size_t bin = ((h >> 32) * k) >> 32;  // the top 32 bits pick the bin
    auto value = static_cast<uint32_t>(h);
    if (value == kSketchEmpty) value = kSketchEmpty - 1;
    out[bin] = std::min(out[bin], value);
  }
}

void minhash_sketches(std::string_view data, const int64_t* offsets, std::size_t n, std::size_t k,
                      std::size_t shingle, uint32_t* out, std::size_t threads) {
  CTX_REQUIRE(k >= 1, "a sketch needs k >= 1");
  CTX_REQUIRE(shingle >= 1, "shingles need at least one unit");
  for (std::size_t i = 0; i < n; ++i) {
    CTX_REQUIRE(offsets[i] >= 0 && offsets[i] <= offsets[i + 1] &&
                    static_cast<std::size_t>(offsets[i + 1]) <= data.size(),
                "text offsets must be non-decreasing and inside the data");
  }
  parallel_for(n, 8, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const auto b = static_cast<std::size_t>(offsets[i]);
      const auto e = static_cast<std::size_t>(offsets[i + 1]);
      minhash_sketch(data.substr(b, e - b), k, shingle, out + i * k);
    }
  });
}

double sketch_jaccard(const uint32_t* a, const uint32_t* b, std::size_t k) noexcept {
  // Branch-free counts so that the loop vectorises: same = equal and not empty, empty = both.
  uint32_t same = 0, empty = 0;
  for (std::size_t i = 0; i < k; ++i) {
    const uint32_t eq = a[i] == b[i];
    const uint32_t ea = a[i] == kSketchEmpty;
    same += eq & (ea ^ 1u);
    empty += eq & ea;
  }
  // Jaccard is 0 when either text has no shingle (an all-empty sketch).
  const std::size_t used = k - empty;  // equal and empty means both empty
  if (used == 0 || same == 0) return 0.0;
  return static_cast<double>(same) / static_cast<double>(used);
}

}  // namespace ctxengine
