// `paodin store`: an embedded StoreAPI server over in-memory data loaded from exposition-format
// files or generated.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include "cmd/commands.h"
#include "cmd/grpc_server_flags.h"
#include "engine/model/time.h"
#include "engine/util/log.h"
#include "engine/util/strings.h"
#include "storeapi/ingest/exposition.h"
#include "storeapi/ingest/synthetic.h"
#include "storeapi/memstore/memstore.h"
#include "storeapi/server/convert.h"
#include "storeapi/server/memstore_backend.h"
#include "storeapi/server/server.h"
#include <pthread.h>
#include <signal.h>

namespace paodin::cmd {
namespace {

constexpr const char* kComponent = "store";

struct StoreFlags {
  GrpcServerFlags grpc;
  std::string http_address = "0.0.0.0:10902";
  std::vector<std::string> data_files;
  std::string synthetic;
  std::string write_openmetrics;
  std::vector<std::string> labels;
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Fail(std::string_view msg, const absl::Status& st) {
  log::Error(kComponent, msg, {{"err", ToStd(st.message())}});
  return 1;
}

int RunStore(const StoreFlags& f) {
  if (absl::Status st = log::Configure(f.log_level, f.log_format); !st.ok()) {
    std::fprintf(stderr, "paodin store: %s\n", std::string(st.message()).c_str());
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
  absl::StatusOr<engine::Labels> external = storeapi::ParseExternalLabels(f.labels);
  if (!external.ok()) {
    return Fail("bad --label", external.status());
  }

  std::optional<storeapi::SyntheticSpec> spec;
  if (!f.synthetic.empty()) {
    absl::StatusOr<storeapi::SyntheticSpec> parsed =
        storeapi::ParseSyntheticSpec(f.synthetic, NowMs());
    if (!parsed.ok()) {
      return Fail("bad --synthetic", parsed.status());
    }
    spec = *parsed;
  }
  if (!f.write_openmetrics.empty()) {
    if (!spec.has_value()) {
      log::Error(kComponent, "--synthetic.write-openmetrics needs --synthetic");
      return 1;
    }
    if (absl::Status st = storeapi::WriteOpenMetricsFile(*spec, f.write_openmetrics); !st.ok()) {
      return Fail("writing OpenMetrics failed", st);
    }
    log::Info(kComponent, "wrote synthetic data as OpenMetrics",
              {{"path", f.write_openmetrics}, {"spec", spec->ToString()}});
    return 0;
  }

  auto store = std::make_shared<storeapi::MemStore>();
  for (const std::string& path : f.data_files) {
    const auto start = std::chrono::steady_clock::now();
    storeapi::LoadStats stats;
    if (absl::Status st = storeapi::LoadExpositionFile(path, store.get(), &stats); !st.ok()) {
      return Fail("loading data failed", st);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    log::Info(kComponent, "loaded file",
              {{"path", path},
               {"samples", std::to_string(stats.samples)},
               {"duration", engine::FormatDuration(ms)}});
  }
  if (spec.has_value()) {
    const auto start = std::chrono::steady_clock::now();
    if (absl::Status st = storeapi::GenerateInto(*spec, store.get()); !st.ok()) {
      return Fail("generating data failed", st);
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    log::Info(kComponent, "generated synthetic data",
              {{"spec", spec->ToString()}, {"duration", engine::FormatDuration(ms)}});
  }
  const storeapi::MemStoreStats stats = store->Stats();
  if (stats.num_series == 0) {
    log::Warn(kComponent, "no data loaded: give --data and/or --synthetic");
  }

  auto registry = std::make_shared<prometheus::Registry>();
  storeapi::StoreServerOptions options;
  ApplyGrpcServerFlags(f.grpc, &options);
  options.registry = registry;
  auto backend = std::make_shared<storeapi::MemStoreBackend>(store, *external);
  absl::StatusOr<std::unique_ptr<storeapi::StoreServer>> server =
      storeapi::StoreServer::Start(backend, options);
  if (!server.ok()) {
    return Fail("cannot start gRPC server", server.status());
  }

  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(f.http_address, 2);
  } catch (const std::exception& e) {
    log::Error(kComponent, "cannot start HTTP server",
               {{"address", f.http_address}, {"err", e.what()}});
    return 1;
  }
  exposer->RegisterCollectable(registry);
  // Health endpoints answer 200 (with an empty body) once the data is loaded and serving.
  auto empty = std::make_shared<prometheus::Registry>();
  exposer->RegisterCollectable(empty, "/-/healthy");
  exposer->RegisterCollectable(empty, "/-/ready");
  std::string http_address = f.http_address;
  if (std::vector<int> ports = exposer->GetListeningPorts(); !ports.empty()) {
    const size_t colon = http_address.rfind(':');
    http_address = fmt::format("{}:{}", http_address.substr(0, colon), ports[0]);
  }

  const std::string grpc_address = (*server)->address();
  log::Info(kComponent, "serving StoreAPI",
            {{"grpc_address", grpc_address},
             {"http_address", http_address},
             {"tls", options.tls.enabled() ? "true" : "false"},
             {"series", std::to_string(stats.num_series)},
             {"samples", std::to_string(stats.num_samples)},
             {"chunks", std::to_string(stats.num_chunks)},
             {"min_time", engine::FormatRfc3339Millis(stats.min_time)},
             {"max_time", engine::FormatRfc3339Millis(stats.max_time)},
             {"external_labels", external->ToString()}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info(kComponent, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*server)->Shutdown();
  log::Info(kComponent, "stopped");
  // Stopping civetweb (the /metrics server) takes about two seconds of polling; nothing is
  // left to flush (log lines are written directly), so leave without tearing it down.
  std::_Exit(0);
}

}  // namespace

void AddStoreCommand(CLI::App& app, RunFn& run) {
  auto flags = std::make_shared<StoreFlags>();
  StoreFlags& f = *flags;
  CLI::App* sub = app.add_subcommand(
      "store", "Embedded StoreAPI server over data from files or a synthetic generator");
  AddGrpcServerFlags(*sub, f.grpc,
                     "Listen ip:port address for the gRPC StoreAPI and Info endpoints (port 0 "
                     "picks a free port; the log says which)");
  sub->add_option("--http-address", f.http_address,
                  "Listen host:port for /metrics, /-/healthy and /-/ready")
      ->capture_default_str();
  sub->add_option("--data", f.data_files,
                  "File in the Prometheus text or OpenMetrics exposition format, with "
                  "timestamps (repeatable; OpenMetrics when it ends with # EOF)")
      ->type_size(1)
      ->allow_extra_args(false);
  sub->add_option("--synthetic", f.synthetic,
                  "Generate data: series=N,duration=6h,interval=15s,seed=1,start=<unix s>,"
                  "gaps=0.01 (start defaults to now - duration)");
  sub->add_option("--synthetic.write-openmetrics", f.write_openmetrics,
                  "Write the --synthetic data to this OpenMetrics file (for promtool tsdb "
                  "create-blocks-from openmetrics) and exit without serving");
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
  sub->callback([&run, flags] { run = [flags] { return RunStore(*flags); }; });
}

}  // namespace paodin::cmd
