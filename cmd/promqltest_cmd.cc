// `paodin promqltest FILE...`: runs PromQL test scripts in Prometheus' test-script language.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"
#include "engine/promqltest/promqltest.h"

namespace paodin::cmd {

namespace {

int RunPromqlTest(const std::vector<std::string>& files) {
  engine::promqltest::RunOptions options;
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
  sub->add_option("files", *files, "Test script files")->required();
  sub->callback([&run, files] { run = [files] { return RunPromqlTest(*files); }; });
}

}  // namespace paodin::cmd
