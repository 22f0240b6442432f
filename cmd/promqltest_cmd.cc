// `paodin promqltest FILE...`: runs PromQL test scripts in Prometheus' test-script language.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"

namespace paodin::cmd {

void AddPromqlTestCommand(CLI::App& app, RunFn& run) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand(
      "promqltest", "Run PromQL test scripts (load / eval / eval_fail / eval_ordered)");
  sub->add_option("files", *files, "Test script files")->required();
  sub->callback([&run, files] { run = [] { return NotImplemented("promqltest"); }; });
}

}  // namespace paodin::cmd
