// paodin: one binary, with Thanos-compatible subcommands.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"

int main(int argc, char** argv) {
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
