// The flags of `paodin query` (Thanos Query's names and defaults) and their translation into a
// QueryConfig.
#ifndef PAODIN_CMD_QUERY_FLAGS_H_
#define PAODIN_CMD_QUERY_FLAGS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "cmd/query_service.h"
#include "storeapi/client/store_client.h"

namespace paodin::cmd {

// Raw flag values as CLI11 fills them.
struct QueryFlags {
  std::string http_address = "0.0.0.0:10902";
  std::string http_grace_period = "2m";
  std::string grpc_address = "0.0.0.0:10901";
  std::string grpc_grace_period = "2m";
  std::string grpc_server_tls_cert;
  std::string grpc_server_tls_key;
  std::string grpc_server_tls_client_ca;
  bool grpc_client_tls_secure = false;
  bool grpc_client_tls_skip_verify = false;
  std::string grpc_client_tls_cert;
  std::string grpc_client_tls_key;
  std::string grpc_client_tls_ca;
  std::string grpc_client_server_name;
  std::vector<std::string> stores;
  std::vector<std::string> endpoints;
  std::vector<std::string> strict_endpoints;
  std::vector<std::string> store_sd_files;
  std::string store_sd_interval = "5m";
  std::string store_sd_dns_interval = "30s";
  std::string store_response_timeout = "0ms";
  std::string store_unhealthy_timeout = "5m";
  int64_t store_limits_request_series = 0;
  int64_t store_limits_request_samples = 0;
  std::vector<std::string> replica_labels;
  std::string deduplication_func = "penalty";
  std::string dedup_initial_penalty = "5s";
  std::string query_timeout = "2m";
  int max_concurrent = 20;
  int max_concurrent_select = 4;
  std::string lookback_delta;
  bool partial_response = true;
  std::string default_step = "1s";
  std::string default_evaluation_interval = "1m";
  int64_t max_samples = 50000000;
  std::string label_cache_ttl = "1m";
  std::vector<std::string> selector_labels;
  std::string web_route_prefix;
  std::string web_external_prefix;
  bool web_disable_cors = false;
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

// Validates the flags and builds the configuration. Fails with InvalidArgument naming the flag
// (`invalid --query.timeout: not a valid duration string: "x"`). The TLS files are read now, so
// a missing file or a certificate without its key fails here, naming the flag or file.
absl::StatusOr<QueryConfig> ResolveQueryFlags(const QueryFlags& flags);

// The client TLS of the StoreAPI channels from --grpc-client-tls-* and --grpc-client-server-name.
storeapi::ClientTlsOptions ClientTlsFromFlags(const QueryFlags& flags);

// The client TLS flags that are set but have no effect because --grpc-client-tls-secure is not
// (as in Thanos, they are then ignored), for a warning at start.
std::vector<std::string> IgnoredClientTlsFlags(const QueryFlags& flags);

// Flag name (without "--") to value, sorted by name, for /api/v1/status/flags.
std::vector<std::pair<std::string, std::string>> QueryFlagValues(const QueryFlags& flags);

}  // namespace paodin::cmd

#endif  // PAODIN_CMD_QUERY_FLAGS_H_
