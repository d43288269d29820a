// The per-thread piece cache of the tokenizer.json models.
#include "tokenizer/hf_model.hpp"

#include <atomic>

namespace ctxengine::hf {

uint64_t next_model_serial() noexcept {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

PieceCache& PieceCache::of(uint64_t model_serial) {
  thread_local PieceCache cache;
  if (cache.serial_ != model_serial) {
    cache.clear();
    cache.serial_ = model_serial;
  }
  return cache;
}

void PieceCache::clear() {
  index_.clear();
  data_.clear();
  at_.clear();
  count_.clear();
}

bool PieceCache::find(std::string_view piece, std::vector<uint32_t>& ids,
                      std::vector<uint32_t>* lens) const {
  const uint32_t e = index_.find(piece);
  if (e == VocabMap::kMissing) return false;
  const uint32_t* first = data_.data() + at_[e];
  const uint32_t n = count_[e];
  ids.insert(ids.end(), first, first + n);
  if (lens != nullptr) lens->insert(lens->end(), first + n, first + 2 * n);
  return true;
}

void PieceCache::add(std::string_view piece, const std::vector<uint32_t>& ids,
                     const std::vector<uint32_t>& lens) {
  if (piece.size() >= kMaxPiece) return;
  if (at_.size() >= kLimit) clear();
  index_.insert(piece, static_cast<uint32_t>(at_.size()));
  at_.push_back(static_cast<uint32_t>(data_.size()));
  count_.push_back(static_cast<uint32_t>(ids.size()));
  data_.insert(data_.end(), ids.begin(), ids.end());
  data_.insert(data_.end(), lens.begin(), lens.end());
}

}  // namespace ctxengine::hf
