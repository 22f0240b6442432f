#include "cmd/query_flags.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "absl/strings/str_join.h"
#include "engine/model/time.h"
#include "engine/util/strings.h"
#include "storeapi/client/store_client.h"
#include "storeapi/proxy/label_cache.h"
#include "storeapi/proxy/options.h"
#include "storeapi/server/convert.h"
#include "storeapi/server/server.h"

namespace paodin::cmd {
namespace {

absl::Status FlagError(std::string_view flag, const absl::Status& st) {
  return absl::InvalidArgumentError(fmt::format("invalid --{}: {}", flag, ToStd(st.message())));
}

absl::StatusOr<int64_t> Duration(std::string_view flag, std::string_view value) {
  absl::StatusOr<int64_t> ms = engine::ParseDuration(value);
  if (!ms.ok()) {
    return FlagError(flag, ms.status());
  }
  return *ms;
}

// "" -> "", "x" -> "/x", "/x/" -> "/x".
std::string NormalizePrefix(std::string p) {
  if (p.empty()) {
    return p;
  }
  if (p[0] != '/') {
    p.insert(p.begin(), '/');
  }
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  return p == "/" ? "" : p;
}

// The path of an external prefix that may be a full URL ("http://host/thanos" -> "/thanos").
std::string PathOf(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return std::string(url);
  }
  const size_t slash = url.find('/', scheme + 3);
  return slash == std::string_view::npos ? "" : std::string(url.substr(slash));
}

}  // namespace

storeapi::ClientTlsOptions ClientTlsFromFlags(const QueryFlags& f) {
  storeapi::ClientTlsOptions tls;
  tls.secure = f.grpc_client_tls_secure;
  tls.skip_verify = f.grpc_client_tls_skip_verify;
  tls.cert_file = f.grpc_client_tls_cert;
  tls.key_file = f.grpc_client_tls_key;
  tls.ca_file = f.grpc_client_tls_ca;
  tls.server_name = f.grpc_client_server_name;
  return tls;
}

std::vector<std::string> IgnoredClientTlsFlags(const QueryFlags& f) {
  std::vector<std::string> out;
  if (f.grpc_client_tls_secure) {
    return out;
  }
  for (const auto& [flag, set] :
       {std::pair<const char*, bool>{"--grpc-client-tls-skip-verify",
                                     f.grpc_client_tls_skip_verify},
        {"--grpc-client-tls-cert", !f.grpc_client_tls_cert.empty()},
        {"--grpc-client-tls-key", !f.grpc_client_tls_key.empty()},
        {"--grpc-client-tls-ca", !f.grpc_client_tls_ca.empty()},
        {"--grpc-client-server-name", !f.grpc_client_server_name.empty()}}) {
    if (set) {
      out.emplace_back(flag);
    }
  }
  return out;
}

absl::StatusOr<QueryConfig> ResolveQueryFlags(const QueryFlags& f) {
  QueryConfig c;
  c.http_address = f.http_address;
  c.grpc_address = f.grpc_address;
  if (c.http_address.empty()) {
    return absl::InvalidArgumentError("invalid --http-address: empty address");
  }
  for (const auto& [flag, value] :
       {std::pair<std::string_view, std::string_view>{"http-grace-period", f.http_grace_period},
        {"grpc-grace-period", f.grpc_grace_period},
        {"store.sd-interval", f.store_sd_interval},
        {"store.sd-dns-interval", f.store_sd_dns_interval}}) {
    if (absl::StatusOr<int64_t> d = Duration(flag, value); !d.ok()) {
      return d.status();
    }
  }

  c.endpoints.endpoints = f.stores;
  c.endpoints.endpoints.insert(c.endpoints.endpoints.end(), f.endpoints.begin(), f.endpoints.end());
  c.endpoints.strict_endpoints = f.strict_endpoints;
  c.endpoints.tls = ClientTlsFromFlags(f);
  // The files are read here so a bad path fails at start; the endpoint set reads them again.
  if (absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
          storeapi::MakeChannelCredentials(c.endpoints.tls);
      !creds.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("invalid gRPC client TLS: {}", ToStd(creds.status().message())));
  }
  c.grpc_server_tls.cert_file = f.grpc_server_tls_cert;
  c.grpc_server_tls.key_file = f.grpc_server_tls_key;
  c.grpc_server_tls.client_ca_file = f.grpc_server_tls_client_ca;
  if (absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
          storeapi::MakeServerCredentials(c.grpc_server_tls);
      !creds.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("invalid gRPC server TLS: {}", ToStd(creds.status().message())));
  }
  c.endpoints.sd_files = f.store_sd_files;
  absl::StatusOr<int64_t> unhealthy =
      Duration("store.unhealthy-timeout", f.store_unhealthy_timeout);
  if (!unhealthy.ok()) {
    return unhealthy.status();
  }
  c.endpoints.unhealthy_timeout = std::chrono::milliseconds(*unhealthy);

  absl::StatusOr<std::vector<std::string>> replicas =
      storeapi::ParseReplicaLabels(f.replica_labels);
  if (!replicas.ok()) {
    return FlagError("query.replica-label", replicas.status());
  }
  c.proxy.replica_labels = *replicas;
  absl::StatusOr<storeapi::DedupFunc> func = storeapi::ParseDedupFunc(f.deduplication_func);
  if (!func.ok()) {
    return FlagError("deduplication.func", func.status());
  }
  c.proxy.dedup_func = *func;
  absl::StatusOr<int64_t> penalty =
      Duration("deduplication.initial-penalty", f.dedup_initial_penalty);
  if (!penalty.ok()) {
    return penalty.status();
  }
  c.proxy.initial_penalty_ms = *penalty;
  c.proxy.default_partial_response = f.partial_response ? storeapi::PartialResponseStrategy::kWarn
                                                        : storeapi::PartialResponseStrategy::kAbort;
  absl::StatusOr<int64_t> response_timeout =
      Duration("store.response-timeout", f.store_response_timeout);
  if (!response_timeout.ok()) {
    return response_timeout.status();
  }
  c.proxy.response_timeout = std::chrono::milliseconds(*response_timeout);
  if (f.store_limits_request_series < 0 || f.store_limits_request_samples < 0) {
    return absl::InvalidArgumentError("invalid --store.limits.*: must not be negative");
  }
  c.proxy.max_series_per_select = f.store_limits_request_series;
  c.proxy.max_samples_per_select = f.store_limits_request_samples;
  absl::StatusOr<int64_t> timeout = Duration("query.timeout", f.query_timeout);
  if (!timeout.ok()) {
    return timeout.status();
  }
  if (*timeout <= 0) {
    return absl::InvalidArgumentError("invalid --query.timeout: must be positive");
  }
  c.proxy.query_timeout = std::chrono::milliseconds(*timeout);
  if (f.max_concurrent_select < 1) {
    return absl::InvalidArgumentError("invalid --query.max-concurrent-select: must be at least 1");
  }
  c.proxy.max_concurrent_select = f.max_concurrent_select;
  absl::StatusOr<int64_t> label_cache_ttl = Duration("query.label-cache-ttl", f.label_cache_ttl);
  if (!label_cache_ttl.ok()) {
    return label_cache_ttl.status();
  }
  if (*label_cache_ttl > 0) {
    storeapi::LabelCacheOptions cache;
    cache.ttl = std::chrono::milliseconds(*label_cache_ttl);
    c.proxy.label_cache = std::make_shared<storeapi::LabelCache>(cache);
  }

  c.engine.timeout_ms = *timeout;
  if (!f.lookback_delta.empty()) {
    absl::StatusOr<int64_t> lookback = Duration("query.lookback-delta", f.lookback_delta);
    if (!lookback.ok()) {
      return lookback.status();
    }
    if (*lookback > 0) {
      c.engine.lookback_delta_ms = *lookback;
    }
  }
  absl::StatusOr<int64_t> eval =
      Duration("query.default-evaluation-interval", f.default_evaluation_interval);
  if (!eval.ok()) {
    return eval.status();
  }
  if (*eval <= 0) {
    return absl::InvalidArgumentError(
        "invalid --query.default-evaluation-interval: must be positive");
  }
  c.engine.default_eval_interval_ms = *eval;
  if (f.max_samples <= 0) {
    return absl::InvalidArgumentError("invalid --query.max-samples: must be positive");
  }
  c.engine.max_samples = f.max_samples;
  c.engine.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  if (f.max_concurrent < 1) {
    return absl::InvalidArgumentError("invalid --query.max-concurrent: must be at least 1");
  }
  c.max_concurrent = f.max_concurrent;
  absl::StatusOr<int64_t> step = Duration("query.default-step", f.default_step);
  if (!step.ok()) {
    return step.status();
  }
  if (*step <= 0) {
    return absl::InvalidArgumentError("invalid --query.default-step: must be positive");
  }
  c.defaults.default_step_ms = *step;
  c.defaults.replica_labels = c.proxy.replica_labels;
  c.defaults.partial_response = f.partial_response;
  c.defaults.query_timeout_ms = *timeout;

  absl::StatusOr<engine::Labels> selectors = storeapi::ParseExternalLabels(f.selector_labels);
  if (!selectors.ok()) {
    return FlagError("selector-label", selectors.status());
  }
  c.selector_labels = *selectors;
  c.route_prefix = NormalizePrefix(f.web_route_prefix.empty() ? PathOf(f.web_external_prefix)
                                                              : f.web_route_prefix);
  c.disable_cors = f.web_disable_cors;
  c.flags = QueryFlagValues(f);
  return c;
}

std::vector<std::pair<std::string, std::string>> QueryFlagValues(const QueryFlags& f) {
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  auto list = [](const std::vector<std::string>& v) { return absl::StrJoin(v, ","); };
  std::vector<std::pair<std::string, std::string>> out = {
      {"http-address", f.http_address},
      {"http-grace-period", f.http_grace_period},
      {"grpc-address", f.grpc_address},
      {"grpc-grace-period", f.grpc_grace_period},
      {"grpc-server-tls-cert", f.grpc_server_tls_cert},
      {"grpc-server-tls-key", f.grpc_server_tls_key},
      {"grpc-server-tls-client-ca", f.grpc_server_tls_client_ca},
      {"grpc-client-tls-secure", b(f.grpc_client_tls_secure)},
      {"grpc-client-tls-skip-verify", b(f.grpc_client_tls_skip_verify)},
      {"grpc-client-tls-cert", f.grpc_client_tls_cert},
      {"grpc-client-tls-key", f.grpc_client_tls_key},
      {"grpc-client-tls-ca", f.grpc_client_tls_ca},
      {"grpc-client-server-name", f.grpc_client_server_name},
      {"store", list(f.stores)},
      {"endpoint", list(f.endpoints)},
      {"endpoint-strict", list(f.strict_endpoints)},
      {"store.sd-files", list(f.store_sd_files)},
      {"store.sd-interval", f.store_sd_interval},
      {"store.sd-dns-interval", f.store_sd_dns_interval},
      {"store.response-timeout", f.store_response_timeout},
      {"store.unhealthy-timeout", f.store_unhealthy_timeout},
      {"store.limits.request-series", std::to_string(f.store_limits_request_series)},
      {"store.limits.request-samples", std::to_string(f.store_limits_request_samples)},
      {"query.replica-label", list(f.replica_labels)},
      {"deduplication.func", f.deduplication_func},
      {"deduplication.initial-penalty", f.dedup_initial_penalty},
      {"query.timeout", f.query_timeout},
      {"query.max-concurrent", std::to_string(f.max_concurrent)},
      {"query.max-concurrent-select", std::to_string(f.max_concurrent_select)},
      {"query.lookback-delta", f.lookback_delta},
      {"query.partial-response", b(f.partial_response)},
      {"query.default-step", f.default_step},
      {"query.default-evaluation-interval", f.default_evaluation_interval},
      {"query.max-samples", std::to_string(f.max_samples)},
      {"query.label-cache-ttl", f.label_cache_ttl},
      {"selector-label", list(f.selector_labels)},
      {"web.route-prefix", f.web_route_prefix},
      {"web.external-prefix", f.web_external_prefix},
      {"web.disable-cors", b(f.web_disable_cors)},
      {"log.level", f.log_level},
      {"log.format", f.log_format},
  };
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace paodin::cmd
