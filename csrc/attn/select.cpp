// CSR assembly and Quest's page selection.
#include "attn/select.hpp"

#include <string>

#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine::attn {

Csr build_csr(std::size_t rows, const std::function<std::size_t(std::size_t)>& count,
              const std::function<void(std::size_t, int32_t*)>& fill, std::size_t threads,
              std::size_t grain) {
  Csr csr;
  csr.indptr.resize(rows + 1);
  std::size_t total = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    csr.indptr[r] = static_cast<int32_t>(total);
    total += count(r);
    CTX_REQUIRE(total < (std::size_t(1) << 31),
                "the selection would hold 2^31 or more indices (int32 CSR); select fewer keys "
                "or split the call by heads or queries");
  }
  csr.indptr[rows] = static_cast<int32_t>(total);
  csr.indices.resize(total);
  parallel_for(rows, grain, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t r = b; r < e; ++r) fill(r, csr.indices.data() + csr.indptr[r]);
  });
  return csr;
}

Csr select_pages(const float* scores, std::size_t heads, std::size_t nq, std::size_t pages,
                 std::size_t nk, std::size_t page_size, std::size_t budget, std::size_t sink,
                 std::size_t local, std::size_t threads) {
  CTX_REQUIRE(page_size >= 1, "page_size must be at least 1");
  CTX_REQUIRE(nq <= nk, "more queries than keys (Nq=" + std::to_string(nq) +
                            " > Nk=" + std::to_string(nk) + ")");
  CTX_REQUIRE(pages == (nk + page_size - 1) / page_size,
              "scores have " + std::to_string(pages) + " pages but Nk=" + std::to_string(nk) +
                  " keys in pages of " + std::to_string(page_size) + " make " +
                  std::to_string((nk + page_size - 1) / page_size));
  CTX_REQUIRE(budget >= 1, "budget must be at least one page");
  CTX_REQUIRE(budget >= sink + local,
              "budget (" + std::to_string(budget) + " pages) must be at least sink + local (" +
                  std::to_string(sink + local) + "): lower sink or local, or raise the budget");
  auto query_page = [&](std::size_t r) { return query_position(nq, nk, r % nq) / page_size; };
  return build_csr(
      heads * nq, [&](std::size_t r) { return std::min(budget, query_page(r) + 1); },
      [&](std::size_t r, int32_t* out) {
        thread_local std::vector<uint64_t> keys;
        const std::size_t qp = query_page(r);
        auto forced = [&](std::size_t p) { return p < sink || p + local > qp; };
        top_indices(scores + r * pages, qp + 1, std::min(budget, qp + 1), forced, out, keys);
      },
      threads);
}

}  // namespace ctxengine::attn
