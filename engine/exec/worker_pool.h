// A small fixed pool of worker threads for one query: Run() splits n tasks across the workers
// and the calling thread and returns when all are done.
#ifndef PAODIN_ENGINE_EXEC_WORKER_POOL_H_
#define PAODIN_ENGINE_EXEC_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace paodin::engine::exec {

class WorkerPool {
 public:
  // Starts `threads - 1` workers (the caller of Run is the last one).
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Total threads, including the caller.
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, n) on the pool; blocks until all calls returned. Not
  // reentrant: fn must not call Run.
  void Run(size_t n, const std::function<void(size_t)>& fn);

 private:
  void Loop();
  void Work();

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0;
  std::atomic<size_t> next_{0};
  int busy_ = 0;
};

}  // namespace paodin::engine::exec

#endif  // PAODIN_ENGINE_EXEC_WORKER_POOL_H_
