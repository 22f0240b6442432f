// The gRPC server flags that `paodin store` and `paodin sidecar` share with Thanos' components:
// --grpc-address and --grpc-server-tls-cert, --grpc-server-tls-key, --grpc-server-tls-client-ca.
#ifndef PAODIN_CMD_GRPC_SERVER_FLAGS_H_
#define PAODIN_CMD_GRPC_SERVER_FLAGS_H_

#include <string>

#include "absl/status/status.h"
#include "storeapi/server/server.h"

namespace CLI {
class App;
}  // namespace CLI

namespace paodin::cmd {

// Raw values as CLI11 fills them.
struct GrpcServerFlags {
  std::string address = "0.0.0.0:10901";
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
};

// Registers the four flags on `sub`, writing into `flags` (which must outlive the parse);
// `address_help` is the help text of --grpc-address.
void AddGrpcServerFlags(CLI::App& sub, GrpcServerFlags& flags, const std::string& address_help);

// Sets options->address and options->tls from the flags; the other fields are left alone.
// StoreServer::Start checks the TLS files (again).
void ApplyGrpcServerFlags(const GrpcServerFlags& flags, storeapi::StoreServerOptions* options);

// Checks the TLS flags and reads their files, so a command can fail before slow start-up work.
// InvalidArgument naming the flag or file (see storeapi::MakeServerCredentials).
absl::Status CheckGrpcServerFlags(const GrpcServerFlags& flags);

}  // namespace paodin::cmd

#endif  // PAODIN_CMD_GRPC_SERVER_FLAGS_H_
