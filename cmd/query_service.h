// A running `paodin query`: the endpoint set, the StoreAPI proxy, the PromQL engine behind the
// HTTP API, and the gRPC StoreAPI over the merged view. `paodin query` builds it from flags;
// `paodin demo` builds it over its in-process stores.
#ifndef PAODIN_CMD_QUERY_SERVICE_H_
#define PAODIN_CMD_QUERY_SERVICE_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/exec/engine.h"
#include "engine/model/labels.h"
#include "http/api.h"
#include "http/server.h"
#include "storeapi/client/endpoint_set.h"
#include "storeapi/proxy/proxy.h"
#include "storeapi/server/server.h"

namespace paodin::storeapi {
class ProxyStoreBackend;
}  // namespace paodin::storeapi

namespace paodin::cmd {

class QueryBackend;

// Everything a query needs, resolved from flags.
struct QueryConfig {
  // --http-address; port 0 picks a free one.
  std::string http_address = "0.0.0.0:10902";
  // --grpc-address; empty serves no StoreAPI.
  std::string grpc_address = "0.0.0.0:10901";
  // --grpc-server-tls-cert, --grpc-server-tls-key, --grpc-server-tls-client-ca.
  storeapi::ServerTlsOptions grpc_server_tls;
  storeapi::EndpointSetOptions endpoints;
  storeapi::ProxyOptions proxy;
  engine::EngineOptions engine;
  // --web.route-prefix, --web.disable-cors.
  std::string route_prefix;
  bool disable_cors = false;
  http::ParamDefaults defaults;
  // --query.max-concurrent.
  int max_concurrent = 20;
  // --selector-label.
  engine::Labels selector_labels;
  // For /api/v1/status/flags.
  std::vector<std::pair<std::string, std::string>> flags;
};

// The running query. Destroying it shuts it down.
class QueryService {
 public:
  // Starts the endpoint refresh, the gRPC and the HTTP servers. Fails (with nothing left
  // running) when an address cannot be bound, or with InvalidArgument when the client or server
  // TLS options are unusable.
  static absl::StatusOr<std::unique_ptr<QueryService>> Start(QueryConfig config);

  ~QueryService();
  QueryService(const QueryService&) = delete;
  QueryService& operator=(const QueryService&) = delete;

  // The bound HTTP port.
  int http_port() const;

  // True once the first endpoint refresh has completed.
  bool ready() const;

  // The bound gRPC address ("" when no StoreAPI is served).
  std::string grpc_address() const;

  // Stops HTTP, then gRPC, then the endpoint refresh. Idempotent.
  void Shutdown();

 private:
  QueryService() = default;
  void MetricsLoop();

  QueryConfig config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<storeapi::EndpointSet> endpoints_;
  std::unique_ptr<storeapi::Proxy> proxy_;
  std::unique_ptr<QueryBackend> backend_;
  std::unique_ptr<http::Api> api_;
  std::unique_ptr<http::Server> http_;
  std::unique_ptr<storeapi::StoreServer> grpc_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread metrics_thread_;
};

// A version string with the Build info fields of /api/v1/status/buildinfo.
http::BuildInfo MakeBuildInfo();

}  // namespace paodin::cmd

#endif  // PAODIN_CMD_QUERY_SERVICE_H_
