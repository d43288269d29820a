// A small persistent thread pool shared by every batch call. parallel_for splits [0, n) into
// blocks that threads claim in any order, so callers must make each block's result independent
// of which thread runs it: that is how results stay the same for any thread count.
#pragma once

#include <cstddef>
#include <functional>

namespace ctxengine {

// Threads to use for a request: 0 means all cores (or CTXENGINE_NUM_THREADS when set).
std::size_t resolve_threads(std::size_t requested);

// Calls fn(begin, end) for consecutive blocks of at most `grain` items covering [0, n), on up to
// `threads` threads (the caller is one of them; 0 = all cores). Blocks run concurrently, so fn
// must only write to state owned by its block. The first exception thrown by any block is
// rethrown here after every running block has finished; blocks not yet started are skipped.
// Nested calls from inside a block run serially on the calling thread.
void parallel_for(std::size_t n, std::size_t grain, std::size_t threads,
                  const std::function<void(std::size_t, std::size_t)>& fn);

}  // namespace ctxengine
