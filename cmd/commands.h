// The subcommands of the `paodin` binary. Each Add*Command registers one subcommand with its
// flags on `app`; when the user picks it, `run` is set to the function that runs it and
// returns the process exit code.
#ifndef PAODIN_CMD_COMMANDS_H_
#define PAODIN_CMD_COMMANDS_H_

#include <functional>

namespace CLI {
class App;
}  // namespace CLI

namespace paodin::cmd {

using RunFn = std::function<int()>;

void AddQueryCommand(CLI::App& app, RunFn& run);
void AddStoreCommand(CLI::App& app, RunFn& run);
void AddSidecarCommand(CLI::App& app, RunFn& run);
void AddPromqlTestCommand(CLI::App& app, RunFn& run);
void AddPromqlCommand(CLI::App& app, RunFn& run);
void AddDemoCommand(CLI::App& app, RunFn& run);
void AddVersionCommand(CLI::App& app, RunFn& run);

// Prints "paodin <command>: not implemented yet" to stderr and returns exit code 2.
int NotImplemented(const char* command);

}  // namespace paodin::cmd

#endif  // PAODIN_CMD_COMMANDS_H_
