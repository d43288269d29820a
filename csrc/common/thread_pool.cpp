// Persistent workers wait on one queue of jobs; a job is shared by the caller and up to
// `threads - 1` workers, which claim blocks through an atomic counter.
#include "common/thread_pool.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace ctxengine {
namespace {

thread_local bool t_inside_parallel_block = false;

std::size_t available_cores() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<std::size_t>(count);
  }
#endif
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

struct Job {
  std::size_t n = 0;
  std::size_t grain = 1;
  const std::function<void(std::size_t, std::size_t)>* fn = nullptr;
  std::size_t helpers_wanted = 0;  // workers allowed to join (the caller is not counted)
  std::size_t helpers_joined = 0;  // guarded by the pool mutex
  std::size_t helpers_active = 0;  // guarded by the pool mutex
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::exception_ptr error;

  void work() {
    const bool was_inside = t_inside_parallel_block;
    t_inside_parallel_block = true;
    while (!failed.load(std::memory_order_relaxed)) {
      std::size_t begin = next.fetch_add(grain, std::memory_order_relaxed);
      if (begin >= n) break;
      try {
        (*fn)(begin, std::min(n, begin + grain));
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed.store(true, std::memory_order_relaxed);
      }
    }
    t_inside_parallel_block = was_inside;
  }
};

class Pool {
 public:
  explicit Pool(std::size_t workers) {
    for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  std::size_t workers() const { return threads_.size(); }

  void run(Job& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back(&job);
    }
    wake_.notify_all();
    job.work();
    std::unique_lock<std::mutex> lock(mutex_);
    // No worker may join after this point; wait for those that did.
    auto it = std::find(pending_.begin(), pending_.end(), &job);
    if (it != pending_.end()) pending_.erase(it);
    done_.wait(lock, [&] { return job.helpers_active == 0; });
  }

 private:
  void worker_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      Job* job = pending_.front();
      if (++job->helpers_joined >= job->helpers_wanted) pending_.pop_front();
      ++job->helpers_active;
      lock.unlock();
      job->work();
      lock.lock();
      if (--job->helpers_active == 0) done_.notify_all();
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Job*> pending_;
  bool stopping_ = false;
};

std::mutex g_pool_mutex;
std::shared_ptr<Pool> g_pool;
pid_t g_pool_pid = 0;

// Returns a pool with at least `workers` threads. After fork() the child has no workers, so a
// pool inherited from the parent is abandoned (not joined) and a new one is made.
std::shared_ptr<Pool> pool_with(std::size_t workers) {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  const pid_t pid = getpid();
  if (g_pool && g_pool_pid != pid) {
    new std::shared_ptr<Pool>(std::move(g_pool));  // deliberately leaked: its threads are gone
    g_pool.reset();
  }
  if (!g_pool || g_pool->workers() < workers) {
    g_pool = std::make_shared<Pool>(workers);
    g_pool_pid = pid;
  }
  return g_pool;
}

}  // namespace

std::size_t resolve_threads(std::size_t requested) {
  if (requested > 0) return std::min<std::size_t>(requested, 256);
  if (const char* env = std::getenv("CTXENGINE_NUM_THREADS")) {
    long v = std::strtol(env, nullptr, 10);
    if (v > 0) return std::min<std::size_t>(static_cast<std::size_t>(v), 256);
  }
  return available_cores();
}

void parallel_for(std::size_t n, std::size_t grain, std::size_t threads,
                  const std::function<void(std::size_t, std::size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<std::size_t>(grain, 1);
  const std::size_t blocks = (n + grain - 1) / grain;
  std::size_t use = std::min(resolve_threads(threads), blocks);
  if (use <= 1 || t_inside_parallel_block) {
    for (std::size_t begin = 0; begin < n; begin += grain) fn(begin, std::min(n, begin + grain));
    return;
  }
  std::shared_ptr<Pool> pool = pool_with(use - 1);
  Job job;
  job.n = n;
  job.grain = grain;
  job.fn = &fn;
  job.helpers_wanted = use - 1;
  pool->run(job);
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace ctxengine
