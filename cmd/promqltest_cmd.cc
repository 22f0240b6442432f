// `paodin promqltest FILE...`: runs PromQL test scripts in Prometheus' test-script language.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"
#include "engine/promqltest/promqltest.h"

namespace paodin::cmd {

namespace {

int RunPromqlTest(const std::vector<std::string>& files, int threads) {
  engine::promqltest::RunOptions options;
  options.engine.threads = threads;
  if (threads > 1)
    options.engine.parallel_min_series = 1;  // exercise the parallel paths
  engine::promqltest::RunStats total;
  bool io_error = false;
  for (const std::string& f : files) {
    engine::promqltest::RunStats stats;
    absl::Status st = engine::promqltest::RunFile(f, options, stats);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
      io_error = true;
      continue;
    }
    for (const auto& failure : stats.failures) {
      std::printf("FAIL %s\n", engine::promqltest::FormatFailure(failure).c_str());
    }
    std::printf("%s: %d passed, %d failed\n", f.c_str(), stats.passed, stats.failed);
    total.passed += stats.passed;
    total.failed += stats.failed;
  }
  std::printf("%d passed, %d failed\n", total.passed, total.failed);
  return (total.failed > 0 || io_error) ? 1 : 0;
}

}  // namespace

void AddPromqlTestCommand(CLI::App& app, RunFn& run) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand(
      "promqltest", "Run PromQL test scripts (load / eval / eval_fail / eval_ordered)");
  auto threads = std::make_shared<int>(1);
  sub->add_option("files", *files, "Test script files")->required();
  sub->add_option("--threads", *threads,
                  "Threads per query; above 1 every operator runs its parallel path")
      ->default_val(1);
  sub->callback([&run, files, threads] {
    run = [files, threads] { return RunPromqlTest(*files, *threads); };
  });
}

}  // namespace paodin::cmd
