#include "common/selftest.hpp"

#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/thread_pool.hpp"

namespace ctxengine::selftest {

uint64_t parallel_sum_of_indices(std::size_t n, std::size_t grain, std::size_t threads) {
  const std::size_t blocks = grain == 0 ? 0 : (n + grain - 1) / grain;
  std::vector<uint64_t> partial(blocks, 0);
  parallel_for(n, grain, threads, [&](std::size_t begin, std::size_t end) {
    uint64_t s = 0;
    for (std::size_t i = begin; i < end; ++i) s += i;
    partial[begin / grain] += s;
  });
  uint64_t total = 0;
  for (uint64_t p : partial) total += p;
  return total;
}

void parallel_throw_at(std::size_t n, std::size_t fail_at, std::size_t threads) {
  parallel_for(n, 1, threads, [&](std::size_t begin, std::size_t end) {
    if (fail_at >= begin && fail_at < end)
      throw_error(ErrorKind::InvalidArgument, "item " + std::to_string(fail_at) + " failed");
  });
}

}  // namespace ctxengine::selftest
