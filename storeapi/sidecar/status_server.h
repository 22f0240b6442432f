// A tiny HTTP server for a sidecar's --http-address: /metrics (the Prometheus text format of a
// prometheus-cpp registry), /-/healthy (always 200 while running) and /-/ready (200 when the
// readiness callback says so, else 503). One request per connection; requests are served one
// at a time on a single thread, which suits scrapes and probes.
#ifndef PAODIN_STOREAPI_SIDECAR_STATUS_SERVER_H_
#define PAODIN_STOREAPI_SIDECAR_STATUS_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace paodin::storeapi {

// What to serve.
struct StatusServerOptions {
  // host:port, :port or [v6]:port; port 0 picks a free port.
  std::string address = "0.0.0.0:10902";
  // Served on /metrics; may be null (empty output).
  std::shared_ptr<prometheus::Registry> registry;
  // Answers /-/ready; null means always ready.
  std::function<bool()> ready;
  // Called before each /metrics collection (to update gauges); may be null.
  std::function<void()> before_scrape;
};

// A running status server; destroying it stops it.
class StatusServer {
 public:
  // Binds and starts the serving thread. Unavailable when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<StatusServer>> Start(StatusServerOptions options);

  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // The bound port.
  int port() const;

  // Implementation detail.
  struct Impl;

 private:
  explicit StatusServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SIDECAR_STATUS_SERVER_H_
