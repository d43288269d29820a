// Shape checks shared by the sparse-attention kernels.
#include "attn/tensor.hpp"

#include <string>

#include "common/error.hpp"

namespace ctxengine::attn {

void check_qk(const HeadsView& q, const HeadsView& k) {
  CTX_REQUIRE(q.dim == k.dim, "q and k must have the same head dimension D (q has " +
                                  std::to_string(q.dim) + ", k has " + std::to_string(k.dim) + ")");
  CTX_REQUIRE(q.dim >= 1, "the head dimension D must be at least 1");
  CTX_REQUIRE(k.heads >= 1 && q.heads % k.heads == 0,
              "the query heads Hq (" + std::to_string(q.heads) +
                  ") must be a multiple of the KV heads Hkv (" + std::to_string(k.heads) + ")");
  CTX_REQUIRE(q.n <= k.n, "more queries than keys (Nq=" + std::to_string(q.n) +
                              " > Nk=" + std::to_string(k.n) +
                              "): queries are the last Nq positions of the keys' sequence");
  CTX_REQUIRE(k.n < (std::size_t(1) << 31), "at most 2^31 - 1 keys per call (int32 indices)");
}

}  // namespace ctxengine::attn
