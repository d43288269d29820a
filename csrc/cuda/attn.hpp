// Host interface of the sparse-attention CUDA kernels (csrc/cuda/attn_*.cu), free of CUDA
// headers so that the bindings compile with the host compiler. All pointers are device
// pointers; arrays are row-major as in csrc/attn (q [Hq, Nq, D], k [Hkv, Nk, D]); `f16` flags
// say an array holds float16 bits rather than float32. `stream` is a cudaStream_t as an integer.
// Every call returns after its work has finished. Each kernel is the GPU twin of the CPU kernel
// of the same name in csrc/attn and follows its contract (the rank order, NaN last, ties to the
// lower index, ascending rows); sums may differ from the CPU's in the last bits.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ctxengine::cuda {

// Extends page bounds stored [heads, capacity, dim] (in the keys' dtype) with n_new keys
// [heads, n_new, dim] at positions old_keys .. old_keys + n_new - 1. The caller has made room
// for ceil((old_keys + n_new) / page_size) <= capacity pages.
void attn_page_meta(const void* keys, bool f16, std::size_t heads, std::size_t n_new,
                    std::size_t dim, std::size_t page_size, std::size_t old_keys, void* kmin,
                    void* kmax, std::size_t capacity, std::uintptr_t stream);

// out float32 [hq, nq, pages]; bounds as above (pages used of capacity per head).
void attn_quest_scores(const void* q, bool q_f16, std::size_t hq, std::size_t nq, std::size_t dim,
                       const void* kmin, const void* kmax, bool meta_f16, std::size_t hkv,
                       std::size_t pages, std::size_t capacity, float* out, std::uintptr_t stream);

// Per row (hq * nq rows of `pages` scores) the selected pages, ascending, into
// out[row * budget ...]; counts[row] = how many.
void attn_select_pages(const float* scores, std::size_t rows, std::size_t nq, std::size_t pages,
                       std::size_t nk, std::size_t page_size, std::size_t budget, std::size_t sink,
                       std::size_t local, int32_t* out, int32_t* counts, std::uintptr_t stream);

// codes uint32 [n, bits / 32] of x [n, dim] against planes float32 [dim, bits].
void attn_hash_codes(const void* x, bool f16, std::size_t n, std::size_t dim, const float* planes,
                     std::size_t bits, uint32_t* out, std::uintptr_t stream);

// Per row (hq * nq) the top_k causal keys by Hamming distance into out[row * top_k ...].
void attn_hamming_topk(const uint32_t* q_codes, std::size_t hq, std::size_t nq,
                       const uint32_t* k_codes, std::size_t hkv, std::size_t nk, std::size_t words,
                       std::size_t top_k, int32_t* out, int32_t* counts, std::uintptr_t stream);

// vertical int32 [hq, min(n_vertical, nk)], slash int32 [hq, min(n_slash, nk)]; sums_v and
// sums_s float32 [hq, nk] are filled too (scratch the caller provides). scale > 0.
void attn_vertical_slash(const void* q, bool q_f16, const void* k, bool k_f16, std::size_t hq,
                         std::size_t hkv, std::size_t nq, std::size_t nk, std::size_t dim,
                         std::size_t last_q, float scale, std::size_t n_vertical,
                         std::size_t n_slash, std::size_t sink, std::size_t local,
                         int32_t* vertical, int32_t* slash, float* sums_v, float* sums_s,
                         std::uintptr_t stream);

}  // namespace ctxengine::cuda
