#include "cmd/query_service.h"

#include <chrono>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "cmd/query_backend.h"
#include "cmd/version.h"
#include "engine/util/log.h"
#include "http/selector.h"
#include "storeapi/client/grpc_util.h"
#include "storeapi/proxyserver/proxy_backend.h"
#include "storeapi/server/server.h"

namespace paodin::cmd {
namespace {

// Per-store request metrics: the duration of every call to a store by store and method, and
// the calls that failed by gRPC code (a stream the query cancelled itself is not a failure).
class StoreRequestMetrics final : public storeapi::StoreRequestObserver {
 public:
  explicit StoreRequestMetrics(prometheus::Registry& registry)
      : duration_(prometheus::BuildHistogram()
                      .Name("paodin_store_request_duration_seconds")
                      .Help("Duration of StoreAPI calls to each store, by store and method")
                      .Register(registry)),
        errors_(prometheus::BuildCounter()
                    .Name("paodin_store_request_errors_total")
                    .Help("StoreAPI calls to each store that failed, by store, method and code")
                    .Register(registry)) {}

  void Observe(std::string_view store, std::string_view method, double seconds,
               const grpc::Status& status) override {
    const std::string s(store), m(method);
    duration_.Add({{"store", s}, {"method", m}}, Buckets()).Observe(seconds);
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
      errors_
          .Add({{"store", s},
                {"method", m},
                {"code", std::string(storeapi::GrpcCodeName(status.error_code()))}})
          .Increment();
    }
  }

 private:
  static const prometheus::Histogram::BucketBoundaries& Buckets() {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
    return kBuckets;
  }

  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& errors_;
};

}  // namespace

http::BuildInfo MakeBuildInfo() {
  http::BuildInfo b;
  b.version = kVersion;
  b.revision = kRevision;
  b.branch = "";
  b.build_user = "";
  b.build_date = kBuildDate;
#if defined(__clang__)
  b.go_version = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  b.go_version = std::string("gcc ") + __VERSION__;
#endif
  return b;
}

absl::StatusOr<std::unique_ptr<QueryService>> QueryService::Start(QueryConfig config) {
  std::unique_ptr<QueryService> s(new QueryService());
  s->config_ = std::move(config);
  QueryConfig& c = s->config_;
  s->registry_ = std::make_shared<prometheus::Registry>();
  absl::StatusOr<std::unique_ptr<storeapi::EndpointSet>> endpoints =
      storeapi::EndpointSet::Create(c.endpoints);
  if (!endpoints.ok()) {
    return endpoints.status();
  }
  s->endpoints_ = *std::move(endpoints);
  c.proxy.observer = std::make_shared<StoreRequestMetrics>(*s->registry_);
  s->proxy_ = std::make_unique<storeapi::Proxy>(s->endpoints_, c.proxy);

  QueryBackendOptions bo;
  bo.engine = c.engine;
  bo.flags = c.flags;
  bo.build_info = MakeBuildInfo();
  bo.registry = s->registry_;
  s->backend_ = std::make_unique<QueryBackend>(s->proxy_.get(), s->endpoints_.get(), bo);

  http::ApiOptions ao;
  ao.route_prefix = c.route_prefix;
  ao.disable_cors = c.disable_cors;
  ao.defaults = c.defaults;
  ao.parse_selector = http::ParsePromqlSelector;
  ao.max_concurrent_queries = c.max_concurrent;
  ao.registry = s->registry_;
  s->api_ = std::make_unique<http::Api>(s->backend_.get(), ao);

  if (!c.grpc_address.empty()) {
    storeapi::ProxyBackendOptions po;
    po.replica_labels = c.proxy.replica_labels;
    po.selector_labels = c.selector_labels;
    auto grpc_backend =
        std::make_shared<storeapi::ProxyStoreBackend>(s->proxy_.get(), s->endpoints_, po);
    storeapi::StoreServerOptions so;
    so.address = c.grpc_address;
    so.registry = s->registry_;
    so.metric_prefix = "paodin_query_grpc";
    so.component = "query";
    so.tls = c.grpc_server_tls;
    absl::StatusOr<std::unique_ptr<storeapi::StoreServer>> grpc =
        storeapi::StoreServer::Start(grpc_backend, so);
    if (!grpc.ok()) {
      return grpc.status();
    }
    s->grpc_ = std::move(*grpc);
  }

  http::ServerOptions ho;
  ho.address = c.http_address;
  ho.max_concurrent_queries = c.max_concurrent;
  absl::StatusOr<std::unique_ptr<http::Server>> server = http::Server::Start(s->api_.get(), ho);
  if (!server.ok()) {
    if (s->grpc_) {
      s->grpc_->Shutdown(0);
    }
    return server.status();
  }
  s->http_ = std::move(*server);
  s->endpoints_->Start();
  s->metrics_thread_ = std::thread([raw = s.get()] { raw->MetricsLoop(); });
  return s;
}

QueryService::~QueryService() { Shutdown(); }

int QueryService::http_port() const { return http_ ? http_->port() : 0; }

bool QueryService::ready() const { return endpoints_ && endpoints_->Ready(); }

std::string QueryService::grpc_address() const { return grpc_ ? grpc_->address() : ""; }

void QueryService::MetricsLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    backend_->UpdateStoreMetrics();
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; });
  }
}

void QueryService::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) {
      return;
    }
    stop_ = true;
  }
  cv_.notify_all();
  if (metrics_thread_.joinable()) {
    metrics_thread_.join();
  }
  if (http_) {
    http_->Shutdown();
  }
  if (grpc_) {
    grpc_->Shutdown(2000);
  }
  if (endpoints_) {
    endpoints_->Stop();
  }
}

}  // namespace paodin::cmd
