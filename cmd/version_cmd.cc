#include <cstdio>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"
#include "cmd/version.h"

namespace paodin::cmd {

int NotImplemented(const char* command) {
  std::fprintf(stderr, "paodin %s: not implemented yet\n", command);
  return 2;
}

void AddVersionCommand(CLI::App& app, RunFn& run) {
  CLI::App* sub = app.add_subcommand("version", "Print the version and build information");
  sub->callback([&run] {
    run = [] {
      std::printf("paodin, version %s (revision: %s)\n  build date: %s\n", kVersion, kRevision,
                  kBuildDate);
      return 0;
    };
  });
}

}  // namespace paodin::cmd
