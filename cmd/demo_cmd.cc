// `paodin demo`: a query over embedded stores for two clusters with two replicas each.
#include <string>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"

namespace paodin::cmd {

void AddDemoCommand(CLI::App& app, RunFn& run) {
  auto http_address = std::make_shared<std::string>("0.0.0.0:10902");
  CLI::App* sub = app.add_subcommand(
      "demo", "Run a query on :10902 over synthetic stores for two clusters with replicas");
  sub->add_option("--http-address", *http_address, "Listen host:port for the HTTP API")
      ->capture_default_str();
  sub->callback([&run, http_address] { run = [] { return NotImplemented("demo"); }; });
}

}  // namespace paodin::cmd
