// Device helpers shared by the sparse-attention kernels: error checks, scratch buffers, loads of
// float32/float16 values, the rank key, and a block-wide top-k that writes indices ascending.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <cub/block/block_scan.cuh>
#include <string>

#include "common/error.hpp"

namespace ctxengine::cuda::attn_detail {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess)
    throw_error(ErrorKind::Unsupported,
                std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
}

template <typename T>
struct Scratch {
  T* ptr = nullptr;
  cudaStream_t stream;
  Scratch(std::size_t count, cudaStream_t s) : stream(s) {
    check(cudaMallocAsync(reinterpret_cast<void**>(&ptr), (count ? count : 1) * sizeof(T), s),
          "cudaMallocAsync");
  }
  ~Scratch() { cudaFreeAsync(ptr, stream); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// Element i of a float32 or float16 array, as float.
__device__ __forceinline__ float load(const void* p, bool f16, std::size_t i) {
  return f16 ? __half2float(static_cast<const __half*>(p)[i]) : static_cast<const float*>(p)[i];
}

// The CPU's order key (csrc/attn/tensor.hpp): larger float -> larger key, -0 == +0, NaN -> 0.
__device__ __forceinline__ uint32_t order_key(float v) {
  if (isnan(v)) return 0u;
  if (v == 0.0f) v = 0.0f;
  const uint32_t u = __float_as_uint(v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

constexpr int kSelectThreads = 256;

// Block-wide: the `take` candidates of [0, n) with the largest key(i) (ties to the lower i),
// written to out[] in ascending i. A radix select finds the take-th key T (4 bits a pass), then
// one ordered pass keeps every key above T and the first keys equal to T, positions from a
// block scan, so the output is ascending and the tie rule is the CPU's. All threads call it.
template <class KeyFn>
__device__ int block_select(KeyFn key, int n, int take, int32_t* out) {
  using Scan = cub::BlockScan<int, kSelectThreads>;
  __shared__ typename Scan::TempStorage scan;
  __shared__ int hist[16];
  if (take >= n) {
    for (int i = threadIdx.x; i < n; i += kSelectThreads) out[i] = i;
    return n;
  }
  if (take <= 0) return 0;
  uint32_t prefix = 0, mask = 0;
  int need = take;
  for (int shift = 28; shift >= 0; shift -= 4) {
    if (threadIdx.x < 16) hist[threadIdx.x] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += kSelectThreads) {
      const uint32_t k = key(i);
      if ((k & mask) == prefix) atomicAdd(&hist[(k >> shift) & 15u], 1);
    }
    __syncthreads();
    int digit = 15;
    for (; digit > 0; --digit) {
      const int c = hist[digit];
      if (c >= need) break;
      need -= c;
    }
    prefix |= uint32_t(digit) << shift;
    mask |= 15u << shift;
    __syncthreads();  // everyone has read hist before the next pass clears it
  }
  const uint32_t threshold = prefix;  // `need` keys equal to it are taken, in index order
  int written = 0, equal_seen = 0;
  for (int base = 0; base < n; base += kSelectThreads) {
    const int i = base + threadIdx.x;
    const bool valid = i < n;
    const uint32_t k = valid ? key(i) : 0u;
    const int is_equal = valid && k == threshold;
    int equal_rank = 0, equal_total = 0;
    Scan(scan).ExclusiveSum(is_equal, equal_rank, equal_total);
    __syncthreads();
    const int chosen = valid && (k > threshold || (is_equal && equal_seen + equal_rank < need));
    int slot = 0, total = 0;
    Scan(scan).ExclusiveSum(chosen, slot, total);
    __syncthreads();
    if (chosen) out[written + slot] = i;
    written += total;
    equal_seen += equal_total;
  }
  return take;
}

}  // namespace ctxengine::cuda::attn_detail
