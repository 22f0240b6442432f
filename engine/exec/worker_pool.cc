#include "engine/exec/worker_pool.h"

#include <algorithm>

#include <time.h>

namespace paodin::engine::exec {

int64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

WorkerPool::WorkerPool(int threads) {
  cpu_ns_.assign(threads > 1 ? threads - 1 : 0, 0);
  for (int i = 1; i < threads; ++i)
    workers_.emplace_back([this, i] { Loop(static_cast<size_t>(i - 1)); });
}

WorkerPool::~WorkerPool() { Stop(); }

std::vector<int64_t> WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) {
    if (t.joinable())
      t.join();
  }
  return cpu_ns_;
}

WorkerPool::Job* WorkerPool::FindJob() {
  for (Job* j : jobs_) {
    if (j->next.load(std::memory_order_relaxed) < j->n)
      return j;
  }
  return nullptr;
}

void WorkerPool::RunTasks(Job& job) {
  while (true) {
    size_t i = job.next.fetch_add(1);
    if (i >= job.n)
      return;
    (*job.fn)(i);
    if (job.done.fetch_add(1) + 1 == job.n) {
      std::lock_guard<std::mutex> lock(mu_);
      done_cv_.notify_all();
    }
  }
}

void WorkerPool::Loop(size_t worker) {
  while (true) {
    Job* job = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // The job is chosen inside the predicate: claims happen outside the lock, so a second
      // FindJob() could find nothing left.
      work_cv_.wait(lock, [&] {
        if (stop_)
          return true;
        job = FindJob();
        return job != nullptr;
      });
      if (stop_) {
        cpu_ns_[worker] = ThreadCpuNs();
        return;
      }
      ++job->active;
    }
    RunTasks(*job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --job->active;
    }
    done_cv_.notify_all();
  }
}

void WorkerPool::Run(size_t n, const std::function<void(size_t)>& fn) {
  if (workers_.empty() || n <= 1) {
    for (size_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  Job job;
  job.fn = &fn;
  job.n = n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(&job);
  }
  work_cv_.notify_all();
  RunTasks(job);
  std::unique_lock<std::mutex> lock(mu_);
  // No new worker may pick the job up; wait for the tasks still running and for the workers
  // that hold the job to let go of it.
  jobs_.erase(std::find(jobs_.begin(), jobs_.end(), &job));
  done_cv_.wait(lock, [&] { return job.done.load() == n && job.active == 0; });
}

}  // namespace paodin::engine::exec
