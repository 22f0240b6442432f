// paodin: one binary, with Thanos-compatible subcommands.
#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "absl/synchronization/mutex.h"
#include "cmd/commands.h"
#include <malloc.h>

#ifdef PAODIN_JEMALLOC
// jemalloc reads this at start (MALLOC_CONF in the environment still wins). One arena: the
// per-thread caches keep small allocations uncontended, and jemalloc's default of 4 arenas per
// core only held more memory (query peak 301 vs 157 MiB over the same queries, same speed).
extern "C" {
const char* malloc_conf = "narenas:1";
}
#endif

int main(int argc, char** argv) {
#ifndef PAODIN_JEMALLOC
  // Without jemalloc (sanitizer builds, -DPAODIN_JEMALLOC=OFF), glibc's allocator is tuned:
  // glibc gives every thread that allocates its own arena (up to 8 per core), and memory freed
  // in one arena is not reused by the others: the query's worker, gRPC and HTTP threads then
  // hold several copies of a query's peak. Two arenas measured the same speed and ~45 % less
  // peak RSS (bench/README.md). MALLOC_ARENA_MAX in the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr)
    mallopt(M_ARENA_MAX, 2);
  // Freed heap memory stays mapped up to this much instead of being trimmed after every query
  // and faulted in again by the next (page faults were ~10 % of an instant query's CPU).
  if (std::getenv("MALLOC_TRIM_THRESHOLD_") == nullptr)
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  // absl::Mutex (gRPC's locks too) checks lock order for deadlocks on every acquisition when
  // abseil is built without NDEBUG, as Debian's is: a debugging aid that cost ~1 % of a store's
  // and a query's CPU. The unit tests keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"Paodin Query: a native PromQL fan-out engine, drop-in for `thanos query`.",
               "paodin"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand and exit");
  paodin::cmd::RunFn run;
  paodin::cmd::AddQueryCommand(app, run);
  paodin::cmd::AddStoreCommand(app, run);
  paodin::cmd::AddSidecarCommand(app, run);
  paodin::cmd::AddPromqlTestCommand(app, run);
  paodin::cmd::AddPromqlCommand(app, run);
  paodin::cmd::AddDemoCommand(app, run);
  paodin::cmd::AddVersionCommand(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return run ? run() : 0;
}
