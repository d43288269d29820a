// Exact inner-product top-k on the GPU, in two kernels per slice of the base:
//   1. score_kernel: a shared-memory tiled product of a query batch with a slice of the base;
//   2. select_kernel: per query, a radix select of the k-th largest score (4 bits per pass over
//      an order-preserving integer key), then the winners are compacted in position order (so
//      ties keep the lower id, as the CPU twin does) and ranked in shared memory.
// The running top-k of each query is merged with each slice's top-k by the same select_kernel,
// so memory stays at O(batch x slice + batch x k) whatever the size of the base.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cub/block/block_scan.cuh>
#include <string>

#include "common/error.hpp"
#include "cuda/topk_ip.hpp"

namespace ctxengine::cuda {
namespace {

constexpr int kTile = 16;
constexpr int kSelectThreads = 256;
constexpr std::size_t kQueryBatch = 4096;
constexpr std::size_t kScoreBudget = std::size_t(64) << 20;  // floats of scores per slice

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw_error(ErrorKind::Unsupported,
                std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
  }
}

// Larger float -> larger key; the all-ones NaN pattern maps to 0, below every real score.
__device__ __forceinline__ uint32_t order_key(float v) {
  const uint32_t u = __float_as_uint(v);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__global__ void score_kernel(const float* __restrict__ queries, int nq,
                             const float* __restrict__ base, int rows, int dim,
                             float* __restrict__ scores, std::size_t pitch) {
  __shared__ float qs[kTile][kTile + 1];
  __shared__ float xs[kTile][kTile + 1];
  const int row = blockIdx.x * kTile + threadIdx.x;  // base row within the slice
  const int q = blockIdx.y * kTile + threadIdx.y;
  const int xrow = blockIdx.x * kTile + threadIdx.y;  // row this thread loads
  float acc = 0.f;
  for (int d0 = 0; d0 < dim; d0 += kTile) {
    const int d = d0 + threadIdx.x;
    qs[threadIdx.y][threadIdx.x] = (q < nq && d < dim) ? queries[std::size_t(q) * dim + d] : 0.f;
    xs[threadIdx.y][threadIdx.x] =
        (xrow < rows && d < dim) ? base[std::size_t(xrow) * dim + d] : 0.f;
    __syncthreads();
#pragma unroll
    for (int t = 0; t < kTile; ++t) acc += qs[threadIdx.y][t] * xs[threadIdx.x][t];
    __syncthreads();
  }
  // NaN counts as -inf, as on the CPU, so that it ranks last.
  if (q < nq && row < rows) scores[std::size_t(q) * pitch + row] = isnan(acc) ? -INFINITY : acc;
}

__device__ __forceinline__ bool ranks_before(uint32_t ka, int64_t ia, uint32_t kb, int64_t ib) {
  return ka > kb || (ka == kb && ia < ib);
}

// One block per query. Reads m candidates (values[q*pitch + i], ids from `ids` or id_base + i),
// writes the best k (k <= m) sorted to out_values / out_ids at q*out_pitch.
__global__ void select_kernel(const float* __restrict__ values, std::size_t pitch, int m,
                              const int64_t* __restrict__ ids, int64_t id_base, int k,
                              float* __restrict__ out_values, int64_t* __restrict__ out_ids,
                              std::size_t out_pitch) {
  using BlockScan = cub::BlockScan<int, kSelectThreads>;
  __shared__ typename BlockScan::TempStorage scan_storage;
  __shared__ int histogram[16];
  __shared__ uint32_t sel_key[kMaxK];
  __shared__ int64_t sel_id[kMaxK];
  __shared__ int taken;

  const float* v = values + blockIdx.x * pitch;
  const int64_t* id = ids ? ids + blockIdx.x * pitch : nullptr;

  // 1. Radix select: the key T of the k-th best, and how many copies of T to keep.
  uint32_t prefix = 0, mask = 0;
  int need = k;
  for (int shift = 28; shift >= 0; shift -= 4) {
    if (threadIdx.x < 16) histogram[threadIdx.x] = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < m; i += blockDim.x) {
      const uint32_t key = order_key(v[i]);
      if ((key & mask) == prefix) atomicAdd(&histogram[(key >> shift) & 15u], 1);
    }
    __syncthreads();
    int digit = 15;
    for (; digit > 0; --digit) {
      const int c = histogram[digit];
      if (c >= need) break;
      need -= c;
    }
    prefix |= uint32_t(digit) << shift;
    mask |= 15u << shift;
    __syncthreads();  // everyone has read the histogram before it is cleared
  }
  const uint32_t threshold = prefix;
  const int above = k - need;  // candidates strictly better than the threshold

  // 2. Compact the winners: every key above T, and the first `need` keys equal to T in position
  //    order (position order is id order among equal scores, see the file comment).
  if (threadIdx.x == 0) taken = 0;
  __syncthreads();
  int equal_taken = 0;
  for (int base_i = 0; base_i < m; base_i += blockDim.x) {
    const int i = base_i + threadIdx.x;
    uint32_t key = 0;
    bool is_equal = false;
    if (i < m) {
      key = order_key(v[i]);
      if (key > threshold) {
        const int slot = atomicAdd(&taken, 1);
        sel_key[slot] = key;
        sel_id[slot] = id ? id[i] : id_base + i;
      }
      is_equal = key == threshold;
    }
    int rank = 0, total = 0;
    BlockScan(scan_storage).ExclusiveSum(is_equal ? 1 : 0, rank, total);
    if (is_equal && equal_taken + rank < need) {
      const int slot = above + equal_taken + rank;
      sel_key[slot] = key;
      sel_id[slot] = id ? id[i] : id_base + i;
    }
    equal_taken += total;
    __syncthreads();  // scan_storage is reused by the next tile
  }
  __syncthreads();

  // 3. Rank the k winners (fully equal entries, i.e. padding, keep their slot order).
  for (int i = threadIdx.x; i < k; i += blockDim.x) {
    const uint32_t ki = sel_key[i];
    const int64_t ii = sel_id[i];
    int r = 0;
    for (int j = 0; j < k; ++j) {
      const uint32_t kj = sel_key[j];
      const int64_t ij = sel_id[j];
      r += ranks_before(kj, ij, ki, ii) || (kj == ki && ij == ii && j < i);
    }
    const uint32_t u = (ki & 0x80000000u) ? (ki & 0x7FFFFFFFu) : ~ki;
    out_values[blockIdx.x * out_pitch + r] = __uint_as_float(u);
    out_ids[blockIdx.x * out_pitch + r] = ii;
  }
}

__global__ void fill_padding(float* values, int64_t* ids, std::size_t count) {
  const std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) {
    values[i] = __uint_as_float(0xFFFFFFFFu);
    ids[i] = -1;
  }
}

template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  cudaStream_t stream;
  DeviceBuffer(std::size_t count, cudaStream_t s) : stream(s) {
    check(cudaMallocAsync(reinterpret_cast<void**>(&ptr),
                          std::max<std::size_t>(count, 1) * sizeof(T), s),
          "cudaMallocAsync");
  }
  ~DeviceBuffer() { cudaFreeAsync(ptr, stream); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

}  // namespace

int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" / "no device" error
    return 0;
  }
  return count;
}

std::string device_name(int device) {
  cudaDeviceProp prop;
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  return prop.name;
}

void inner_product_topk(const float* queries, std::size_t nq, const float* base, std::size_t n,
                        std::size_t dim, std::size_t k, float* out_scores, int64_t* out_ids,
                        std::uintptr_t stream_handle) {
  CTX_REQUIRE(k >= 1 && k <= n, "k must be between 1 and the number of vectors");
  CTX_REQUIRE(k <= kMaxK, "k is limited to " + std::to_string(kMaxK) + " on the GPU");
  CTX_REQUIRE(dim >= 1, "vectors must have at least one dimension");
  CTX_REQUIRE(n < (std::size_t(1) << 31), "the GPU path takes fewer than 2^31 vectors per call");
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(stream_handle);
  if (nq == 0) return;

  const std::size_t batch = std::min(nq, kQueryBatch);
  const std::size_t slice = std::max<std::size_t>(std::min<std::size_t>(n, kScoreBudget / batch),
                                                  std::min<std::size_t>(n, 1024));
  DeviceBuffer<float> scores(batch * slice, stream);
  DeviceBuffer<float> cand_values[2] = {{batch * 2 * k, stream}, {batch * 2 * k, stream}};
  DeviceBuffer<int64_t> cand_ids[2] = {{batch * 2 * k, stream}, {batch * 2 * k, stream}};

  for (std::size_t q0 = 0; q0 < nq; q0 += batch) {
    const int bq = static_cast<int>(std::min(batch, nq - q0));
    int cur = 0;
    const std::size_t cand_count = std::size_t(bq) * 2 * k;
    fill_padding<<<unsigned((cand_count + 255) / 256), 256, 0, stream>>>(
        cand_values[cur].ptr, cand_ids[cur].ptr, cand_count);
    for (std::size_t j0 = 0; j0 < n; j0 += slice) {
      const int rows = static_cast<int>(std::min(slice, n - j0));
      dim3 grid(unsigned((rows + kTile - 1) / kTile), unsigned((bq + kTile - 1) / kTile));
      score_kernel<<<grid, dim3(kTile, kTile), 0, stream>>>(
          queries + q0 * dim, bq, base + j0 * dim, rows, static_cast<int>(dim), scores.ptr, slice);
      // The slice's best min(k, rows) go to the second half of each query's candidate row.
      const int slice_k = static_cast<int>(std::min<std::size_t>(k, rows));
      select_kernel<<<bq, kSelectThreads, 0, stream>>>(
          scores.ptr, slice, rows, nullptr, static_cast<int64_t>(j0), slice_k,
          cand_values[cur].ptr + k, cand_ids[cur].ptr + k, 2 * k);
      // Merge [running k | slice k] into the other buffer's running half.
      const int next = 1 - cur;
      fill_padding<<<unsigned((cand_count + 255) / 256), 256, 0, stream>>>(
          cand_values[next].ptr, cand_ids[next].ptr, cand_count);
      select_kernel<<<bq, kSelectThreads, 0, stream>>>(
          cand_values[cur].ptr, 2 * k, static_cast<int>(2 * k), cand_ids[cur].ptr, 0,
          static_cast<int>(k), cand_values[next].ptr, cand_ids[next].ptr, 2 * k);
      check(cudaGetLastError(), "kernel launch");
      cur = next;
    }
    check(cudaMemcpy2DAsync(out_scores + q0 * k, k * sizeof(float), cand_values[cur].ptr,
                            2 * k * sizeof(float), k * sizeof(float), bq, cudaMemcpyDeviceToDevice,
                            stream),
          "cudaMemcpy2DAsync");
    check(cudaMemcpy2DAsync(out_ids + q0 * k, k * sizeof(int64_t), cand_ids[cur].ptr,
                            2 * k * sizeof(int64_t), k * sizeof(int64_t), bq,
                            cudaMemcpyDeviceToDevice, stream),
          "cudaMemcpy2DAsync");
  }
  check(cudaStreamSynchronize(stream), "inner_product_topk");
}

}  // namespace ctxengine::cuda
