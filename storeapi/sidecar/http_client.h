// A small blocking HTTP/1.1 client (Boost.Beast) for talking to one Prometheus: keep-alive
// connections reused from a pool, an inactivity timeout on every network step, cancellation
// from the caller's context, and response bodies either read whole (bounded) or streamed piece
// by piece. Only plain http:// URLs are supported.
//
//   PAODIN_ASSIGN_OR_RETURN(auto client, HttpClient::Create({.url = "http://127.0.0.1:9090"}));
//   PAODIN_ASSIGN_OR_RETURN(HttpResponse r, client->Get("/api/v1/status/config", ctx));
//
// Thread-safe: calls from several threads use separate connections.
#ifndef PAODIN_STOREAPI_SIDECAR_HTTP_CLIENT_H_
#define PAODIN_STOREAPI_SIDECAR_HTTP_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/storage/queryable.h"

namespace paodin::storeapi {

// How to reach the server.
struct HttpClientOptions {
  // Base URL, e.g. "http://localhost:9090" or "http://host:9090/prefix".
  std::string url;
  // Longest wait for any one network step (connect, send, each read): an inactivity timeout.
  int64_t timeout_ms = 30000;
  // Idle keep-alive connections kept for reuse.
  size_t max_idle_connections = 8;
  // Largest body Get() accepts.
  size_t max_body_bytes = 256u << 20;
};

// A complete response.
struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// A response whose body is read incrementally. Destroying it before the end closes the
// connection; reading to the end returns a keep-alive connection to the pool.
class HttpBodyStream {
 public:
  virtual ~HttpBodyStream() = default;

  // The status code and Content-Type.
  virtual int status() const = 0;
  virtual const std::string& content_type() const = 0;

  // Reads up to `max` body bytes into *out (replacing its contents); an empty *out means the
  // body ended. Fails with Unavailable (connection lost, body cut short), DeadlineExceeded
  // (timeout) or Cancelled.
  virtual absl::Status Read(size_t max, std::string* out) = 0;
};

// A client for one base URL.
class HttpClient {
 public:
  // Fails with InvalidArgument when the URL is not http://host[:port][/path].
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(HttpClientOptions options);

  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET base path + `target` (which starts with '/' and may carry a query string) and reads
  // the whole body (at most max_body_bytes). Any status code is returned, not turned into an
  // error. Fails with Unavailable when the server cannot be reached or the response is
  // malformed, DeadlineExceeded on timeout, Cancelled when ctx is cancelled.
  absl::StatusOr<HttpResponse> Get(std::string_view target, const engine::QueryContext& ctx);

  // POSTs `body` with the given extra headers and returns once the response headers arrived.
  absl::StatusOr<std::unique_ptr<HttpBodyStream>> Post(
      std::string_view target, std::string body,
      const std::vector<std::pair<std::string, std::string>>& headers,
      const engine::QueryContext& ctx);

  // The base URL as given.
  const std::string& url() const { return options_.url; }

  // Connections opened so far (for tests of keep-alive).
  int64_t connections_opened() const;

  // Implementation details, public only for the .cc file.
  struct Conn;

  struct Endpoint {
    std::string host;
    std::string port;
    std::string path_prefix;
  };

 private:
  friend class BeastBodyStream;
  explicit HttpClient(HttpClientOptions options, Endpoint endpoint);

  // An idle pooled connection or a new one.
  absl::StatusOr<std::unique_ptr<Conn>> Acquire(const engine::QueryContext& ctx, bool* reused);
  void ReleaseConn(std::unique_ptr<Conn> conn);

  HttpClientOptions options_;
  Endpoint endpoint_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int64_t opened_ = 0;
};

// Splits "http://host:port/path" into host, port (default 80) and path prefix (no trailing
// slash). InvalidArgument for other schemes or a missing host.
absl::StatusOr<HttpClient::Endpoint> ParseHttpUrl(std::string_view url);

// Percent-encodes `s` for a query string value or a path segment (RFC 3986 unreserved
// characters stay as they are).
std::string UrlEncode(std::string_view s);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SIDECAR_HTTP_CLIENT_H_
