#include "common/selftest.hpp"

#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/thread_pool.hpp"
#include "index/postings.hpp"

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

std::vector<uint32_t> posting_block_round_trip(const std::vector<uint32_t>& docs,
                                               const std::vector<uint32_t>& values, int64_t prev,
                                               std::size_t slack) {
  const std::size_t n = docs.size();
  if (n == 0 || n > kBlockSize || values.size() != n || prev < -1)
    throw_error(ErrorKind::InvalidArgument, "1 to 128 docs, as many values, prev >= -1");
  for (std::size_t i = 0; i < n; ++i)
    if (static_cast<int64_t>(docs[i]) <= (i == 0 ? prev : static_cast<int64_t>(docs[i - 1])))
      throw_error(ErrorKind::InvalidArgument, "docs must increase, from above prev");
  std::string bytes;
  encode_block(docs.data(), values.data(), n, prev, bytes);
  const std::size_t size = bytes.size();
  bytes.resize(size + slack, '\xAB');  // readable, never used
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::vector<uint32_t> out(2 * n);
  if (decode_block(p, p + size, p + size + slack, n, prev, out.data(), out.data() + n) != p + size)
    throw_error(ErrorKind::Format, "the block did not decode");
  return out;
}

}  // namespace ctxengine::selftest
