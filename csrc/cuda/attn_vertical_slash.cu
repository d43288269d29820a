// MInference's vertical-slash estimate on the GPU, for a batch of heads at a time:
//   1. logits of the last lq queries against every key (shared-memory tiled product, scaled);
//   2. per query row its causal max and softmax normaliser (block reductions);
//   3. column sums (a thread per key column) and diagonal sums (a thread per offset);
//   4. per head the top columns and offsets (block_select, forced sink columns / local offsets).
// IEEE float32 as the CPU twin: a NaN (or +inf) logit makes that row's probabilities NaN.
#include <cuda_runtime.h>

#include <algorithm>
#include <cub/block/block_reduce.cuh>

#include "cuda/attn.hpp"
#include "cuda/attn_common.cuh"

namespace ctxengine::cuda {
namespace {

using attn_detail::check;
using attn_detail::load;
using attn_detail::Scratch;

constexpr int kTile = 16;
constexpr int kReduceThreads = 256;

struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

struct Shape {
  int hq, group, nq, lq, dim;
  long long nk;
  int h0;  // first head of the batch
};

// logits[(hb * lq + t) * nk + j] for heads h0 + hb of the batch. grid: (nk tiles, lq tiles, hb).
__global__ void logits_kernel(const void* __restrict__ q, bool q_f16, const void* __restrict__ k,
                              bool k_f16, Shape s, float scale, float* __restrict__ logits) {
  __shared__ float qs[kTile][kTile + 1];
  __shared__ float ks[kTile][kTile + 1];
  const int hb = blockIdx.z, h = s.h0 + hb, kv = h / s.group;
  const long long j = static_cast<long long>(blockIdx.x) * kTile + threadIdx.x;
  const int t = blockIdx.y * kTile + threadIdx.y;
  const long long jload = static_cast<long long>(blockIdx.x) * kTile + threadIdx.y;
  const std::size_t qbase = (static_cast<std::size_t>(h) * s.nq + (s.nq - s.lq)) * s.dim;
  const std::size_t kbase = static_cast<std::size_t>(kv) * s.nk * s.dim;
  float acc = 0.0f;
  for (int d0 = 0; d0 < s.dim; d0 += kTile) {
    const int d = d0 + threadIdx.x;
    qs[threadIdx.y][threadIdx.x] =
        (t < s.lq && d < s.dim) ? load(q, q_f16, qbase + static_cast<std::size_t>(t) * s.dim + d)
                                : 0.0f;
    ks[threadIdx.y][threadIdx.x] =
        (jload < s.nk && d < s.dim)
            ? load(k, k_f16, kbase + static_cast<std::size_t>(jload) * s.dim + d)
            : 0.0f;
    __syncthreads();
#pragma unroll
    for (int u = 0; u < kTile; ++u) acc += qs[threadIdx.y][u] * ks[threadIdx.x][u];
    __syncthreads();
  }
  if (t < s.lq && j < s.nk)
    logits[(static_cast<std::size_t>(hb) * s.lq + t) * s.nk + j] = acc * scale;
}

// One block per row (hb, t): the max over causal keys (NaN if any is NaN) and 1 / sum exp.
__global__ void row_stats_kernel(const float* __restrict__ logits, Shape s,
                                 float* __restrict__ row_max, float* __restrict__ row_inv) {
  using Reduce = cub::BlockReduce<float, kReduceThreads>;
  __shared__ typename Reduce::TempStorage storage;
  __shared__ float shared_max;
  const int row = blockIdx.x, t = row % s.lq;
  const long long n = s.nk - s.lq + t + 1;  // causal keys of query position nk - lq + t
  const float* x = logits + static_cast<std::size_t>(row) * s.nk;
  float m = -INFINITY;
  int nan = 0;
  for (long long j = threadIdx.x; j < n; j += kReduceThreads) {
    const float v = x[j];
    if (isnan(v))
      nan = 1;
    else
      m = fmaxf(m, v);
  }
  const float bm = Reduce(storage).Reduce(m, MaxOp());
  __syncthreads();
  const bool bn = Reduce(storage).Reduce(static_cast<float>(nan), MaxOp()) > 0.0f;
  if (threadIdx.x == 0) shared_max = bn ? NAN : bm;
  __syncthreads();
  const float mx = shared_max;
  float sum = 0.0f;
  for (long long j = threadIdx.x; j < n; j += kReduceThreads) sum += expf(x[j] - mx);
  __syncthreads();
  const float total = Reduce(storage).Sum(sum);
  if (threadIdx.x == 0) {
    row_max[row] = mx;
    row_inv[row] = 1.0f / total;
  }
}

// vertical[h][j] = sum over rows t of h with j <= pos_t of p[t][j].
__global__ void column_kernel(const float* __restrict__ logits, Shape s, int batch,
                              const float* __restrict__ row_max, const float* __restrict__ row_inv,
                              float* __restrict__ sums_v) {
  const long long total = static_cast<long long>(batch) * s.nk;
  for (long long e = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int hb = static_cast<int>(e / s.nk);
    const long long j = e % s.nk;
    float acc = 0.0f;
    for (int t = 0; t < s.lq; ++t) {
      if (j > s.nk - s.lq + t) continue;
      const int row = hb * s.lq + t;
      acc += expf(logits[static_cast<std::size_t>(row) * s.nk + j] - row_max[row]) * row_inv[row];
    }
    sums_v[static_cast<std::size_t>(s.h0 + hb) * s.nk + j] = acc;
  }
}

// slash[h][o] = sum over rows t of h with o <= pos_t of p[t][pos_t - o].
__global__ void diagonal_kernel(const float* __restrict__ logits, Shape s, int batch,
                                const float* __restrict__ row_max,
                                const float* __restrict__ row_inv, float* __restrict__ sums_s) {
  const long long total = static_cast<long long>(batch) * s.nk;
  for (long long e = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<long long>(gridDim.x) * blockDim.x) {
    const int hb = static_cast<int>(e / s.nk);
    const long long o = e % s.nk;
    float acc = 0.0f;
    for (int t = 0; t < s.lq; ++t) {
      const long long pos = s.nk - s.lq + t;
      if (o > pos) continue;
      const int row = hb * s.lq + t;
      acc += expf(logits[static_cast<std::size_t>(row) * s.nk + (pos - o)] - row_max[row]) *
             row_inv[row];
    }
    sums_s[static_cast<std::size_t>(s.h0 + hb) * s.nk + o] = acc;
  }
}

// grid (hq, 2): y == 0 picks columns, y == 1 offsets.
__global__ void pick_kernel(const float* __restrict__ sums_v, const float* __restrict__ sums_s,
                            long long nk, int nv, int ns, int sink, int local,
                            int32_t* __restrict__ vertical, int32_t* __restrict__ slash) {
  const int h = blockIdx.x;
  if (blockIdx.y == 0) {
    const float* v = sums_v + static_cast<std::size_t>(h) * nk;
    auto key = [&](int j) -> uint32_t {
      return j < sink ? 0xFFFFFFFFu : attn_detail::order_key(v[j]);
    };
    attn_detail::block_select(key, static_cast<int>(nk), nv,
                              vertical + static_cast<std::size_t>(h) * nv);
  } else {
    const float* sl = sums_s + static_cast<std::size_t>(h) * nk;
    auto key = [&](int o) -> uint32_t {
      return o < local ? 0xFFFFFFFFu : attn_detail::order_key(sl[o]);
    };
    attn_detail::block_select(key, static_cast<int>(nk), ns,
                              slash + static_cast<std::size_t>(h) * ns);
  }
}

unsigned blocks_for(long long work, int threads) {
  return static_cast<unsigned>(std::min<long long>((work + threads - 1) / threads, 65535));
}

}  // namespace

void attn_vertical_slash(const void* q, bool q_f16, const void* k, bool k_f16, std::size_t hq,
                         std::size_t hkv, std::size_t nq, std::size_t nk, std::size_t dim,
                         std::size_t last_q, float scale, std::size_t n_vertical,
                         std::size_t n_slash, std::size_t sink, std::size_t local,
                         int32_t* vertical, int32_t* slash, float* sums_v, float* sums_s,
                         std::uintptr_t stream_handle) {
  CTX_REQUIRE(hkv >= 1 && hq % hkv == 0, "Hq must be a multiple of Hkv");
  CTX_REQUIRE(nq >= 1 && nq <= nk && last_q >= 1 && scale > 0.0f, "bad vertical_slash shape");
  CTX_REQUIRE(nk < (std::size_t(1) << 31), "at most 2^31 - 1 keys");
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(stream_handle);
  const std::size_t lq = std::min(last_q, nq);
  // Heads per batch: at most 2^28 logits (1 GiB) of scratch at a time.
  const std::size_t batch =
      std::max<std::size_t>(1, std::min<std::size_t>(hq, (std::size_t(1) << 28) / (lq * nk)));
  Scratch<float> logits(batch * lq * nk, stream);
  Scratch<float> row_max(batch * lq, stream), row_inv(batch * lq, stream);
  for (std::size_t h0 = 0; h0 < hq; h0 += batch) {
    const int hb = static_cast<int>(std::min(batch, hq - h0));
    Shape s{static_cast<int>(hq), static_cast<int>(hq / hkv), static_cast<int>(nq),
            static_cast<int>(lq), static_cast<int>(dim),      static_cast<long long>(nk),
            static_cast<int>(h0)};
    dim3 grid(static_cast<unsigned>((nk + kTile - 1) / kTile),
              static_cast<unsigned>((lq + kTile - 1) / kTile), static_cast<unsigned>(hb));
    logits_kernel<<<grid, dim3(kTile, kTile), 0, stream>>>(q, q_f16, k, k_f16, s, scale,
                                                           logits.ptr);
    row_stats_kernel<<<static_cast<unsigned>(hb * lq), kReduceThreads, 0, stream>>>(
        logits.ptr, s, row_max.ptr, row_inv.ptr);
    const long long work = static_cast<long long>(hb) * static_cast<long long>(nk);
    column_kernel<<<blocks_for(work, 256), 256, 0, stream>>>(logits.ptr, s, hb, row_max.ptr,
                                                             row_inv.ptr, sums_v);
    diagonal_kernel<<<blocks_for(work, 256), 256, 0, stream>>>(logits.ptr, s, hb, row_max.ptr,
                                                               row_inv.ptr, sums_s);
    check(cudaGetLastError(), "vertical_slash launch");
  }
  const std::size_t nv = std::min(n_vertical, nk), ns = std::min(n_slash, nk);
  pick_kernel<<<dim3(static_cast<unsigned>(hq), 2), attn_detail::kSelectThreads, 0, stream>>>(
      sums_v, sums_s, static_cast<long long>(nk), static_cast<int>(nv), static_cast<int>(ns),
      static_cast<int>(std::min<std::size_t>(sink, nk)),
      static_cast<int>(std::min<std::size_t>(local, nk)), vertical, slash);
  check(cudaGetLastError(), "vertical_slash pick launch");
  check(cudaStreamSynchronize(stream), "vertical_slash");
}

}  // namespace ctxengine::cuda
