// The Prometheus/Thanos HTTP API as a transport-free handler: routing (with the route prefix),
// methods, parameters, the backend calls, the JSON bodies, CORS, Cache-Control, request metrics
// and the slow-query log. The Beast server (server.h) feeds it requests on worker threads; tests
// call Handle() directly.
#ifndef PAODIN_HTTP_API_H_
#define PAODIN_HTTP_API_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "http/backend.h"
#include "http/encode.h"
#include "http/params.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace paodin::http {

// What the transport knows of a request. The views must outlive Handle().
struct HttpRequest {
  std::string_view method;
  // The request target: path plus optional "?query", still escaped.
  std::string_view target;
  // The Content-Type header ("" when absent).
  std::string_view content_type;
  std::string_view body;
};

// Per-request context from the transport.
struct RequestContext {
  // Becomes true when the client goes away; may be null.
  const std::atomic<bool>* cancelled = nullptr;
  // When the request was read (engine::NowSteadyMs()): timeouts count from here, so time spent
  // waiting for a query slot counts too.
  int64_t received_steady_ms = 0;
};

// The response side. Status and headers must be set before the first Write().
class ResponseWriter : public BodySink {
 public:
  // The HTTP status; 200 if never called.
  virtual void SetStatus(int status) = 0;
  // Sets (replaces) a header.
  virtual void SetHeader(std::string_view name, std::string_view value) = 0;
};

// Configuration of the API.
struct ApiOptions {
  // --web.route-prefix: "" or a path like "/thanos" (a missing leading "/" is added, a trailing
  // one dropped). The API lives under <prefix>/api/v1; /-/healthy, /-/ready and /metrics are
  // served both at the root and under the prefix.
  std::string route_prefix;
  // --web.disable-cors.
  bool disable_cors = false;
  // Flag defaults for parameters.
  ParamDefaults defaults;
  // Parses `match[]` and `storeMatch[]` selectors (Prometheus parser.ParseMetricSelector).
  // Required.
  SelectorParser parse_selector;
  // Queries slower than this are logged with their parameters; zero disables the log.
  absl::Duration slow_query_threshold = absl::Seconds(5);
  // --query.max-concurrent, exported as thanos_query_concurrent_gate_queries_max.
  int max_concurrent_queries = 20;
  // Request metrics go here, and /metrics serializes it; null means no metrics.
  std::shared_ptr<prometheus::Registry> registry;
  // The wall clock (default absl::Now); tests pin it.
  std::function<absl::Time()> now;
};

// How a request should be scheduled by the transport.
enum class Work {
  // Cheap and local: answer on the network thread.
  kInline,
  // Series, labels, label values, metadata: a worker pool.
  kMetadata,
  // query and query_range: the query pool, at most --query.max-concurrent at once.
  kQuery,
};

struct ApiRoute;  // internal to api.cc

// The API handler. Thread-safe: Handle() runs concurrently on many threads.
class Api {
 public:
  // `backend` must outlive the Api.
  Api(ApiBackend* backend, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Where the transport should run this request.
  Work Classify(std::string_view method, std::string_view target) const;

  // Answers one request completely through `w`. Blocking (backend calls).
  void Handle(const HttpRequest& request, const RequestContext& ctx, ResponseWriter& w);

  // Answers a label names / values request on the calling (network) thread when the backend
  // has the answer at hand and it is small; returns false having written nothing otherwise
  // (the caller then runs Handle on a worker).
  bool HandleWithoutWaiting(const HttpRequest& request, ResponseWriter& w);

 private:
  struct Metrics;

  void Dispatch(const ApiRoute& route, const HttpRequest& request, std::string_view label_name,
                const RequestContext& ctx, ResponseWriter& w, int& status);
  void Query(bool range, const HttpRequest& request, const RequestContext& ctx, ResponseWriter& w,
             int& status);
  void Metadata(int endpoint, std::string_view label_name, const HttpRequest& request,
                const RequestContext& ctx, ResponseWriter& w, int& status);
  void WriteMetrics(ResponseWriter& w);
  void CountRequest(const ApiRoute& route, const std::string& method_label, int status,
                    absl::Time begin);
  int64_t NowMs() const;

  ApiBackend* backend_;
  ApiOptions options_;
  absl::Time start_time_;
  std::unique_ptr<Metrics> metrics_;
};

// Writes a complete JSON error response (status code, headers, body).
void RespondError(const ApiError& error, ResponseWriter& w);

}  // namespace paodin::http

#endif  // PAODIN_HTTP_API_H_
