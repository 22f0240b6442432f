// `paodin demo`: a query on :10902 over four embedded stores, two clusters ("host" and
// "member") with two replicas each ("0" and "1"; replica 1 misses some scrapes), deduplicated by
// `replica`. Each store is a MemStore with synthetic data served by its own StoreServer on a
// loopback port, and the query reaches them over gRPC like any other store.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cmd/commands.h"
#include "cmd/query_flags.h"
#include "cmd/query_service.h"
#include "engine/model/time.h"
#include "engine/util/log.h"
#include "engine/util/strings.h"
#include "storeapi/ingest/synthetic.h"
#include "storeapi/memstore/memstore.h"
#include "storeapi/server/memstore_backend.h"
#include "storeapi/server/server.h"
#include <pthread.h>
#include <signal.h>

namespace paodin::cmd {
namespace {

constexpr const char* kComponent = "demo";

struct DemoFlags {
  std::string http_address = "0.0.0.0:10902";
  std::string grpc_address = "0.0.0.0:10901";
  int64_t series = 2500;
  std::string duration = "6h";
  double gaps = 0.02;
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The example commands, for a query reachable at `base` (e.g. http://localhost:10902).
std::string Examples(const std::string& base) {
  const std::string rate = "sum by (cluster) (rate(http_requests_total[5m]))";
  std::string out;
  out += fmt::format(
      "\nPaodin demo is serving the Prometheus HTTP API on {0}\n"
      "  stores: cluster=\"host\" and cluster=\"member\", replicas \"0\" and \"1\" each "
      "(deduplicated by `replica`)\n\n"
      "Try:\n"
      "  curl -sG '{0}/api/v1/query' --data-urlencode 'query={1}'\n"
      "  curl -sG '{0}/api/v1/query_range' --data-urlencode 'query={1}' \\\n"
      "       --data-urlencode \"start=$(($(date +%s) - 3600))\" "
      "--data-urlencode \"end=$(date +%s)\" --data-urlencode 'step=60'\n"
      "  curl -sG '{0}/api/v1/query' --data-urlencode 'query=histogram_quantile(0.99, "
      "sum by (cluster, le) (rate(http_request_duration_seconds_bucket[5m])))'\n"
      "  curl -sG '{0}/api/v1/query' --data-urlencode 'query=count by (cluster, replica) (up)' "
      "--data-urlencode 'dedup=false'\n"
      "  curl -s '{0}/api/v1/labels'\n"
      "  curl -s '{0}/api/v1/label/cluster/values'\n"
      "  curl -s '{0}/api/v1/stores'\n"
      "  promtool query instant {0} 'up'\n"
      "  promtool query instant {0} '{1}'\n"
      "  promtool query range --start=$(($(date +%s) - 3600)) --end=$(date +%s) --step=1m "
      "{0} '{1}'\n"
      "  promtool query labels {0} cluster\n\n"
      "Press Ctrl-C to stop.\n",
      base, rate);
  return out;
}

int RunDemo(const DemoFlags& f) {
  if (absl::Status st = log::Configure(f.log_level, f.log_format); !st.ok()) {
    std::fprintf(stderr, "paodin demo: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  absl::StatusOr<int64_t> duration = engine::ParseDuration(f.duration);
  if (!duration.ok() || *duration <= 0) {
    std::fprintf(stderr, "paodin demo: invalid --duration %s\n", f.duration.c_str());
    return 2;
  }
  if (f.series < 1 || f.series > 1'000'000) {
    std::fprintf(stderr, "paodin demo: --series must be between 1 and 1000000\n");
    return 2;
  }
  if (!(f.gaps >= 0 && f.gaps < 1)) {
    std::fprintf(stderr, "paodin demo: --gaps must be in [0, 1)\n");
    return 2;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  struct StoreDef {
    const char* cluster;
    const char* replica;
    uint64_t seed;
    double gaps;
  };

  const StoreDef defs[] = {{"host", "0", 1, 0},
                           {"host", "1", 1, f.gaps},
                           {"member", "0", 2, 0},
                           {"member", "1", 2, f.gaps}};
  const int64_t now = NowMs();
  std::vector<std::unique_ptr<storeapi::StoreServer>> stores;
  QueryFlags qf;
  qf.http_address = f.http_address;
  qf.grpc_address = f.grpc_address;
  qf.replica_labels = {"replica"};
  qf.log_level = f.log_level;
  qf.log_format = f.log_format;
  for (const StoreDef& d : defs) {
    storeapi::SyntheticSpec spec;
    spec.series = f.series;
    spec.duration_ms = *duration;
    spec.seed = d.seed;
    spec.gaps = d.gaps;
    const int64_t t = now - spec.duration_ms;
    spec.start_ms = t - t % spec.interval_ms;
    auto store = std::make_shared<storeapi::MemStore>();
    const auto begin = std::chrono::steady_clock::now();
    if (absl::Status st = storeapi::GenerateInto(spec, store.get()); !st.ok()) {
      log::Error(kComponent, "generating data failed", {{"err", ToStd(st.message())}});
      return 1;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - begin)
                        .count();
    absl::StatusOr<engine::Labels> external =
        engine::Labels::FromPairs({{"cluster", d.cluster}, {"replica", d.replica}});
    if (!external.ok()) {
      return 1;
    }
    storeapi::StoreServerOptions so;
    so.address = "127.0.0.1:0";
    so.workers = 2;
    so.component = fmt::format("store-{}-{}", d.cluster, d.replica);
    absl::StatusOr<std::unique_ptr<storeapi::StoreServer>> server = storeapi::StoreServer::Start(
        std::make_shared<storeapi::MemStoreBackend>(store, *external), so);
    if (!server.ok()) {
      log::Error(kComponent, "cannot start store", {{"err", ToStd(server.status().message())}});
      return 1;
    }
    const storeapi::MemStoreStats stats = store->Stats();
    log::Info(kComponent, "store serving",
              {{"address", (*server)->address()},
               {"external_labels", external->ToString()},
               {"series", std::to_string(stats.num_series)},
               {"samples", std::to_string(stats.num_samples)},
               {"spec", spec.ToString()},
               {"generated_in", engine::FormatDuration(ms)}});
    qf.stores.push_back((*server)->address());
    stores.push_back(std::move(*server));
  }

  absl::StatusOr<QueryConfig> config = ResolveQueryFlags(qf);
  if (!config.ok()) {
    std::fprintf(stderr, "paodin demo: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<QueryService>> query = QueryService::Start(*std::move(config));
  if (!query.ok()) {
    log::Error(kComponent, "cannot start the query", {{"err", ToStd(query.status().message())}});
    for (auto& s : stores) {
      s->Shutdown(0);
    }
    return 1;
  }
  for (int i = 0; i < 100 && !(*query)->ready(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  log::Info(kComponent, "query serving",
            {{"http_port", std::to_string((*query)->http_port())},
             {"grpc_address", (*query)->grpc_address()},
             {"replica_label", "replica"}});
  const std::string examples = Examples(fmt::format("http://localhost:{}", (*query)->http_port()));
  std::fputs(examples.c_str(), stdout);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::Info(kComponent, "shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
  (*query)->Shutdown();
  for (auto& s : stores) {
    s->Shutdown(1000);
  }
  log::Info(kComponent, "stopped");
  return 0;
}

}  // namespace

void AddDemoCommand(CLI::App& app, RunFn& run) {
  auto flags = std::make_shared<DemoFlags>();
  DemoFlags& f = *flags;
  CLI::App* sub = app.add_subcommand(
      "demo",
      "Run a query on :10902 over synthetic stores for two clusters with two replicas each");
  sub->add_option("--http-address", f.http_address, "Listen host:port for the HTTP API")
      ->capture_default_str();
  sub->add_option("--grpc-address", f.grpc_address,
                  "Listen host:port for the query's own StoreAPI (port 0 picks a free port)")
      ->capture_default_str();
  sub->add_option("--series", f.series, "Series per store (four stores)")->capture_default_str();
  sub->add_option("--duration", f.duration, "Length of the data, ending now")
      ->capture_default_str();
  sub->add_option("--gaps", f.gaps, "Share of scrapes replica 1 of each cluster misses")
      ->capture_default_str();
  sub->add_option("--log.level", f.log_level, "Log filtering level")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  sub->add_option("--log.format", f.log_format, "Log format to use")
      ->capture_default_str()
      ->check(CLI::IsMember({"logfmt", "json"}));
  sub->callback([&run, flags] { run = [flags] { return RunDemo(*flags); }; });
}

}  // namespace paodin::cmd
