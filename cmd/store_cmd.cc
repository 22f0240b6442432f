// `paodin store`: an embedded StoreAPI server over in-memory data loaded from exposition-format
// files or generated.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"

namespace paodin::cmd {
namespace {

struct StoreFlags {
  std::string grpc_address = "0.0.0.0:10901";
  std::string http_address = "0.0.0.0:10902";
  std::vector<std::string> data_files;
  std::string synthetic;
  std::vector<std::string> labels;
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

}  // namespace

void AddStoreCommand(CLI::App& app, RunFn& run) {
  auto flags = std::make_shared<StoreFlags>();
  StoreFlags& f = *flags;
  CLI::App* sub = app.add_subcommand(
      "store", "Embedded StoreAPI server over data from files or a synthetic generator");
  sub->add_option("--grpc-address", f.grpc_address,
                  "Listen ip:port address for the gRPC StoreAPI and Info endpoints")
      ->capture_default_str();
  sub->add_option("--http-address", f.http_address, "Listen host:port for /metrics and health")
      ->capture_default_str();
  sub->add_option("--data", f.data_files,
                  "File in the Prometheus text or OpenMetrics exposition format, with "
                  "timestamps (repeatable)")
      ->type_size(1)
      ->allow_extra_args(false);
  sub->add_option("--synthetic", f.synthetic,
                  "Generate data: series=N,duration=6h,interval=15s,seed=1,start=<unix s>");
  sub->add_option("--label", f.labels,
                  "External label of this store, name=\"value\" (repeatable); overrides series "
                  "labels of the same name")
      ->type_size(1)
      ->allow_extra_args(false);
  sub->add_option("--log.level", f.log_level, "Log filtering level")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  sub->add_option("--log.format", f.log_format, "Log format to use")
      ->capture_default_str()
      ->check(CLI::IsMember({"logfmt", "json"}));
  sub->callback([&run, flags] { run = [] { return NotImplemented("store"); }; });
}

}  // namespace paodin::cmd
