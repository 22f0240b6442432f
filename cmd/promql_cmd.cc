// `paodin promql parse|format EXPR`: the PromQL front end from the command line.
#include <string>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"

namespace paodin::cmd {

void AddPromqlCommand(CLI::App& app, RunFn& run) {
  auto expr = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("promql", "Parse or format a PromQL expression");
  sub->require_subcommand(1);
  CLI::App* parse = sub->add_subcommand("parse", "Print the syntax tree of EXPR");
  parse->add_option("expr", *expr, "PromQL expression")->required();
  parse->callback([&run, expr] { run = [] { return NotImplemented("promql parse"); }; });
  CLI::App* format = sub->add_subcommand("format", "Print EXPR in Prometheus' canonical form");
  format->add_option("expr", *expr, "PromQL expression")->required();
  format->callback([&run, expr] { run = [] { return NotImplemented("promql format"); }; });
}

}  // namespace paodin::cmd
