// The HTTP/1.1 server (Boost.Beast): keep-alive connections on a few network threads; API
// handlers run on worker pools, never on the network threads; at most --query.max-concurrent
// queries evaluate at once (the query pool has that many threads and the rest wait in its
// queue); a client that closes its connection cancels its running request; gzip when the client
// accepts it; large bodies stream out with chunked transfer encoding under back-pressure.
#ifndef PAODIN_HTTP_SERVER_H_
#define PAODIN_HTTP_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/api.h"

namespace paodin::http {

// Server configuration.
struct ServerOptions {
  // --http-address: "host:port", ":port" (all interfaces) or "[v6]:port"; port 0 picks a free
  // port (see Server::port()).
  std::string address = "0.0.0.0:10902";
  // Network threads, each with its own event loop; a new connection goes to the loop with the
  // fewest open connections, so one client at a time never hops between network threads.
  int io_threads = 2;
  // --query.max-concurrent: threads of the query pool, i.e. queries evaluating at once.
  int max_concurrent_queries = 20;
  // Threads for series / labels / label values / metadata.
  int metadata_threads = 4;
  // Request line plus headers larger than this get 431 (Go's default is 1 MiB).
  size_t max_header_bytes = 1 << 20;
  // Bodies larger than this get 413 (Go caps form bodies at 10 MiB).
  size_t max_body_bytes = 10 << 20;
  // A connection idle (or a client sending its request) this long is closed.
  absl::Duration idle_timeout = absl::Minutes(2);
  // Writing one piece of a response may take this long before the connection is dropped.
  absl::Duration write_timeout = absl::Minutes(2);
  // Bodies below this size are never compressed (as Thanos' gzip handler).
  size_t gzip_min_bytes = 1400;
  // A response is buffered up to this size and sent with Content-Length; larger ones stream.
  size_t stream_threshold_bytes = 64 * 1024;
};

// A running server.
class Server {
 public:
  // Binds, listens and starts the threads. `api` must outlive the server.
  static absl::StatusOr<std::unique_ptr<Server>> Start(Api* api, ServerOptions options);

  // Shuts down (see Shutdown).
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port.
  int port() const;

  // Stops accepting, cancels running requests, closes connections and joins every thread.
  // Idempotent.
  void Shutdown();

  // Connections currently open (for tests and metrics).
  size_t open_connections() const;

  // Internal; declared here so the connection code in server.cc can reach it.
  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace paodin::http

#endif  // PAODIN_HTTP_SERVER_H_
