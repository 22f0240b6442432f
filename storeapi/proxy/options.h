// Configuration of the StoreAPI proxy: process-wide options (filled by `paodin query` from its
// flags) and per-request options (filled by the HTTP handlers from `dedup`,
// `partial_response`, `replicaLabels[]`, `storeMatch[]` and the tenant header).
#ifndef PAODIN_STOREAPI_PROXY_OPTIONS_H_
#define PAODIN_STOREAPI_PROXY_OPTIONS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "engine/model/matcher.h"
#include "storeapi/client/store_client.h"

namespace paodin::storeapi {

class LabelCache;

// What a store failure does to a request.
enum class PartialResponseStrategy {
  // The failing store becomes a warning naming it; the query goes on without it.
  kWarn,
  // The query fails with an error naming the store.
  kAbort,
};

// How replicas of one series are combined after their replica labels are removed.
enum class DedupFunc {
  // Thanos' penalty algorithm: stick to one replica, switch only across gaps.
  kPenalty,
  // Prometheus' chained merge: every timestamp once, from any replica.
  kChain,
};

// Process-wide proxy options.
struct ProxyOptions {
  // --query.replica-label, already split on commas, sorted and unique (ParseReplicaLabels).
  std::vector<std::string> replica_labels;
  // --selector-label: the querier's own labels. A request whose matcher on one of these names
  // rejects its value gets an empty answer; matchers on these names are dropped before the
  // fan-out (a Series request left without matchers fails with InvalidArgument). Parse the
  // flags with ParseExternalLabels (storeapi/server/convert.h).
  engine::Labels selector_labels;
  // --deduplication.func.
  DedupFunc dedup_func = DedupFunc::kPenalty;
  // --deduplication.initial-penalty: the penalty before the first replica switch, in ms.
  int64_t initial_penalty_ms = 5000;
  // --query.partial-response (true = kWarn): strategy when a request does not say.
  PartialResponseStrategy default_partial_response = PartialResponseStrategy::kWarn;
  // --store.response-timeout: per-stream inactivity limit; zero disables it.
  std::chrono::milliseconds response_timeout{0};
  // --store.limits.request-series / request-samples: per Select; zero is unlimited.
  int64_t max_series_per_select = 0;
  int64_t max_samples_per_select = 0;
  // --query.timeout: bounds every Select.
  std::chrono::milliseconds query_timeout{std::chrono::minutes(2)};
  // --query.max-concurrent-select: Selects of one request that may fetch at once.
  int max_concurrent_select = 4;
  // Tenant sent to stores when a request names none (--query.default-tenant-id); empty sends
  // no tenant metadata.
  std::string default_tenant;
  // Per-store buffer of received, not yet merged series.
  size_t max_buffered_bytes_per_store = 4 << 20;
  // SeriesRequest.response_batch_size sent to stores (Thanos sends 64).
  int64_t response_batch_size = 64;
  // Told the duration and outcome of every call to a store (per-store metrics); may be null.
  std::shared_ptr<StoreRequestObserver> observer;
  // Reuses label answers of stores whose data is settled (label_cache.h); null asks every
  // store every time.
  std::shared_ptr<LabelCache> label_cache;
};

// Per-request options; unset fields take the process-wide defaults.
struct RequestOptions {
  // `dedup` parameter (default true); dedup only happens with replica labels.
  std::optional<bool> dedup;
  // `replicaLabels[]`: replaces --query.replica-label when present.
  std::optional<std::vector<std::string>> replica_labels;
  // `partial_response` parameter.
  std::optional<PartialResponseStrategy> partial_response;
  // `storeMatch[]`: the request goes only to stores whose address satisfies at least one of
  // these matcher sets (matchers on `__address__`; others are ignored). Empty: all stores.
  std::vector<std::vector<engine::Matcher>> store_matchers;
  // Tenant (THANOS-TENANT header); empty uses ProxyOptions::default_tenant.
  std::string tenant;
};

// Splits repeatable, comma-separated replica label flags into a sorted, unique list (empty
// items dropped), as Thanos' ParseFlagLabels. Fails with InvalidArgument on a name that is
// not a valid label name.
absl::StatusOr<std::vector<std::string>> ParseReplicaLabels(std::span<const std::string> flags);

// "penalty" or "chain"; InvalidArgument otherwise.
absl::StatusOr<DedupFunc> ParseDedupFunc(std::string_view name);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXY_OPTIONS_H_
