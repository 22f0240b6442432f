// `paodin sidecar`: a StoreAPI server in front of a Prometheus, reading through remote read.
#include <string>

#include <CLI/CLI.hpp>

#include "cmd/commands.h"

namespace paodin::cmd {
namespace {

struct SidecarFlags {
  std::string prometheus_url = "http://localhost:9090";
  std::string grpc_address = "0.0.0.0:10901";
  std::string http_address = "0.0.0.0:10902";
  std::string min_time;
  std::string grpc_server_tls_cert;
  std::string grpc_server_tls_key;
  std::string grpc_server_tls_client_ca;
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

}  // namespace

void AddSidecarCommand(CLI::App& app, RunFn& run) {
  auto flags = std::make_shared<SidecarFlags>();
  SidecarFlags& f = *flags;
  CLI::App* sub = app.add_subcommand(
      "sidecar", "StoreAPI sidecar for a Prometheus server, reading through remote read");
  sub->add_option("--prometheus.url", f.prometheus_url, "URL at which to reach Prometheus's API")
      ->capture_default_str();
  sub->add_option("--grpc-address", f.grpc_address,
                  "Listen ip:port address for the gRPC StoreAPI and Info endpoints")
      ->capture_default_str();
  sub->add_option("--http-address", f.http_address, "Listen host:port for /metrics and health")
      ->capture_default_str();
  sub->add_option("--min-time", f.min_time,
                  "Start of time range limit to serve: RFC3339 or a duration relative to now "
                  "(e.g. -2h)");
  sub->add_option("--grpc-server-tls-cert", f.grpc_server_tls_cert,
                  "TLS Certificate for gRPC server, leave blank to disable TLS");
  sub->add_option("--grpc-server-tls-key", f.grpc_server_tls_key,
                  "TLS Key for the gRPC server, leave blank to disable TLS");
  sub->add_option("--grpc-server-tls-client-ca", f.grpc_server_tls_client_ca,
                  "TLS CA to verify clients against; no client verification when blank");
  sub->add_option("--log.level", f.log_level, "Log filtering level")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  sub->add_option("--log.format", f.log_format, "Log format to use")
      ->capture_default_str()
      ->check(CLI::IsMember({"logfmt", "json"}));
  sub->callback([&run, flags] { run = [] { return NotImplemented("sidecar"); }; });
}

}  // namespace paodin::cmd
