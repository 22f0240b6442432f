// A gRPC server for thanos.info.Info/Info and thanos.Store Series/LabelNames/LabelValues over a
// StoreBackend. It uses gRPC's callback API: no thread per stream. Backend calls run on a small
// worker pool; a Series stream pulls the next frame only after the previous one was written, so
// memory per stream stays at one frame (or one batch).
//
//   StoreServerOptions options;
//   options.address = "127.0.0.1:0";
//   options.tls.cert_file = "server.pem";  // optional: serve TLS
//   options.tls.key_file = "server.key";
//   PAODIN_ASSIGN_OR_RETURN(auto server, StoreServer::Start(backend, options));
//   ... server->port() ...
//   server->Shutdown();
#ifndef PAODIN_STOREAPI_SERVER_SERVER_H_
#define PAODIN_STOREAPI_SERVER_SERVER_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "storeapi/server/backend.h"

namespace grpc {
class ServerCredentials;
}  // namespace grpc

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace paodin::storeapi {

// TLS of the StoreAPI server, with the semantics of Thanos' --grpc-server-tls-* flags.
struct ServerTlsOptions {
  // --grpc-server-tls-cert / --grpc-server-tls-key: PEM files of the server certificate (chain)
  // and its private key. Both or neither; neither serves plaintext.
  std::string cert_file;
  std::string key_file;
  // --grpc-server-tls-client-ca: PEM file of the CAs that sign client certificates. When set,
  // every client must present a certificate that verifies against these CAs (mutual TLS).
  // Needs cert_file and key_file.
  std::string client_ca_file;

  // True when any file is given, i.e. TLS is asked for (MakeServerCredentials checks the rest).
  bool enabled() const {
    return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty();
  }
};

// Builds the gRPC server credentials for `tls`: insecure ones when no file is given. Reads the
// files now. Fails with InvalidArgument when only one of cert_file and key_file is given, when
// client_ca_file comes without them, or naming a file that cannot be read or holds no PEM
// block of the expected kind.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& tls);

// How to run a StoreServer.
struct StoreServerOptions {
  // host:port to listen on; port 0 picks a free port (see StoreServer::port()).
  std::string address = "0.0.0.0:10901";
  // Largest message received or sent (far above gRPC's 4 MiB default, as Thanos).
  int max_message_bytes = std::numeric_limits<int>::max();
  // Worker threads that call the backend; 0 means max(2, hardware threads).
  int workers = 0;
  // Where to register the request counters (in addition to stats()); may be null.
  std::shared_ptr<prometheus::Registry> registry;
  // Prefix of the metric names: <prefix>_series_requests_total and friends.
  std::string metric_prefix = "paodin_store";
  // Name used in log lines.
  std::string component = "store";
  // TLS; plaintext unless files are given.
  ServerTlsOptions tls;
};

// Request counters, also exported as Prometheus metrics when a registry is given.
struct StoreServerStats {
  int64_t info_requests = 0;
  int64_t series_requests = 0;
  int64_t label_names_requests = 0;
  int64_t label_values_requests = 0;
  // Series frames sent (series inside batches counted one by one).
  int64_t series_sent = 0;
  // Calls that ended with a non-OK status.
  int64_t failed_requests = 0;
};

// A running server. Destroying it shuts it down.
class StoreServer {
 public:
  // Binds and starts serving. Fails with InvalidArgument when options.tls is unusable (see
  // MakeServerCredentials), and with Unavailable naming the address and the reason when it
  // cannot listen (address in use, bad host, a certificate gRPC rejects).
  static absl::StatusOr<std::unique_ptr<StoreServer>> Start(std::shared_ptr<StoreBackend> backend,
                                                            const StoreServerOptions& options);

  ~StoreServer();
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  // The port actually bound.
  int port() const;

  // host:port actually bound.
  std::string address() const;

  // Counters so far.
  StoreServerStats stats() const;

  // Refuses new calls (Unavailable), waits up to `grace_ms` for running calls to finish,
  // cancels the rest and stops. Returns as soon as no call is running. Idempotent.
  void Shutdown(int64_t grace_ms = 5000);

  // Implementation detail, public only so the call reactors in server.cc can name it.
  struct Impl;

 private:
  explicit StoreServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SERVER_SERVER_H_
