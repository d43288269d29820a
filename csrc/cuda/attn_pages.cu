// Quest on the GPU: page bounds (one thread per head, page and channel), page scores (one warp
// per page and KV head, lanes over channels, the group's query rows in shared memory; see
// NOTES.md) and page selection (one block per (head, query) row, block_select).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "cuda/attn.hpp"
#include "cuda/attn_common.cuh"

namespace ctxengine::cuda {
namespace {

using attn_detail::check;
using attn_detail::load;

__device__ __forceinline__ void store(void* p, bool f16, std::size_t i, float v) {
  if (f16)
    static_cast<__half*>(p)[i] = __float2half_rn(v);  // exact: v is a float16 value or NaN
  else
    static_cast<float*>(p)[i] = v;
}

__global__ void page_meta_kernel(const void* __restrict__ keys, bool f16, int heads, int n_new,
                                 int dim, int page_size, long long old_keys, int first_page,
                                 int span, void* kmin, void* kmax, long long capacity) {
  const long long total = static_cast<long long>(heads) * span * dim;
  for (long long t = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int d = static_cast<int>(t % dim);
    const int p = first_page + static_cast<int>((t / dim) % span);
    const int h = static_cast<int>(t / (static_cast<long long>(dim) * span));
    const long long page_begin = static_cast<long long>(p) * page_size;
    const long long page_end = min(page_begin + page_size, old_keys + n_new);
    const long long from = max(page_begin, old_keys);
    const std::size_t slot = (static_cast<std::size_t>(h) * capacity + p) * dim + d;
    float lo = INFINITY, hi = -INFINITY;
    if (page_begin < old_keys) {  // extend the partial page's bounds
      lo = load(kmin, f16, slot);
      hi = load(kmax, f16, slot);
    }
    for (long long j = from; j < page_end; ++j) {
      const float x =
          load(keys, f16, (static_cast<std::size_t>(h) * n_new + (j - old_keys)) * dim + d);
      if (x < lo || isnan(x)) lo = x;  // NaN wins and stays, as on the CPU
      if (x > hi || isnan(x)) hi = x;
    }
    store(kmin, f16, slot, lo);
    store(kmax, f16, slot, hi);
  }
}

constexpr int kQuestRows = 32;  // query rows per block (shared memory: 32 x D floats)
constexpr int kQuestWarps = 8;

// Four consecutive bounds as floats: one 8-byte (float16) or 16-byte (float32) load, so a
// warp reads 128 channels of a page in one coalesced transaction per bounds array.
__device__ __forceinline__ float4 load4(const __half* p) {
  const uint2 raw = *reinterpret_cast<const uint2*>(p);
  const float2 a = __half22float2(*reinterpret_cast<const __half2*>(&raw.x));
  const float2 b = __half22float2(*reinterpret_cast<const __half2*>(&raw.y));
  return make_float4(a.x, a.y, b.x, b.y);
}
__device__ __forceinline__ float4 load4(const float* p) {
  return *reinterpret_cast<const float4*>(p);
}
__device__ __forceinline__ float load1(const __half* p) {
  return __half2float(*p);
}
__device__ __forceinline__ float load1(const float* p) {
  return *p;
}

__device__ __forceinline__ float bound(float qd, float lo, float hi) {
  return qd * (qd >= 0.0f ? hi : lo);
}

constexpr int kQuestUnroll = 4;  // pages a warp scores together (their loads all in flight)

// grid: (page groups, KV heads, row chunks). Rows of a KV head: r = j * nq + i for query head
// kv * group + j and query i (as the CPU kernel's grouping). A warp scores kQuestUnroll
// consecutive pages at a time; with D a multiple of 4 each lane takes four consecutive channels
// per step (kVec), else one.
template <typename T, bool kVec>
__global__ void quest_kernel(const void* __restrict__ q, bool q_f16, int nq, int dim, int group,
                             const T* __restrict__ kmin, const T* __restrict__ kmax, int pages,
                             long long capacity, float* __restrict__ out) {
  extern __shared__ float qs[];  // kQuestRows x dim
  const int kv = blockIdx.y;
  const int rows = group * nq;
  const int r0 = blockIdx.z * kQuestRows;
  const int nr = min(kQuestRows, rows - r0);
  for (int t = threadIdx.x; t < nr * dim; t += blockDim.x) {
    const int r = r0 + t / dim, d = t % dim;
    const int h = kv * group + r / nq, i = r % nq;
    qs[t] = load(q, q_f16, (static_cast<std::size_t>(h) * nq + i) * dim + d);
  }
  __syncthreads();
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int stride = gridDim.x * kQuestWarps * kQuestUnroll;
  for (int p0 = (blockIdx.x * kQuestWarps + warp) * kQuestUnroll; p0 < pages; p0 += stride) {
    const std::size_t base = (static_cast<std::size_t>(kv) * capacity + p0) * dim;
    const T* lo = kmin + base;
    const T* hi = kmax + base;
    const int np = min(kQuestUnroll, pages - p0);
    for (int r = 0; r < nr; ++r) {
      const float* qr = qs + r * dim;
      float s[kQuestUnroll] = {};
      if constexpr (kVec) {
        for (int d = lane * 4; d < dim; d += 128) {  // the first row's loads stay in L1
#pragma unroll
          for (int u = 0; u < kQuestUnroll; ++u) {
            if (u < np) {
              const float4 a = load4(lo + u * dim + d), b = load4(hi + u * dim + d);
              s[u] += bound(qr[d], a.x, b.x) + bound(qr[d + 1], a.y, b.y) +
                      bound(qr[d + 2], a.z, b.z) + bound(qr[d + 3], a.w, b.w);
            }
          }
        }
      } else {
        for (int d = lane; d < dim; d += 32) {
#pragma unroll
          for (int u = 0; u < kQuestUnroll; ++u)
            if (u < np) s[u] += bound(qr[d], load1(lo + u * dim + d), load1(hi + u * dim + d));
        }
      }
#pragma unroll
      for (int u = 0; u < kQuestUnroll; ++u)
        for (int off = 16; off > 0; off /= 2) s[u] += __shfl_down_sync(0xFFFFFFFFu, s[u], off);
      if (lane == 0) {
        const int row = r0 + r;
        const int h = kv * group + row / nq, i = row % nq;
        float* o = out + (static_cast<std::size_t>(h) * nq + i) * pages + p0;
#pragma unroll
        for (int u = 0; u < kQuestUnroll; ++u)
          if (u < np) o[u] = s[u];
      }
    }
  }
}

template <typename T>
void launch_quest(dim3 grid, std::size_t smem, cudaStream_t stream, const void* q, bool q_f16,
                  int nq, int dim, int group, const void* kmin, const void* kmax, int pages,
                  long long capacity, float* out) {
  const T* lo = static_cast<const T*>(kmin);
  const T* hi = static_cast<const T*>(kmax);
  // Vector loads need every page row 4-aligned: D a multiple of 4 (the storage is aligned).
  if (dim % 4 == 0)
    quest_kernel<T, true><<<grid, kQuestWarps * 32, smem, stream>>>(q, q_f16, nq, dim, group, lo,
                                                                    hi, pages, capacity, out);
  else
    quest_kernel<T, false><<<grid, kQuestWarps * 32, smem, stream>>>(q, q_f16, nq, dim, group, lo,
                                                                     hi, pages, capacity, out);
}

__global__ void select_pages_kernel(const float* __restrict__ scores, int nq, int pages,
                                    long long nk, int page_size, int budget, int sink, int local,
                                    int32_t* __restrict__ out, int32_t* __restrict__ counts) {
  const int row = blockIdx.x;
  const int i = row % nq;
  const int qp = static_cast<int>((nk - nq + i) / page_size);
  const float* s = scores + static_cast<std::size_t>(row) * pages;
  auto key = [&](int p) -> uint32_t {
    if (p < sink || p > qp - local) return 0xFFFFFFFFu;
    return attn_detail::order_key(s[p]);
  };
  const int n = qp + 1;
  const int taken = attn_detail::block_select(key, n, min(budget, n),
                                              out + static_cast<std::size_t>(row) * budget);
  if (threadIdx.x == 0) counts[row] = taken;
}

unsigned blocks_for(long long work, int threads) {
  return static_cast<unsigned>(std::min<long long>((work + threads - 1) / threads, 65535));
}

}  // namespace

void attn_page_meta(const void* keys, bool f16, std::size_t heads, std::size_t n_new,
                    std::size_t dim, std::size_t page_size, std::size_t old_keys, void* kmin,
                    void* kmax, std::size_t capacity, std::uintptr_t stream_handle) {
  if (n_new == 0) return;
  CTX_REQUIRE(page_size >= 1 && dim >= 1 && heads >= 1, "bad page bounds shape");
  const std::size_t first = old_keys / page_size;
  const std::size_t end = (old_keys + n_new + page_size - 1) / page_size;
  CTX_REQUIRE(end <= capacity, "the page bounds storage is too small");
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(stream_handle);
  const long long work = static_cast<long long>(heads) * (end - first) * dim;
  page_meta_kernel<<<blocks_for(work, 256), 256, 0, stream>>>(
      keys, f16, static_cast<int>(heads), static_cast<int>(n_new), static_cast<int>(dim),
      static_cast<int>(page_size), static_cast<long long>(old_keys), static_cast<int>(first),
      static_cast<int>(end - first), kmin, kmax, static_cast<long long>(capacity));
  check(cudaGetLastError(), "page_meta launch");
  check(cudaStreamSynchronize(stream), "page_meta");
}

void attn_quest_scores(const void* q, bool q_f16, std::size_t hq, std::size_t nq, std::size_t dim,
                       const void* kmin, const void* kmax, bool meta_f16, std::size_t hkv,
                       std::size_t pages, std::size_t capacity, float* out,
                       std::uintptr_t stream_handle) {
  CTX_REQUIRE(hkv >= 1 && hq % hkv == 0, "Hq must be a multiple of Hkv");
  if (nq == 0 || pages == 0) return;
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(stream_handle);
  const std::size_t group = hq / hkv, rows = group * nq;
  const std::size_t smem = kQuestRows * dim * sizeof(float);
  CTX_REQUIRE(smem <= 48 * 1024, "the GPU quest kernel takes D <= 384");
  // About eight pages per warp: a block's fixed work (loading the query rows into shared
  // memory) is shared by more pages, and the grid still fills the device at 128K keys.
  constexpr std::size_t kPagesPerBlock = kQuestWarps * kQuestUnroll * 2;
  const unsigned page_blocks = static_cast<unsigned>(
      std::min<std::size_t>((pages + kPagesPerBlock - 1) / kPagesPerBlock, 4096));
  dim3 grid(page_blocks, static_cast<unsigned>(hkv),
            static_cast<unsigned>((rows + kQuestRows - 1) / kQuestRows));
  auto launch = meta_f16 ? launch_quest<__half> : launch_quest<float>;
  launch(grid, smem, stream, q, q_f16, static_cast<int>(nq), static_cast<int>(dim),
         static_cast<int>(group), kmin, kmax, static_cast<int>(pages),
         static_cast<long long>(capacity), out);
  // No host wait: the scores are read on the same stream (a decode step's hot path); a fault
  // surfaces at the stream's next synchronisation.
  check(cudaGetLastError(), "quest_scores launch");
}

void attn_select_pages(const float* scores, std::size_t rows, std::size_t nq, std::size_t pages,
                       std::size_t nk, std::size_t page_size, std::size_t budget, std::size_t sink,
                       std::size_t local, int32_t* out, int32_t* counts,
                       std::uintptr_t stream_handle) {
  CTX_REQUIRE(budget >= 1 && budget >= sink + local, "budget must be at least sink + local");
  CTX_REQUIRE(pages == (nk + page_size - 1) / page_size, "pages must be ceil(nk / page_size)");
  if (rows == 0) return;
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(stream_handle);
  select_pages_kernel<<<static_cast<unsigned>(rows), attn_detail::kSelectThreads, 0, stream>>>(
      scores, static_cast<int>(nq), static_cast<int>(pages), static_cast<long long>(nk),
      static_cast<int>(page_size), static_cast<int>(budget), static_cast<int>(sink),
      static_cast<int>(local), out, counts);
  check(cudaGetLastError(), "select_pages launch");
  check(cudaStreamSynchronize(stream), "select_pages");
}

}  // namespace ctxengine::cuda
