// A handle on one StoreAPI endpoint: its gRPC channel and stubs, and what its last successful
// Info call said about it. The proxy asks a StoreProvider (the endpoint set, or a fixed list in
// tests) for the stores that may be queried right now.
#ifndef PAODIN_STOREAPI_CLIENT_STORE_CLIENT_H_
#define PAODIN_STOREAPI_CLIENT_STORE_CLIENT_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "proto/thanos/info.grpc.pb.h"
#include "proto/thanos/store.grpc.pb.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/labels.h"

namespace paodin::storeapi {

// Told the outcome of every call the query makes to a store, for per-store metrics. Called on
// gRPC threads, concurrently: implementations must be thread-safe and quick.
class StoreRequestObserver {
 public:
  virtual ~StoreRequestObserver() = default;

  // `method` is "Series", "LabelNames" or "LabelValues"; `seconds` runs from the start of the
  // call to its final status (CANCELLED when the query stopped reading early).
  virtual void Observe(std::string_view store, std::string_view method, double seconds,
                       const grpc::Status& status) = 0;
};

// gRPC metadata key that carries the tenant of a request, as Thanos sends it.
inline constexpr std::string_view kTenantMetadataKey = "thanos-tenant";

// Default max receive message size: far above gRPC's 4 MiB default, as Thanos (MaxInt32).
inline constexpr int kDefaultMaxRecvMessageBytes = std::numeric_limits<int32_t>::max();

// What an endpoint's last successful Info call said about it.
struct EndpointInfo {
  // Component type string ("sidecar", "store", "query", ...).
  std::string component_type;
  // External label sets, each sorted by name.
  std::vector<engine::Labels> label_sets;
  // True when the component exposes the StoreAPI (InfoResponse.store present).
  bool has_store_api = false;
  // Inclusive time range of the data, in ms.
  int64_t min_time = std::numeric_limits<int64_t>::min();
  int64_t max_time = std::numeric_limits<int64_t>::max();
  // The store strips SeriesRequest.without_replica_labels itself.
  bool supports_without_replica_labels = false;
  bool supports_sharding = false;
};

// Converts an Info response. Fails with InvalidArgument when a label set repeats a name.
absl::StatusOr<EndpointInfo> EndpointInfoFromProto(const thanos::info::InfoResponse& resp);

// Converts wire labels to a sorted label set (any input order; empty values dropped). Fails
// with InvalidArgument on a repeated name.
absl::StatusOr<engine::Labels> LabelsFromProto(
    const google::protobuf::RepeatedPtrField<thanos::Label>& labels);

// TLS of the client side of StoreAPI channels (Thanos' --grpc-client-tls-* flags).
struct ClientTlsOptions {
  // --grpc-client-tls-secure: connect with TLS. The other fields are ignored without it.
  bool secure = false;
  // --grpc-client-tls-cert / --grpc-client-tls-key: PEM files of the client certificate and its
  // key, presented to servers that ask for one. Both or neither.
  std::string cert_file;
  std::string key_file;
  // --grpc-client-tls-ca: PEM file of the CAs that sign server certificates; empty trusts the
  // system's roots.
  std::string ca_file;
  // --grpc-client-server-name: the name the server certificate must carry, instead of the
  // host of the endpoint address.
  std::string server_name;
  // --grpc-client-tls-skip-verify: accept any server certificate (no chain or name check).
  // gRPC 1.51's SslCredentials cannot do this; it uses the experimental TLS credentials API.
  bool skip_verify = false;
};

// Builds the channel credentials for `tls`: insecure ones unless `tls.secure`. Reads the PEM
// files now. Fails with InvalidArgument naming the file that cannot be read, or when only one
// of cert_file and key_file is given.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ClientTlsOptions& tls);

// Options of the gRPC channel to an endpoint.
struct ChannelOptions {
  // Largest message accepted from the endpoint.
  int max_recv_message_bytes = kDefaultMaxRecvMessageBytes;
  // Keepalive ping period while calls are active (never below 10 s: servers enforce it).
  int keepalive_time_ms = 10000;
  int keepalive_timeout_ms = 5000;
  // Credentials of the channel (MakeChannelCredentials); null means insecure.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // With TLS: the name to check the server certificate against instead of the address host
  // (ClientTlsOptions::server_name). Empty: the address host.
  std::string tls_server_name;
};

// Creates a channel to `address` ("host:port") with the given options (insecure unless
// options.credentials is set).
std::shared_ptr<grpc::Channel> MakeStoreChannel(std::string_view address,
                                                const ChannelOptions& options);

// The stubs of one endpoint. Thread-safe; shared by every request that uses the endpoint.
class StoreClient {
 public:
  // Wraps a channel to `address`.
  StoreClient(std::string address, std::shared_ptr<grpc::Channel> channel);

  // The endpoint address as configured or resolved ("10.0.0.1:10901").
  const std::string& address() const { return address_; }

  thanos::Store::Stub& store() { return *store_; }

  thanos::info::Info::Stub& info() { return *info_; }

  grpc::Channel& channel() { return *channel_; }

  // "/thanos.Store/Series" registered on channel(), for calls that read the frames without the
  // generated message (SeriesStream).
  const grpc::internal::RpcMethod& series_method() const { return series_method_; }

 private:
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  grpc::internal::RpcMethod series_method_;
  std::unique_ptr<thanos::Store::Stub> store_;
  std::unique_ptr<thanos::info::Info::Stub> info_;
};

// One queryable store: its client and its metadata at the time it was handed out.
struct StoreRef {
  std::shared_ptr<StoreClient> client;
  std::shared_ptr<const EndpointInfo> info;
};

// Where the proxy gets the stores that may be queried right now.
class StoreProvider {
 public:
  virtual ~StoreProvider() = default;

  // Healthy endpoints that expose the StoreAPI (plus strict ones), in a stable order.
  virtual std::vector<StoreRef> Stores() const = 0;
};

// A fixed list of stores, for tests and embedding.
class StaticStoreProvider : public StoreProvider {
 public:
  explicit StaticStoreProvider(std::vector<StoreRef> stores) : stores_(std::move(stores)) {}

  std::vector<StoreRef> Stores() const override { return stores_; }

 private:
  std::vector<StoreRef> stores_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_CLIENT_STORE_CLIENT_H_
