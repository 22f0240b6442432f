#include "cmd/grpc_server_flags.h"

#include <CLI/CLI.hpp>

namespace paodin::cmd {

void AddGrpcServerFlags(CLI::App& sub, GrpcServerFlags& f, const std::string& address_help) {
  sub.add_option("--grpc-address", f.address, address_help)->capture_default_str();
  sub.add_option("--grpc-server-tls-cert", f.tls_cert,
                 "TLS Certificate for gRPC server, leave blank to disable TLS");
  sub.add_option("--grpc-server-tls-key", f.tls_key,
                 "TLS Key for the gRPC server, leave blank to disable TLS");
  sub.add_option("--grpc-server-tls-client-ca", f.tls_client_ca,
                 "TLS CA to verify clients against; when set, clients must present a certificate "
                 "it signed");
}

void ApplyGrpcServerFlags(const GrpcServerFlags& f, storeapi::StoreServerOptions* options) {
  options->address = f.address;
  options->tls.cert_file = f.tls_cert;
  options->tls.key_file = f.tls_key;
  options->tls.client_ca_file = f.tls_client_ca;
}

absl::Status CheckGrpcServerFlags(const GrpcServerFlags& f) {
  storeapi::StoreServerOptions options;
  ApplyGrpcServerFlags(f, &options);
  return storeapi::MakeServerCredentials(options.tls).status();
}

}  // namespace paodin::cmd
