// HF tokenizers' BPE, step for step (models/bpe/model.rs merge_word and word.rs merge_all):
// the initial symbols, byte fallback and unknown-token fusing, then a min-heap of candidate
// merges ordered by (priority, position) whose stale entries are skipped when the pair at
// that position no longer produces the same merged id. Results of pre-tokens shorter than
// 256 bytes are cached per thread and per model (HF caches them too: words repeat).
#include "tokenizer/hf_bpe.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "text/utf8.hpp"
#include "tokenizer/bpe_seams.hpp"
#include "tokenizer/vocabulary.hpp"

namespace ctxengine::hf {
namespace {

struct ByteAlphabet {
  uint32_t to_char[256];
  int16_t to_byte[512];
  ByteAlphabet() {
    std::fill(std::begin(to_byte), std::end(to_byte), int16_t{-1});
    uint32_t n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable =
          (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? static_cast<uint32_t>(b) : 256 + n++;
      to_byte[to_char[b]] = static_cast<int16_t>(b);
    }
  }
};
const ByteAlphabet kAlphabet;

// Pieces shorter than this (under two CJK characters) are merged without looking for seams.
constexpr std::size_t kSeamPiece = 6;

uint64_t mix(uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

// A token string of the byte alphabet as raw bytes; false when a character stands for no byte.
bool to_raw_bytes(std::string_view token, std::string& out) {
  out.clear();
  const auto* s = reinterpret_cast<const unsigned char*>(token.data());
  std::size_t i = 0;
  while (i < token.size()) {
    uint32_t cp;
    i += decode_utf8(s, i, &cp);
    const int b = byte_of_char(cp);
    if (b < 0) return false;
    out.push_back(static_cast<char>(b));
  }
  return true;
}

}  // namespace

uint32_t byte_to_char(uint8_t b) noexcept {
  return kAlphabet.to_char[b];
}

int byte_of_char(uint32_t cp) noexcept {
  return cp < 512 ? kAlphabet.to_byte[cp] : -1;
}

HfBpe::HfBpe(const std::vector<std::string>& tokens, const std::vector<uint32_t>& ids,
             const std::vector<uint32_t>& left, const std::vector<uint32_t>& right,
             const std::vector<uint32_t>& merged, BpeOptions options)
    : opt_(std::move(options)), serial_(next_model_serial()) {
  CTX_REQUIRE(tokens.size() == ids.size(), "tokens and ids differ in length");
  if (!ids.empty())
    check_id_range(*std::max_element(ids.begin(), ids.end()), ids.size(), "the BPE vocabulary");
  CTX_REQUIRE(left.size() == right.size() && left.size() == merged.size(),
              "merge arrays differ in length");
  std::string raw;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    // A byte-level token with a character outside the byte alphabet can never be produced
    // from bytes, so it is left out of the lookup (decoding still finds it by id).
    if (!opt_.byte_level) {
      vocab_.insert(tokens[i], ids[i]);
    } else if (to_raw_bytes(tokens[i], raw)) {
      vocab_.insert(raw, ids[i]);
    }
    if (ids[i] >= strings_.size()) {
      strings_.resize(ids[i] + 1);
      has_id_.resize(ids[i] + 1);
    }
    strings_[ids[i]] = tokens[i];
    has_id_[ids[i]] = 1;
  }
  std::size_t cap = 16;
  while (cap < left.size() * 2) cap <<= 1;
  merges_.assign(cap, MergeSlot{});
  merge_mask_ = cap - 1;
  for (std::size_t r = 0; r < left.size(); ++r) {
    const uint64_t key = (static_cast<uint64_t>(left[r]) << 32) | right[r];
    for (std::size_t i = mix(key) & merge_mask_;; i = (i + 1) & merge_mask_) {
      if (merges_[i].key == ~0ull) {
        merges_[i] = {key, static_cast<uint32_t>(r), merged[r]};
        break;
      }
      if (merges_[i].key == key) {  // a repeated pair keeps its later priority, as HF's map
        merges_[i].rank = static_cast<uint32_t>(r);
        merges_[i].merged = merged[r];
        break;
      }
    }
  }
  char name[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    byte_tokens_[b] = vocab_.find(name);
    const char byte = static_cast<char>(b);
    byte_symbols_[b] = vocab_.find(std::string_view(&byte, 1));
  }
  plain_bytes_ =
      opt_.byte_level && opt_.continuing_subword_prefix.empty() && opt_.end_of_word_suffix.empty();
}

HfBpe::~HfBpe() = default;

const detail::BpeSeams* HfBpe::seams() const {
  std::call_once(seams_once_, [this] { seams_ = build_seams(); });
  return seams_.get();
}

std::unique_ptr<detail::BpeSeams> HfBpe::build_seams() const {
  // A prefix or suffix makes a character's first symbol depend on where it stands.
  if (!opt_.continuing_subword_prefix.empty() || !opt_.end_of_word_suffix.empty()) return nullptr;
  // The symbol strings of tokens (raw bytes for byte-level vocabularies), in id order in one
  // arena; kNoKey for an id without a token or with a character outside the byte alphabet.
  constexpr uint32_t kNoKey = 0xFFFFFFFFu;
  struct Span {
    uint32_t offset = 0, len = kNoKey;
  };
  std::vector<Span> span(strings_.size());
  std::string arena, raw;
  for (std::size_t id = 0; id < strings_.size(); ++id) {
    if (!has_id_[id]) continue;
    const std::string* key = &strings_[id];
    if (opt_.byte_level) {
      if (!to_raw_bytes(strings_[id], raw)) continue;
      key = &raw;
    }
    if (arena.size() + key->size() >= kNoKey) return nullptr;
    span[id] = {static_cast<uint32_t>(arena.size()), static_cast<uint32_t>(key->size())};
    arena += *key;
  }
  auto key_of = [&](uint32_t id) {
    return std::string_view(arena.data() + span[id].offset, span[id].len);
  };
  auto known = [&](uint32_t id) { return id < span.size() && span[id].len != kNoKey; };
  // Every merge must make the token of its parts' strings joined. The merges lie in hash order:
  // blocks of them load their spans, then their strings, through prefetches, so that the misses
  // of a block overlap.
  std::vector<const MergeSlot*> block;
  std::vector<uint32_t> made;
  auto check_block = [&]() {
    for (const MergeSlot* m : block) {
      for (uint32_t id :
           {static_cast<uint32_t>(m->key >> 32), static_cast<uint32_t>(m->key), m->merged}) {
        if (id < span.size()) __builtin_prefetch(&span[id]);
      }
    }
    for (const MergeSlot* m : block) {
      for (uint32_t id :
           {static_cast<uint32_t>(m->key >> 32), static_cast<uint32_t>(m->key), m->merged}) {
        if (known(id)) __builtin_prefetch(arena.data() + span[id].offset);
      }
    }
    for (const MergeSlot* m : block) {
      const auto l = static_cast<uint32_t>(m->key >> 32), r = static_cast<uint32_t>(m->key);
      if (!known(l) || !known(r) || !known(m->merged)) return false;
      const std::string_view lk = key_of(l), rk = key_of(r), mk = key_of(m->merged);
      if (mk.size() != lk.size() + rk.size() || mk.substr(0, lk.size()) != lk ||
          mk.substr(lk.size()) != rk)
        return false;
      made.push_back(m->merged);
    }
    block.clear();
    return true;
  };
  for (const MergeSlot& slot : merges_) {
    if (slot.key == ~0ull) continue;
    block.push_back(&slot);
    if (block.size() == 32 && !check_block()) return nullptr;
  }
  if (!check_block()) return nullptr;
  std::sort(made.begin(), made.end());
  made.erase(std::unique(made.begin(), made.end()), made.end());
  Scratch scratch;
  return std::make_unique<detail::BpeSeams>(
      made.size(), [&](std::size_t i) { return key_of(made[i]); },
      [&](const uint8_t* p, std::size_t len, std::vector<uint32_t>& ids,
          std::vector<uint32_t>& lens) {
        const std::string_view c(reinterpret_cast<const char*>(p), len);
        if (opt_.byte_level) {
          for (std::size_t k = 0; k < len; ++k) {
            if (vocab_.find(c.substr(k, 1)) == VocabMap::kMissing) return false;
          }
        } else if (vocab_.find(c) == VocabMap::kMissing) {
          return false;
        }
        merge_symbols(c, scratch, ids, lens);
        return true;
      });
}

bool HfBpe::token_of(uint32_t id, std::string& out) const {
  if (id >= has_id_.size() || !has_id_[id]) return false;
  out = strings_[id];
  return true;
}

bool HfBpe::find_merge(uint32_t left, uint32_t right, uint32_t* rank,
                       uint32_t* merged) const noexcept {
  const uint64_t key = (static_cast<uint64_t>(left) << 32) | right;
  for (std::size_t i = mix(key) & merge_mask_;; i = (i + 1) & merge_mask_) {
    const MergeSlot& s = merges_[i];
    if (s.key == key) {
      *rank = s.rank;
      *merged = s.merged;
      return true;
    }
    if (s.key == ~0ull) return false;
  }
}

void HfBpe::merge_word(std::string_view w, Scratch& scratch, std::vector<uint32_t>& ids,
                       std::vector<uint32_t>& lens) const {
  const auto* p = reinterpret_cast<const uint8_t*>(w.data());
  if (w.size() >= kSeamPiece && has_non_ascii(p, w.size())) {
    if (const detail::BpeSeams* seams = this->seams()) {
      const std::size_t first = ids.size(), first_len = lens.size();
      const bool valid = seams->cut(
          p, w.size(),
          [&](const detail::BpeSeams::Char& c) {
            for (std::size_t k = 0; k < c.count; ++k) {
              ids.push_back(c.ids[k]);
              lens.push_back(c.len(k));
            }
          },
          [&](std::size_t begin, std::size_t end) {
            merge_symbols(w.substr(begin, end - begin), scratch, ids, lens);
          });
      if (valid) return;
      ids.resize(first);
      lens.resize(first_len);
    }
  }
  merge_symbols(w, scratch, ids, lens);
}

void HfBpe::merge_symbols(std::string_view w, Scratch& scratch, std::vector<uint32_t>& out_ids,
                          std::vector<uint32_t>& out_lens) const {
  // Symbols: id, byte length, and links to the neighbours still alive.
  std::vector<uint32_t>& sym = scratch.u32a;
  std::vector<uint32_t>& len = scratch.u32b;
  std::vector<uint32_t>& prev = scratch.u32c;
  std::vector<uint32_t>& next = scratch.u32d;
  sym.clear();
  len.clear();
  const auto* s = reinterpret_cast<const unsigned char*>(w.data());
  const std::size_t n = w.size();
  int64_t unk = -1;
  uint32_t unk_len = 0;
  std::string& key = scratch.key;
  std::size_t i = 0;
  while (i < n) {
    if (plain_bytes_ && unk < 0 && byte_symbols_[s[i]] != VocabMap::kMissing) {
      sym.push_back(byte_symbols_[s[i]]);  // what the general step below finds, without a key
      len.push_back(1);
      ++i;
      continue;
    }
    const std::size_t clen = opt_.byte_level ? 1 : utf8_length(s[i]);
    const bool is_first = i == 0, is_last = i + clen >= n;
    key.clear();
    if (!is_first) key += opt_.continuing_subword_prefix;
    key.append(w.substr(i, clen));
    if (is_last) key += opt_.end_of_word_suffix;
    const uint32_t id = vocab_.find(key);
    if (id != VocabMap::kMissing) {
      if (unk >= 0) {
        sym.push_back(static_cast<uint32_t>(unk));
        len.push_back(unk_len);
        unk = -1;
      }
      sym.push_back(id);
      len.push_back(static_cast<uint32_t>(clen));
      i += clen;
      continue;
    }
    if (opt_.byte_fallback) {
      bool all = true;
      for (unsigned char b : key) all &= byte_tokens_[b] != VocabMap::kMissing;
      if (all) {
        // HF adds each byte token with length 1, over the bytes of the (prefixed) key.
        for (unsigned char b : key) {
          sym.push_back(byte_tokens_[b]);
          len.push_back(1);
        }
        i += clen;
        continue;
      }
    }
    if (opt_.unk_id >= 0) {
      if (unk >= 0 && opt_.fuse_unk) {
        unk_len += static_cast<uint32_t>(clen);
      } else {
        if (unk >= 0) {
          sym.push_back(static_cast<uint32_t>(unk));
          len.push_back(unk_len);
        }
        unk = opt_.unk_id;
        unk_len = static_cast<uint32_t>(clen);
      }
    }
    i += clen;
  }
  if (unk >= 0) {
    sym.push_back(static_cast<uint32_t>(unk));
    len.push_back(unk_len);
  }

  const std::size_t m = sym.size();
  constexpr uint32_t kNone = 0xFFFFFFFFu;
  prev.resize(m);
  next.resize(m);
  for (std::size_t k = 0; k < m; ++k) {
    prev[k] = k == 0 ? kNone : static_cast<uint32_t>(k - 1);
    next[k] = k + 1 == m ? kNone : static_cast<uint32_t>(k + 1);
  }
  // (rank, pos, merged) in a min-heap on (rank, pos), packed as (rank << 32 | pos, merged).
  std::vector<std::pair<uint64_t, uint32_t>>& heap = scratch.heap;
  heap.clear();
  const auto later = [](const std::pair<uint64_t, uint32_t>& a,
                        const std::pair<uint64_t, uint32_t>& b) { return a.first > b.first; };
  const auto push = [&](uint32_t r, uint32_t pos, uint32_t mg) {
    heap.push_back({(static_cast<uint64_t>(r) << 32) | pos, mg});
    std::push_heap(heap.begin(), heap.end(), later);
  };
  uint32_t rank, merged;
  for (std::size_t k = 0; k + 1 < m; ++k) {
    if (find_merge(sym[k], sym[k + 1], &rank, &merged)) {
      heap.push_back({(static_cast<uint64_t>(rank) << 32) | k, merged});
    }
  }
  std::make_heap(heap.begin(), heap.end(), later);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const struct {
      uint32_t pos, merged;
    } top = {static_cast<uint32_t>(heap.back().first), heap.back().second};
    heap.pop_back();
    const uint32_t p = top.pos;
    if (len[p] == 0 || next[p] == kNone) continue;
    const uint32_t r = next[p];
    if (!find_merge(sym[p], sym[r], &rank, &merged) || merged != top.merged) continue;
    sym[p] = top.merged;
    len[p] += len[r];
    len[r] = 0;
    next[p] = next[r];
    if (next[r] != kNone) prev[next[r]] = p;
    if (prev[p] != kNone && find_merge(sym[prev[p]], sym[p], &rank, &merged)) {
      push(rank, prev[p], merged);
    }
    if (next[p] != kNone && find_merge(sym[p], sym[next[p]], &rank, &merged)) {
      push(rank, p, merged);
    }
  }
  for (std::size_t k = 0; k < m; k = next[k] == kNone ? m : next[k]) {
    out_ids.push_back(sym[k]);
    out_lens.push_back(len[k]);
  }
}

void HfBpe::tokenize(std::string_view piece, Scratch& scratch, std::vector<uint32_t>& ids,
                     std::vector<uint32_t>* lens) const {
  if (piece.empty()) return;
  if (opt_.ignore_merges) {
    const uint32_t id = vocab_.find(piece);
    if (id != VocabMap::kMissing) {
      ids.push_back(id);
      if (lens != nullptr) lens->push_back(static_cast<uint32_t>(piece.size()));
      return;
    }
  }
  // Long pieces, and pieces that start with a 3- or 4-byte character (CJK and the like), skip
  // the cache: such pieces are mostly distinct and fall apart at seams into characters from a
  // table. (Those that start with a space before such a character repeat more often: on the CJK
  // catalogs of bench/bench_pretokenize.py the cache pays for them.)
  if (piece.size() >= PieceCache::kMaxPiece ||
      (piece.size() >= kSeamPiece && static_cast<uint8_t>(piece[0]) >= 0xE0 &&
       seams() != nullptr)) {
    std::vector<uint32_t>& out_lens = lens != nullptr ? *lens : scratch.merged_lens;
    if (lens == nullptr) out_lens.clear();
    merge_word(piece, scratch, ids, out_lens);
    return;
  }
  PieceCache& cache = PieceCache::of(serial_);
  if (cache.find(piece, ids, lens)) return;
  std::vector<uint32_t>& merged_ids = scratch.merged_ids;
  std::vector<uint32_t>& merged_lens = scratch.merged_lens;
  merged_ids.clear();
  merged_lens.clear();
  merge_word(piece, scratch, merged_ids, merged_lens);
  cache.add(piece, merged_ids, merged_lens);
  ids.insert(ids.end(), merged_ids.begin(), merged_ids.end());
  if (lens != nullptr) lens->insert(lens->end(), merged_lens.begin(), merged_lens.end());
}

}  // namespace ctxengine::hf
