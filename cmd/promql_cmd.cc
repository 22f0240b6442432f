// `paodin promql parse|format EXPR`: the PromQL front end from the command line.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"
#include "engine/promql/parser.h"
#include "engine/promql/printer.h"

namespace paodin::cmd {
namespace {

// Parses `expr` and prints the tree dump (tree = true) or the canonical form; on a parse
// error prints the positioned message to stderr and returns 1.
int RunPromql(const std::string& expr, bool tree) {
  absl::StatusOr<engine::promql::ParsedQuery> q = engine::promql::Parse(expr);
  if (!q.ok()) {
    std::fprintf(stderr, "%s\n", std::string(q.status().message()).c_str());
    return 1;
  }
  std::string out =
      tree ? engine::promql::PrintTree(*q->root()) : engine::promql::Print(*q->root()) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

void AddPromqlCommand(CLI::App& app, RunFn& run) {
  auto expr = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("promql", "Parse or format a PromQL expression");
  sub->require_subcommand(1);
  CLI::App* parse = sub->add_subcommand("parse", "Print the syntax tree of EXPR");
  parse->add_option("expr", *expr, "PromQL expression")->required();
  parse->callback([&run, expr] { run = [expr] { return RunPromql(*expr, true); }; });
  CLI::App* format = sub->add_subcommand("format", "Print EXPR in Prometheus' canonical form");
  format->add_option("expr", *expr, "PromQL expression")->required();
  format->callback([&run, expr] { run = [expr] { return RunPromql(*expr, false); }; });
}

}  // namespace paodin::cmd
