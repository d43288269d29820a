// Page bounds: building, appending (amortised O(new keys)) and the scalar min/max kernel.
#include "attn/page_meta.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "attn/kernels.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine::attn {
namespace {

// float -> float16 for values that are float16 values (the bounds of float16 keys) and NaN.
uint16_t float_to_half_exact(float f) noexcept {
  if (f != f) return 0x7E00u;
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t exp = (u >> 23) & 0xFFu;
  const uint32_t mant = u & 0x7FFFFFu;
  if (exp == 0xFF) return sign | 0x7C00u;  // inf
  if (exp == 0) return sign;               // zero (float subnormals are not float16 values)
  const int e = static_cast<int>(exp) - 127;
  if (e >= -14) return sign | static_cast<uint16_t>(((e + 15) << 10) | (mant >> 13));
  // float16 subnormal: (1.mant) * 2^e = m * 2^-24 with m < 1024.
  const uint32_t m = (mant | 0x800000u) >> (-e - 1);
  return sign | static_cast<uint16_t>(m);
}

void load_bounds(const void* src, DType dtype, std::size_t dim, float* out) {
  if (dtype == DType::F32) {
    std::memcpy(out, src, dim * sizeof(float));
  } else {
    const auto* h = static_cast<const uint16_t*>(src);
    for (std::size_t d = 0; d < dim; ++d) out[d] = half_to_float(h[d]);
  }
}

void store_bounds(const float* in, DType dtype, std::size_t dim, void* dst) {
  if (dtype == DType::F32) {
    std::memcpy(dst, in, dim * sizeof(float));
  } else {
    auto* h = static_cast<uint16_t*>(dst);
    for (std::size_t d = 0; d < dim; ++d) h[d] = float_to_half_exact(in[d]);
  }
}

}  // namespace

namespace detail {

void minmax_scalar(const void* rows, DType dtype, std::size_t n, std::size_t dim, float* lo,
                   float* hi) {
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t d = 0; d < dim; ++d) {
      const float x = dtype == DType::F32
                          ? static_cast<const float*>(rows)[i * dim + d]
                          : half_to_float(static_cast<const uint16_t*>(rows)[i * dim + d]);
      // A NaN input wins and a NaN bound stays (x < NaN and x > NaN are false).
      if (x < lo[d] || x != x) lo[d] = x;
      if (x > hi[d] || x != x) hi[d] = x;
    }
  }
}

}  // namespace detail

PageMeta::PageMeta(DType dtype, std::size_t heads, std::size_t dim, std::size_t page_size)
    : dtype_(dtype), heads_(heads), dim_(dim), page_size_(page_size) {
  CTX_REQUIRE(page_size >= 1, "page_size must be at least 1");
  CTX_REQUIRE(heads >= 1 && dim >= 1, "keys need at least one head and one dimension");
}

void PageMeta::reserve_pages(std::size_t pages) {
  if (pages <= capacity_) return;
  const std::size_t cap = std::max({pages, capacity_ * 2, std::size_t(16)});
  const std::size_t row = dim_ * dtype_size(dtype_);
  std::vector<uint8_t> lo(heads_ * cap * row), hi(heads_ * cap * row);
  const std::size_t used = this->pages() * row;
  for (std::size_t h = 0; h < heads_; ++h) {
    if (used == 0) break;
    std::memcpy(lo.data() + h * cap * row, min_.data() + h * capacity_ * row, used);
    std::memcpy(hi.data() + h * cap * row, max_.data() + h * capacity_ * row, used);
  }
  min_.swap(lo);
  max_.swap(hi);
  capacity_ = cap;
}

void PageMeta::append(const HeadsView& k, std::size_t threads) {
  CTX_REQUIRE(k.dtype == dtype_, "new keys must have the dtype of the keys already in the pages");
  CTX_REQUIRE(k.heads == heads_ && k.dim == dim_,
              "new keys must be [Hkv, n, D] with Hkv=" + std::to_string(heads_) +
                  " and D=" + std::to_string(dim_) + " as the keys already in the pages");
  if (k.n == 0) return;
  CTX_REQUIRE(keys_ + k.n < (std::size_t(1) << 31), "at most 2^31 - 1 keys (int32 indices)");
  const std::size_t old = keys_;
  const std::size_t total = old + k.n;
  const std::size_t first = old / page_size_;
  const std::size_t end = (total + page_size_ - 1) / page_size_;
  reserve_pages(end);
  const std::size_t span = end - first;
  const detail::Kernels& kern = detail::kernels();
  const std::size_t grain = std::max<std::size_t>(1, 4096 / page_size_);
  parallel_for(heads_ * span, grain, threads, [&](std::size_t b, std::size_t e) {
    std::vector<float> lo(dim_), hi(dim_);
    for (std::size_t t = b; t < e; ++t) {
      const std::size_t h = t / span, p = first + t % span;
      const std::size_t page_begin = p * page_size_;
      const std::size_t page_end = std::min(page_begin + page_size_, total);
      const std::size_t from = std::max(page_begin, old);
      if (page_begin < old) {  // the partial page already holds keys: extend its bounds
        load_bounds(at(min_, h, p), dtype_, dim_, lo.data());
        load_bounds(at(max_, h, p), dtype_, dim_, hi.data());
      } else {
        std::fill(lo.begin(), lo.end(), std::numeric_limits<float>::infinity());
        std::fill(hi.begin(), hi.end(), -std::numeric_limits<float>::infinity());
      }
      const void* rows = dtype_ == DType::F32 ? static_cast<const void*>(k.f32(h, from - old))
                                              : static_cast<const void*>(k.f16(h, from - old));
      kern.minmax(rows, dtype_, page_end - from, dim_, lo.data(), hi.data());
      store_bounds(lo.data(), dtype_, dim_, at(min_, h, p));
      store_bounds(hi.data(), dtype_, dim_, at(max_, h, p));
    }
  });
  keys_ = total;
}

void PageMeta::copy_bounds(float* kmin_out, float* kmax_out) const {
  const std::size_t np = pages();
  for (std::size_t h = 0; h < heads_; ++h) {
    for (std::size_t p = 0; p < np; ++p) {
      load_bounds(kmin(h, p), dtype_, dim_, kmin_out + (h * np + p) * dim_);
      load_bounds(kmax(h, p), dtype_, dim_, kmax_out + (h * np + p) * dim_);
    }
  }
}

}  // namespace ctxengine::attn
