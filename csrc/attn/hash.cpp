// Sign-bit hash codes and Hamming top-k (selection by a distance histogram: O(Nk) per query).
#include "attn/hash.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "attn/hash_rows.hpp"
#include "attn/kernels.hpp"
#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine::attn {

namespace detail {

void hash_scalar(const void* x, DType dtype, std::size_t n, std::size_t dim, const float* planes,
                 std::size_t bits, uint32_t* out, float* acc) {
  hash_rows_impl(x, dtype, n, dim, planes, bits, out, acc);
}

void hamming_scalar(const uint32_t* q, const uint32_t* codes, std::size_t n, std::size_t words,
                    uint16_t* dist) {
  hamming_impl(q, codes, n, words, dist);
}

}  // namespace detail

void hash_codes(const HeadsView& x, const float* planes, std::size_t bits, uint32_t* out,
                std::size_t threads) {
  CTX_REQUIRE(bits >= 32 && bits % 32 == 0, "bits (the planes' columns) must be a multiple of 32");
  CTX_REQUIRE(bits <= 2048, "at most 2048 bits per code");
  CTX_REQUIRE(x.dim >= 1, "vectors need at least one dimension");
  const std::size_t rows = x.heads * x.n, words = bits / 32, esize = dtype_size(x.dtype);
  const detail::Kernels& kern = detail::kernels();
  parallel_for(rows, 256, threads, [&](std::size_t b, std::size_t e) {
    std::vector<float> acc(bits);
    kern.hash(static_cast<const uint8_t*>(x.data) + b * x.dim * esize, x.dtype, e - b, x.dim,
              planes, bits, out + b * words, acc.data());
  });
}

Csr hamming_topk(const uint32_t* q_codes, std::size_t hq, std::size_t nq, const uint32_t* k_codes,
                 std::size_t hkv, std::size_t nk, std::size_t words, std::size_t top_k,
                 std::size_t threads) {
  CTX_REQUIRE(hkv >= 1 && hq % hkv == 0, "the query heads Hq (" + std::to_string(hq) +
                                             ") must be a multiple of the KV heads Hkv (" +
                                             std::to_string(hkv) + ")");
  CTX_REQUIRE(nq <= nk, "more queries than keys (Nq=" + std::to_string(nq) +
                            " > Nk=" + std::to_string(nk) + ")");
  CTX_REQUIRE(nk < (std::size_t(1) << 31), "at most 2^31 - 1 keys (int32 indices)");
  CTX_REQUIRE(words >= 1 && words <= 64, "codes must have 1 to 64 uint32 words");
  CTX_REQUIRE(top_k >= 1, "top_k must be at least 1");
  const std::size_t group = hq / hkv;
  const detail::Kernels& kern = detail::kernels();
  auto take = [&](std::size_t r) { return std::min(top_k, nk - nq + r % nq + 1); };
  return build_csr(
      hq * nq, take,
      [&](std::size_t r, int32_t* out) {
        thread_local std::vector<uint16_t> dist;
        const std::size_t h = r / nq, n = nk - nq + r % nq + 1, want = take(r);
        dist.resize(n);
        kern.hamming(q_codes + r * words, k_codes + (h / group) * nk * words, n, words,
                     dist.data());
        // The threshold distance T: fewer than `want` keys lie below it, at least `want` at
        // or below; keys at T are taken in key order until the row is full.
        std::size_t hist[64 * 32 + 1] = {};
        for (std::size_t j = 0; j < n; ++j) ++hist[dist[j]];
        std::size_t below = 0, t = 0;
        while (below + hist[t] < want) below += hist[t++];
        std::size_t at_t = want - below;
        for (std::size_t j = 0; j < n; ++j) {
          if (dist[j] < t) {
            *out++ = static_cast<int32_t>(j);
          } else if (dist[j] == t && at_t > 0) {
            *out++ = static_cast<int32_t>(j);
            --at_t;
          }
        }
      },
      threads);
}

}  // namespace ctxengine::attn
