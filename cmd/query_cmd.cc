// `paodin query`: the Prometheus HTTP API over a fan-out to StoreAPI endpoints. The flag names
// and defaults are Thanos Query's.
#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "absl/strings/str_join.h"
#include "cmd/commands.h"
#include "cmd/query_flags.h"
#include "cmd/query_service.h"
#include "engine/model/time.h"
#include "engine/util/log.h"
#include "engine/util/strings.h"
#include <pthread.h>
#include <signal.h>

namespace paodin::cmd {
namespace {

constexpr const char* kComponent = "query";

int RunQuery(const QueryFlags& f) {
  if (absl::Status st = log::Configure(f.log_level, f.log_format); !st.ok()) {
    std::fprintf(stderr, "paodin query: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  absl::StatusOr<QueryConfig> config = ResolveQueryFlags(f);
  if (!config.ok()) {
    std::fprintf(stderr, "paodin query: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (std::vector<std::string> ignored = IgnoredClientTlsFlags(f); !ignored.empty()) {
    log::Warn(kComponent, "client TLS flags have no effect without --grpc-client-tls-secure",
              {{"flags", absl::StrJoin(ignored, ",")}});
  }
  // Block the stop signals before any thread starts, so that only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::vector<std::string> endpoints = config->endpoints.endpoints;
  const std::vector<std::string> replicas = config->proxy.replica_labels;
  absl::StatusOr<std::unique_ptr<QueryService>> service = QueryService::Start(*std::move(config));
  if (!service.ok()) {
    log::Error(kComponent, "cannot start", {{"err", ToStd(service.status().message())}});
    return 1;
  }
  const std::string endpoint_list = absl::StrJoin(endpoints, ",");
  const std::string replica_list = absl::StrJoin(replicas, ",");
  log::Info(kComponent, "started",
            {{"http_port", std::to_string((*service)->http_port())},
             {"grpc_address", (*service)->grpc_address()},
             {"grpc_server_tls", f.grpc_server_tls_cert.empty() ? "false" : "true"},
             {"grpc_client_tls", f.grpc_client_tls_secure ? "true" : "false"},
             {"endpoints", endpoint_list},
             {"replica_labels", replica_list}});
  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info(kComponent, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*service)->Shutdown();
  log::Info(kComponent, "stopped");
  return 0;
}

}  // namespace

void AddQueryCommand(CLI::App& app, RunFn& run) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* sub = app.add_subcommand(
      "query", "Query node exposing the Prometheus HTTP API over a fan-out to StoreAPI endpoints");
  QueryFlags& f = *flags;
  sub->add_option("--http-address", f.http_address, "Listen host:port for HTTP endpoints")
      ->capture_default_str();
  sub->add_option("--http-grace-period", f.http_grace_period,
                  "Time to wait after an interrupt received for HTTP Server")
      ->capture_default_str();
  sub->add_option("--grpc-address", f.grpc_address,
                  "Listen ip:port address for the gRPC StoreAPI and Info endpoints")
      ->capture_default_str();
  sub->add_option("--grpc-grace-period", f.grpc_grace_period,
                  "Time to wait after an interrupt received for GRPC Server")
      ->capture_default_str();
  sub->add_option("--grpc-server-tls-cert", f.grpc_server_tls_cert,
                  "TLS Certificate for gRPC server, leave blank to disable TLS");
  sub->add_option("--grpc-server-tls-key", f.grpc_server_tls_key,
                  "TLS Key for the gRPC server, leave blank to disable TLS");
  sub->add_option("--grpc-server-tls-client-ca", f.grpc_server_tls_client_ca,
                  "TLS CA to verify clients against; no client verification when blank");
  sub->add_flag("--grpc-client-tls-secure", f.grpc_client_tls_secure,
                "Use TLS when talking to the gRPC server");
  sub->add_flag("--grpc-client-tls-skip-verify", f.grpc_client_tls_skip_verify,
                "Disable TLS certificate verification");
  sub->add_option("--grpc-client-tls-cert", f.grpc_client_tls_cert,
                  "TLS Certificates to use to identify this client to the server");
  sub->add_option("--grpc-client-tls-key", f.grpc_client_tls_key,
                  "TLS Key for the client's certificate");
  sub->add_option("--grpc-client-tls-ca", f.grpc_client_tls_ca,
                  "TLS CA Certificates to use to verify gRPC servers");
  sub->add_option("--grpc-client-server-name", f.grpc_client_server_name,
                  "Server name to verify the hostname on the returned gRPC certificates");
  sub->add_option("--store", f.stores,
                  "Address of a StoreAPI server (repeatable); dns+ and dnssrv+ prefixes resolve "
                  "through DNS")
      ->type_size(1)
      ->allow_extra_args(false);
  sub->add_option("--endpoint", f.endpoints,
                  "Address of an API server implementing Info and StoreAPI (repeatable)")
      ->type_size(1)
      ->allow_extra_args(false);
  sub->add_option("--endpoint-strict", f.strict_endpoints,
                  "Address of an endpoint that is always queried, even when Info fails")
      ->type_size(1)
      ->allow_extra_args(false);
  sub->add_option("--store.sd-files", f.store_sd_files,
                  "Path to files with Prometheus file_sd target lists of StoreAPI servers")
      ->type_size(1)
      ->allow_extra_args(false);
  sub->add_option("--store.sd-interval", f.store_sd_interval,
                  "Refresh interval to re-read file SD files")
      ->capture_default_str();
  sub->add_option("--store.sd-dns-interval", f.store_sd_dns_interval,
                  "Interval between DNS resolutions")
      ->capture_default_str();
  sub->add_option("--store.response-timeout", f.store_response_timeout,
                  "If a store sends no data for this long its stream is dropped "
                  "(partial response); 0 disables")
      ->capture_default_str();
  sub->add_option("--store.unhealthy-timeout", f.store_unhealthy_timeout,
                  "Timeout before an unhealthy store is cleaned from the store UI page")
      ->capture_default_str();
  sub->add_option("--store.limits.request-series", f.store_limits_request_series,
                  "The maximum series allowed for a single Series request; 0 is unlimited")
      ->capture_default_str();
  sub->add_option("--store.limits.request-samples", f.store_limits_request_samples,
                  "The maximum samples allowed for a single Series request; 0 is unlimited")
      ->capture_default_str();
  sub->add_option("--query.replica-label", f.replica_labels,
                  "Labels to treat as replica indicators along which data is deduplicated "
                  "(repeatable, or comma-separated)")
      ->type_size(1)
      ->allow_extra_args(false)
      ->delimiter(',');
  sub->add_option("--deduplication.func", f.deduplication_func,
                  "Deduplication algorithm: penalty or chain")
      ->capture_default_str()
      ->check(CLI::IsMember({"penalty", "chain"}));
  sub->add_option("--deduplication.initial-penalty", f.dedup_initial_penalty,
                  "Initial penalty of the penalty algorithm before a replica switch")
      ->capture_default_str();
  sub->add_option("--query.timeout", f.query_timeout, "Maximum time to process a query")
      ->capture_default_str();
  sub->add_option("--query.max-concurrent", f.max_concurrent,
                  "Maximum number of queries processed concurrently; the rest wait")
      ->capture_default_str();
  sub->add_option("--query.max-concurrent-select", f.max_concurrent_select,
                  "Maximum number of select requests made concurrently per query")
      ->capture_default_str();
  sub->add_option("--query.lookback-delta", f.lookback_delta,
                  "The maximum lookback duration for retrieving metrics during expression "
                  "evaluations (default 5m)");
  sub->add_flag("--query.partial-response,!--no-query.partial-response", f.partial_response,
                "Enable partial response for queries if no partial_response param is specified")
      ->capture_default_str();
  sub->add_option("--query.default-step", f.default_step,
                  "Default range query step when none is given: max(range/250, this)")
      ->capture_default_str();
  sub->add_option("--query.default-evaluation-interval", f.default_evaluation_interval,
                  "Default step of subqueries that give none")
      ->capture_default_str();
  sub->add_option("--query.max-samples", f.max_samples,
                  "Maximum number of samples a single query can load into memory")
      ->capture_default_str();
  sub->add_option("--query.label-cache-ttl", f.label_cache_ttl,
                  "How long a label names or values answer of a store whose data ended more than "
                  "5m ago is reused while the store's Info stays the same (sidecars and "
                  "receivers are always asked); 0 disables")
      ->capture_default_str();
  sub->add_option("--selector-label", f.selector_labels,
                  "Query selector labels attached to the StoreAPI this query serves "
                  "(repeatable, name=\"value\")")
      ->type_size(1)
      ->allow_extra_args(false);
  sub->add_option("--web.route-prefix", f.web_route_prefix, "Prefix for API and UI endpoints");
  sub->add_option("--web.external-prefix", f.web_external_prefix,
                  "Static prefix for all HTML links and redirect URLs");
  sub->add_flag("--web.disable-cors", f.web_disable_cors,
                "Whether to disable CORS headers to be set by Paodin");
  sub->add_option("--log.level", f.log_level, "Log filtering level")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  sub->add_option("--log.format", f.log_format, "Log format to use")
      ->capture_default_str()
      ->check(CLI::IsMember({"logfmt", "json"}));
  sub->callback([&run, flags] { run = [flags] { return RunQuery(*flags); }; });
}

}  // namespace paodin::cmd
