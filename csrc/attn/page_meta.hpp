// Per-page key bounds for Quest (Tang et al., 2024, "Quest: Query-Aware Sparsity for Efficient
// Long-Context LLM Inference"): for every KV head and page of `page_size` keys, the per-channel
// minimum and maximum of the keys. The last page may be partial; append() extends the bounds
// with new keys in O(new keys) (amortised: the storage grows by doubling, as a std::vector).
//
// Bounds are stored in the keys' dtype: the min and max of float16 values are float16 values,
// so fp16 bounds are exact and half the bytes that quest scoring reads. A NaN in a channel of a
// page makes both bounds of that channel NaN (as np.min / np.max), so the page scores NaN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "attn/tensor.hpp"

namespace ctxengine::attn {

class PageMeta {
 public:
  PageMeta(DType dtype, std::size_t heads, std::size_t dim, std::size_t page_size);

  // Adds keys [heads, n, dim] (same dtype, heads and dim) after the ones already seen.
  void append(const HeadsView& keys, std::size_t threads);

  DType dtype() const { return dtype_; }
  std::size_t heads() const { return heads_; }
  std::size_t dim() const { return dim_; }
  std::size_t page_size() const { return page_size_; }
  std::size_t keys() const { return keys_; }
  std::size_t pages() const { return (keys_ + page_size_ - 1) / page_size_; }
  std::size_t capacity() const { return capacity_; }

  // The bounds of page p of head h: dim values in dtype() (float or float16 bits).
  const void* kmin(std::size_t h, std::size_t p) const { return at(min_, h, p); }
  const void* kmax(std::size_t h, std::size_t p) const { return at(max_, h, p); }

  // The bounds as float32 [heads, pages, dim] (copies; exact for float16).
  void copy_bounds(float* kmin_out, float* kmax_out) const;

 private:
  const void* at(const std::vector<uint8_t>& v, std::size_t h, std::size_t p) const {
    return v.data() + ((h * capacity_ + p) * dim_) * dtype_size(dtype_);
  }
  void* at(std::vector<uint8_t>& v, std::size_t h, std::size_t p) {
    return v.data() + ((h * capacity_ + p) * dim_) * dtype_size(dtype_);
  }
  void reserve_pages(std::size_t pages);

  DType dtype_;
  std::size_t heads_, dim_, page_size_;
  std::size_t keys_ = 0;
  std::size_t capacity_ = 0;        // pages of room per head
  std::vector<uint8_t> min_, max_;  // [heads][capacity][dim] in dtype_
};

}  // namespace ctxengine::attn
