// Sign-bit codes and Hamming top-k, as HashAttention (Desai et al., 2024), HATA (Gong et al.,
// 2025) and HAX rank keys: a vector's code is the signs of its projections on `bits` planes,
// packed 32 to a uint32 word, and a query reads the keys whose codes differ in the fewest bits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "attn/select.hpp"
#include "attn/tensor.hpp"

namespace ctxengine::attn {

// x: n rows of dim (x.heads * x.n rows in all), planes: dim x bits float32, bits % 32 == 0.
// out: uint32 [rows, bits / 32]; bit b (word b / 32, bit b % 32) is set when
// dot(x, planes[:, b]) > 0 (0 and NaN give 0).
void hash_codes(const HeadsView& x, const float* planes, std::size_t bits, uint32_t* out,
                std::size_t threads);

// q_codes [hq, nq, words], k_codes [hkv, nk, words] (query head h reads KV head h / (hq / hkv)).
// Row h * nq + i holds the min(top_k, p + 1) causal keys (p = nk - nq + i) with the smallest
// Hamming distance, ties to the lower key, ascending.
Csr hamming_topk(const uint32_t* q_codes, std::size_t hq, std::size_t nq, const uint32_t* k_codes,
                 std::size_t hkv, std::size_t nk, std::size_t words, std::size_t top_k,
                 std::size_t threads);

}  // namespace ctxengine::attn
