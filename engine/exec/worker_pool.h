// A small fixed pool of worker threads for one query. Run() splits n tasks across the workers
// and the calling thread and returns when all are done. Run may be called from inside a task
// (nested parallelism, e.g. series shards inside parallel branches): the caller works on its
// own tasks while idle workers pick up the rest, so nesting never deadlocks.
#ifndef PAODIN_ENGINE_EXEC_WORKER_POOL_H_
#define PAODIN_ENGINE_EXEC_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace paodin::engine::exec {

// CPU time consumed so far by the calling thread, in nanoseconds.
int64_t ThreadCpuNs();

class WorkerPool {
 public:
  // Starts `threads - 1` workers (the caller of Run is the last one).
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Total threads, including the caller.
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(i) for every i in [0, n) on the pool; blocks until all calls returned.
  void Run(size_t n, const std::function<void(size_t)>& fn);

  // Stops and joins the workers (Run must not be called afterwards) and returns the CPU time
  // each worker thread used, in ns. Idempotent; the destructor stops the pool too.
  std::vector<int64_t> Stop();

 private:
  struct Job {
    const std::function<void(size_t)>* fn;
    size_t n;
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    int active = 0;  // workers inside RunTasks (guarded by mu_)
  };

  void Loop(size_t worker);
  // Claims and runs tasks of `job` until none are left to claim.
  void RunTasks(Job& job);
  // A job with unclaimed tasks, or null. REQUIRES: mu_ held.
  Job* FindJob();

  std::vector<std::thread> workers_;
  std::vector<int64_t> cpu_ns_;  // per worker, written when its thread ends
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<Job*> jobs_;
  bool stop_ = false;
};

}  // namespace paodin::engine::exec

#endif  // PAODIN_ENGINE_EXEC_WORKER_POOL_H_
