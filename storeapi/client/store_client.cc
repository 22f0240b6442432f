#include "storeapi/client/store_client.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "engine/util/strings.h"

namespace paodin::storeapi {
namespace {

absl::StatusOr<std::string> ReadPemFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(fmt::format("cannot read TLS {} file {}", what, path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::InvalidArgumentError(fmt::format("cannot read TLS {} file {}", what, path));
  }
  return out.str();
}

}  // namespace

absl::StatusOr<engine::Labels> LabelsFromProto(
    const google::protobuf::RepeatedPtrField<thanos::Label>& labels) {
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(labels.size());
  for (const thanos::Label& l : labels)
    pairs.emplace_back(l.name(), l.value());
  return engine::Labels::FromPairs(std::move(pairs));
}

absl::StatusOr<EndpointInfo> EndpointInfoFromProto(const thanos::info::InfoResponse& resp) {
  EndpointInfo info;
  info.component_type = resp.componenttype();
  for (const thanos::ZLabelSet& set : resp.label_sets()) {
    auto labels = LabelsFromProto(set.labels());
    if (!labels.ok()) {
      return absl::InvalidArgumentError(
          fmt::format("invalid external label set: {}", ToStd(labels.status().message())));
    }
    info.label_sets.push_back(*std::move(labels));
  }
  if (resp.has_store()) {
    info.has_store_api = true;
    info.min_time = resp.store().min_time();
    info.max_time = resp.store().max_time();
    info.supports_without_replica_labels = resp.store().supports_without_replica_labels();
    info.supports_sharding = resp.store().supports_sharding();
  }
  return info;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& tls) {
  if (!tls.secure)
    return grpc::InsecureChannelCredentials();
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "both a client TLS certificate (--grpc-client-tls-cert) and its key "
        "(--grpc-client-tls-key) are needed, or neither");
  }
  std::string ca, cert, key;
  if (!tls.ca_file.empty()) {
    auto read = ReadPemFile(tls.ca_file, "CA");
    if (!read.ok())
      return read.status();
    ca = *std::move(read);
  }
  if (!tls.cert_file.empty()) {
    auto read_cert = ReadPemFile(tls.cert_file, "certificate");
    if (!read_cert.ok())
      return read_cert.status();
    auto read_key = ReadPemFile(tls.key_file, "key");
    if (!read_key.ok())
      return read_key.status();
    cert = *std::move(read_cert);
    key = *std::move(read_key);
  }
  if (!tls.skip_verify) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca;  // empty: gRPC's default roots
    ssl.pem_private_key = key;
    ssl.pem_cert_chain = cert;
    return grpc::SslCredentials(ssl);
  }
  // SslCredentials always verifies the server; the experimental TLS credentials (present in
  // gRPC 1.51) can turn verification off.
  grpc::experimental::TlsChannelCredentialsOptions options;
  std::vector<grpc::experimental::IdentityKeyCertPair> identity;
  if (!cert.empty())
    identity.push_back({key, cert});
  if (!ca.empty() || !identity.empty()) {
    options.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(ca, identity));
    if (!ca.empty())
      options.watch_root_certs();
    if (!identity.empty())
      options.watch_identity_key_cert_pairs();
  }
  options.set_verify_server_certs(false);
  options.set_check_call_host(false);
  options.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::experimental::TlsCredentials(options);
  if (creds == nullptr) {
    return absl::InvalidArgumentError(
        "this gRPC build cannot skip TLS verification (--grpc-client-tls-skip-verify)");
  }
  return creds;
}

std::shared_ptr<grpc::Channel> MakeStoreChannel(std::string_view address,
                                                const ChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_recv_message_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms);
  // Each endpoint gets its own connection even when two resolve to one address.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (options.credentials != nullptr && !options.tls_server_name.empty())
    args.SetSslTargetNameOverride(options.tls_server_name);
  return grpc::CreateCustomChannel(
      std::string(address),
      options.credentials != nullptr ? options.credentials : grpc::InsecureChannelCredentials(),
      args);
}

StoreClient::StoreClient(std::string address, std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)),
      channel_(std::move(channel)),
      series_method_("/thanos.Store/Series", grpc::internal::RpcMethod::SERVER_STREAMING, channel_),
      store_(thanos::Store::NewStub(channel_)),
      info_(thanos::info::Info::NewStub(channel_)) {}

}  // namespace paodin::storeapi
