// The ApiBackend of `paodin query`: the PromQL engine over the StoreAPI proxy, the endpoint
// set's health for /api/v1/stores and /-/ready, and the query's own metrics (samples scanned,
// store health gauges) in the shared registry.
#ifndef PAODIN_CMD_QUERY_BACKEND_H_
#define PAODIN_CMD_QUERY_BACKEND_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/exec/engine.h"
#include "http/backend.h"
#include "storeapi/client/endpoint_set.h"
#include "storeapi/proxy/proxy.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace paodin::cmd {

// What QueryBackend needs besides the proxy and the endpoints.
struct QueryBackendOptions {
  // Engine defaults (--query.lookback-delta, --query.max-samples, ...).
  engine::EngineOptions engine;
  // For /api/v1/status/flags, in name order.
  std::vector<std::pair<std::string, std::string>> flags;
  http::BuildInfo build_info;
  // Metrics go here; may be null.
  std::shared_ptr<prometheus::Registry> registry;
};

// ApiBackend over an Engine and a Proxy. Thread-safe.
class QueryBackend final : public http::ApiBackend {
 public:
  // `proxy` and `endpoints` must outlive the backend; `endpoints` may be null (then /-/ready is
  // always true and /api/v1/stores is empty).
  QueryBackend(const storeapi::Proxy* proxy, const storeapi::EndpointSet* endpoints,
               QueryBackendOptions options);
  ~QueryBackend() override;

  absl::StatusOr<http::QueryResult> InstantQuery(const http::InstantQueryRequest& request,
                                                 const engine::QueryContext& ctx) override;
  absl::StatusOr<http::QueryResult> RangeQuery(const http::RangeQueryRequest& request,
                                               const engine::QueryContext& ctx) override;
  absl::StatusOr<http::SeriesResult> Series(const http::MetadataRequest& request,
                                            const engine::QueryContext& ctx) override;
  absl::StatusOr<http::StringsResult> LabelNames(const http::MetadataRequest& request,
                                                 const engine::QueryContext& ctx) override;
  absl::StatusOr<http::StringsResult> LabelValues(std::string_view name,
                                                  const http::MetadataRequest& request,
                                                  const engine::QueryContext& ctx) override;
  std::optional<http::StringsResult> LabelNamesAtHand(
      const http::MetadataRequest& request) override;
  std::optional<http::StringsResult> LabelValuesAtHand(
      std::string_view name, const http::MetadataRequest& request) override;
  std::vector<http::EndpointStatus> Stores() override;

  std::vector<std::pair<std::string, std::string>> Flags() override { return options_.flags; }

  http::BuildInfo GetBuildInfo() override { return options_.build_info; }

  bool Ready() override;

  // Refreshes the store health gauges from the endpoint set (call periodically).
  void UpdateStoreMetrics();

 private:
  struct Metrics;

  absl::StatusOr<http::QueryResult> Finish(absl::StatusOr<http::QueryResult> result, bool range);

  const storeapi::Proxy* proxy_;
  const storeapi::EndpointSet* endpoints_;
  QueryBackendOptions options_;
  engine::Engine engine_;
  std::unique_ptr<Metrics> metrics_;
};

// The proxy request options of an HTTP query or metadata request.
storeapi::RequestOptions ToRequestOptions(const http::QueryParams& params);

// The engine options of a request: its lookback override, the time left until the context's
// deadline and its cancellation flag.
engine::QueryOptions ToQueryOptions(int64_t lookback_delta_ms, const engine::QueryContext& ctx);

}  // namespace paodin::cmd

#endif  // PAODIN_CMD_QUERY_BACKEND_H_
