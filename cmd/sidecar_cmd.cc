// `paodin sidecar`: a StoreAPI server in front of a Prometheus, reading through remote read.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "cmd/commands.h"
#include "cmd/grpc_server_flags.h"
#include "engine/model/time.h"
#include "engine/util/log.h"
#include "engine/util/strings.h"
#include "storeapi/server/server.h"
#include "storeapi/sidecar/http_client.h"
#include "storeapi/sidecar/sidecar_backend.h"
#include "storeapi/sidecar/status_server.h"
#include <pthread.h>
#include <signal.h>

namespace paodin::cmd {
namespace {

constexpr const char* kComponent = "sidecar";

struct SidecarFlags {
  std::string prometheus_url = "http://localhost:9090";
  GrpcServerFlags grpc;
  std::string http_address = "0.0.0.0:10902";
  std::string min_time;
  std::string get_config_interval = "30s";
  std::string get_config_timeout = "5s";
  std::string prometheus_timeout = "2m";
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

int Fail(std::string_view msg, const absl::Status& st) {
  log::Error(kComponent, msg, {{"err", ToStd(st.message())}});
  return 1;
}

absl::StatusOr<int64_t> PositiveDuration(std::string_view flag, std::string_view value) {
  absl::StatusOr<int64_t> ms = engine::ParseDuration(value);
  if (!ms.ok() || *ms <= 0) {
    return absl::InvalidArgumentError(
        fmt::format("{} {:?}: want a positive duration such as 30s", flag, value));
  }
  return ms;
}

// Sidecar gauges refreshed on every scrape.
struct SidecarMetrics {
  prometheus::Gauge* prometheus_up;
  prometheus::Gauge* refreshes;
  prometheus::Gauge* failed_refreshes;
  prometheus::Gauge* remote_reads;
  prometheus::Gauge* remote_read_bytes;
  prometheus::Gauge* frames;
  prometheus::Gauge* max_held;
};

SidecarMetrics RegisterMetrics(prometheus::Registry& registry) {
  auto gauge = [&registry](const std::string& name, const std::string& help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
  };
  return SidecarMetrics{
      gauge("paodin_sidecar_prometheus_up",
            "1 when the last read of Prometheus' configuration succeeded, else 0"),
      gauge("paodin_sidecar_config_reads", "Reads of Prometheus' configuration"),
      gauge("paodin_sidecar_config_read_failures", "Failed reads of Prometheus' configuration"),
      gauge("paodin_sidecar_remote_reads", "Remote read requests sent to Prometheus"),
      gauge("paodin_sidecar_remote_read_bytes", "Bytes of finished remote read responses"),
      gauge("paodin_sidecar_remote_read_frames", "Frames of finished remote read responses"),
      gauge("paodin_sidecar_max_held_series",
            "Most series one Series call held back to keep its output sorted"),
  };
}

int RunSidecar(const SidecarFlags& f) {
  if (absl::Status st = log::Configure(f.log_level, f.log_format); !st.ok()) {
    std::fprintf(stderr, "paodin sidecar: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  // Block the stop signals before any thread starts, so every thread inherits the mask and
  // only sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (absl::Status st = CheckGrpcServerFlags(f.grpc); !st.ok()) {
    return Fail("bad gRPC server TLS flags", st);
  }
  absl::StatusOr<storeapi::MinTimeSpec> min_time = storeapi::ParseMinTime(f.min_time);
  if (!min_time.ok()) {
    return Fail("bad --min-time", min_time.status());
  }
  absl::StatusOr<int64_t> interval =
      PositiveDuration("--prometheus.get_config_interval", f.get_config_interval);
  if (!interval.ok()) {
    return Fail("bad flag", interval.status());
  }
  absl::StatusOr<int64_t> config_timeout =
      PositiveDuration("--prometheus.get_config_timeout", f.get_config_timeout);
  if (!config_timeout.ok()) {
    return Fail("bad flag", config_timeout.status());
  }
  absl::StatusOr<int64_t> timeout = PositiveDuration("--prometheus.timeout", f.prometheus_timeout);
  if (!timeout.ok()) {
    return Fail("bad flag", timeout.status());
  }

  storeapi::HttpClientOptions client_options;
  client_options.url = f.prometheus_url;
  client_options.timeout_ms = *timeout;
  absl::StatusOr<std::unique_ptr<storeapi::HttpClient>> client =
      storeapi::HttpClient::Create(client_options);
  if (!client.ok()) {
    return Fail("bad --prometheus.url", client.status());
  }

  storeapi::SidecarOptions options;
  options.min_time = *min_time;
  options.refresh_interval_ms = *interval;
  options.refresh_timeout_ms = *config_timeout;
  auto backend = std::make_shared<storeapi::SidecarBackend>(
      std::shared_ptr<storeapi::HttpClient>(std::move(*client)), options);
  // The first read; when it fails the sidecar still starts, not ready, and keeps trying.
  backend->Refresh().IgnoreError();
  backend->StartBackgroundRefresh();

  auto registry = std::make_shared<prometheus::Registry>();
  storeapi::StoreServerOptions server_options;
  ApplyGrpcServerFlags(f.grpc, &server_options);
  server_options.registry = registry;
  server_options.metric_prefix = "paodin_sidecar";
  server_options.component = kComponent;
  absl::StatusOr<std::unique_ptr<storeapi::StoreServer>> server =
      storeapi::StoreServer::Start(backend, server_options);
  if (!server.ok()) {
    return Fail("cannot start gRPC server", server.status());
  }

  SidecarMetrics metrics = RegisterMetrics(*registry);
  storeapi::StatusServerOptions status_options;
  status_options.address = f.http_address;
  status_options.registry = registry;
  storeapi::SidecarBackend* raw_backend = backend.get();
  status_options.ready = [raw_backend] { return raw_backend->ready(); };
  status_options.before_scrape = [raw_backend, metrics] {
    const storeapi::SidecarStats s = raw_backend->stats();
    metrics.prometheus_up->Set(raw_backend->ready() ? 1 : 0);
    metrics.refreshes->Set(static_cast<double>(s.refreshes));
    metrics.failed_refreshes->Set(static_cast<double>(s.failed_refreshes));
    metrics.remote_reads->Set(static_cast<double>(s.remote_reads));
    metrics.remote_read_bytes->Set(static_cast<double>(s.remote_read_bytes));
    metrics.frames->Set(static_cast<double>(s.frames));
    metrics.max_held->Set(static_cast<double>(s.max_held_series));
  };
  absl::StatusOr<std::unique_ptr<storeapi::StatusServer>> status =
      storeapi::StatusServer::Start(status_options);
  if (!status.ok()) {
    return Fail("cannot start HTTP server", status.status());
  }
  std::string http_address = f.http_address;
  http_address =
      fmt::format("{}:{}", http_address.substr(0, http_address.rfind(':')), (*status)->port());

  log::Info(kComponent, "serving StoreAPI",
            {{"grpc_address", (*server)->address()},
             {"http_address", http_address},
             {"tls", server_options.tls.enabled() ? "true" : "false"},
             {"prometheus", f.prometheus_url},
             {"ready", backend->ready() ? "true" : "false"},
             {"external_labels", backend->external_labels().ToString()}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info(kComponent, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*server)->Shutdown();
  status->reset();
  log::Info(kComponent, "stopped");
  std::_Exit(0);
}

}  // namespace

void AddSidecarCommand(CLI::App& app, RunFn& run) {
  auto flags = std::make_shared<SidecarFlags>();
  SidecarFlags& f = *flags;
  CLI::App* sub = app.add_subcommand(
      "sidecar", "StoreAPI sidecar for a Prometheus server, reading through remote read");
  sub->add_option("--prometheus.url", f.prometheus_url, "URL at which to reach Prometheus's API")
      ->capture_default_str();
  sub->add_option("--prometheus.get_config_interval", f.get_config_interval,
                  "How often to read Prometheus' configuration (external labels) and check that "
                  "it is reachable")
      ->capture_default_str();
  sub->add_option("--prometheus.get_config_timeout", f.get_config_timeout,
                  "Timeout for reading Prometheus' configuration")
      ->capture_default_str();
  sub->add_option("--prometheus.timeout", f.prometheus_timeout,
                  "Longest wait for any one step (connect, send, each read) of a request to "
                  "Prometheus")
      ->capture_default_str();
  AddGrpcServerFlags(*sub, f.grpc,
                     "Listen ip:port address for the gRPC StoreAPI and Info endpoints");
  sub->add_option("--http-address", f.http_address, "Listen host:port for /metrics and health")
      ->capture_default_str();
  sub->add_option("--min-time", f.min_time,
                  "Start of time range limit to serve: RFC3339 or a duration relative to now "
                  "(e.g. -2h)");
  sub->add_option("--log.level", f.log_level, "Log filtering level")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  sub->add_option("--log.format", f.log_format, "Log format to use")
      ->capture_default_str()
      ->check(CLI::IsMember({"logfmt", "json"}));
  sub->callback([&run, flags] { run = [flags] { return RunSidecar(*flags); }; });
}

}  // namespace paodin::cmd
