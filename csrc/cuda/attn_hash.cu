// Sign-bit codes (one warp per 32 bits of a row: each lane one projection, packed by a ballot)
// and Hamming top-k (one block per (head, query) row, block_select on 65535 - distance).
#include <cuda_runtime.h>

#include <algorithm>

#include "cuda/attn.hpp"
#include "cuda/attn_common.cuh"

namespace ctxengine::cuda {
namespace {

using attn_detail::check;
using attn_detail::load;

// grid-stride over warps: warp w handles row w / words, word w % words.
__global__ void hash_kernel(const void* __restrict__ x, bool f16, long long n, int dim,
                            const float* __restrict__ planes, int bits,
                            uint32_t* __restrict__ out) {
  const int words = bits / 32;
  const int lane = threadIdx.x % 32;
  const long long warps = static_cast<long long>(gridDim.x) * (blockDim.x / 32);
  for (long long w = (blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x) / 32;
       w < n * words; w += warps) {
    const long long row = w / words;
    const int word = static_cast<int>(w % words);
    const int b = word * 32 + lane;
    float s = 0.0f;
    for (int d = 0; d < dim; ++d)
      s += load(x, f16, static_cast<std::size_t>(row) * dim + d) * planes[d * bits + b];
    const uint32_t packed = __ballot_sync(0xFFFFFFFFu, s > 0.0f);  // lane t -> bit t
    if (lane == 0) out[w] = packed;
  }
}

__global__ void hamming_kernel(const uint32_t* __restrict__ qc, int nq,
                               const uint32_t* __restrict__ kc, int group, long long nk, int words,
                               int top_k, int32_t* __restrict__ out, int32_t* __restrict__ counts) {
  const int row = blockIdx.x;
  const int h = row / nq, i = row % nq;
  const uint32_t* qrow = qc + static_cast<std::size_t>(row) * words;
  const uint32_t* keys = kc + static_cast<std::size_t>(h / group) * nk * words;
  auto key = [&](int j) -> uint32_t {
    int d = 0;
    for (int w = 0; w < words; ++w)
      d += __popc(qrow[w] ^ keys[static_cast<std::size_t>(j) * words + w]);
    return 65535u - static_cast<uint32_t>(d);  // nearer is larger
  };
  const int n = static_cast<int>(nk - nq + i + 1);
  const int taken =
      attn_detail::block_select(key, n, min(top_k, n), out + static_cast<std::size_t>(row) * top_k);
  if (threadIdx.x == 0) counts[row] = taken;
}

}  // namespace

void attn_hash_codes(const void* x, bool f16, std::size_t n, std::size_t dim, const float* planes,
                     std::size_t bits, uint32_t* out, std::uintptr_t stream_handle) {
  CTX_REQUIRE(bits >= 32 && bits % 32 == 0, "bits must be a multiple of 32");
  if (n == 0) return;
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(stream_handle);
  const long long warps = static_cast<long long>(n) * (bits / 32);
  const unsigned blocks = static_cast<unsigned>(std::min<long long>((warps + 7) / 8, 65535));
  hash_kernel<<<blocks, 256, 0, stream>>>(x, f16, static_cast<long long>(n), static_cast<int>(dim),
                                          planes, static_cast<int>(bits), out);
  check(cudaGetLastError(), "hash_codes launch");
  check(cudaStreamSynchronize(stream), "hash_codes");
}

void attn_hamming_topk(const uint32_t* q_codes, std::size_t hq, std::size_t nq,
                       const uint32_t* k_codes, std::size_t hkv, std::size_t nk, std::size_t words,
                       std::size_t top_k, int32_t* out, int32_t* counts,
                       std::uintptr_t stream_handle) {
  CTX_REQUIRE(hkv >= 1 && hq % hkv == 0, "Hq must be a multiple of Hkv");
  CTX_REQUIRE(words >= 1 && words <= 64 && top_k >= 1, "bad code words or top_k");
  if (hq * nq == 0) return;
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(stream_handle);
  hamming_kernel<<<static_cast<unsigned>(hq * nq), attn_detail::kSelectThreads, 0, stream>>>(
      q_codes, static_cast<int>(nq), k_codes, static_cast<int>(hq / hkv),
      static_cast<long long>(nk), static_cast<int>(words), static_cast<int>(top_k), out, counts);
  check(cudaGetLastError(), "hamming_topk launch");
  check(cudaStreamSynchronize(stream), "hamming_topk");
}

}  // namespace ctxengine::cuda
