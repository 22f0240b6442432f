// The StoreAPI proxy: the engine's Queryable over every StoreAPI endpoint. A Select first checks
// its matchers against the querier's own --selector-label set (a mismatch is an empty answer;
// matchers on those names are not sent on), then picks the stores whose time range and
// external labels can answer it (and that storeMatch[] allows),
// opens one asynchronous Series stream per store, all at once, and merges them with a loser
// tree as frames arrive. The returned series hold merged compressed chunks; their sample
// iterators decode tile by tile, deduplicating replicas when replica labels are set.
//
//   Proxy proxy(endpoint_set, options);            // process-wide
//   auto q = proxy.ForRequest(request_options);    // per HTTP request
//   PAODIN_ASSIGN_OR_RETURN(auto set, q->Select(hints, matchers, ctx));
#ifndef PAODIN_STOREAPI_PROXY_PROXY_H_
#define PAODIN_STOREAPI_PROXY_PROXY_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/storage/queryable.h"
#include "storeapi/client/store_client.h"
#include "storeapi/proxy/options.h"

namespace paodin::storeapi {

// Result of a label call: sorted, unique values and the warnings of stores that failed
// (partial response WARN) or sent warnings.
struct LabelResult {
  std::vector<std::string> values;
  std::vector<std::string> warnings;
};

// The proxy. Thread-safe; one per process. Its series sets and sample iterators meet the
// engine's contract for several threads (engine/storage/queryable.h): Selects may run at once,
// iterators hold their series' chunks themselves (they outlive the set) and share only the
// Select's warning list, which is locked.
class Proxy : public engine::Queryable {
 public:
  // `stores` supplies the queryable endpoints at each call (the EndpointSet).
  Proxy(std::shared_ptr<const StoreProvider> stores, ProxyOptions options);
  ~Proxy() override;

  // A Queryable bound to one request's options (dedup, replica labels, partial response,
  // storeMatch[], tenant). It shares the proxy's stores; its Selects share one gate of
  // max_concurrent_select. Must not outlive the proxy.
  std::unique_ptr<engine::Queryable> ForRequest(RequestOptions request) const;

  // Queryable with default request options.
  absl::StatusOr<std::unique_ptr<engine::SeriesSet>> Select(
      const engine::SelectHints& hints, std::span<const engine::Matcher> matchers,
      const engine::QueryContext& ctx) override;
  absl::StatusOr<std::vector<std::string>> LabelNames(int64_t start_ms, int64_t end_ms,
                                                      std::span<const engine::Matcher> matchers,
                                                      const engine::QueryContext& ctx) override;
  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view name, int64_t start_ms,
                                                       int64_t end_ms,
                                                       std::span<const engine::Matcher> matchers,
                                                       const engine::QueryContext& ctx) override;

  // Label names of series matching `matchers` in [start_ms, end_ms] across the stores, with
  // warnings. Label calls send no replica labels (as Thanos), so replica labels are listed.
  absl::StatusOr<LabelResult> LabelNamesWithWarnings(const RequestOptions& request,
                                                     int64_t start_ms, int64_t end_ms,
                                                     std::span<const engine::Matcher> matchers,
                                                     int64_t limit,
                                                     const engine::QueryContext& ctx) const;

  // Values of label `name`, like LabelNamesWithWarnings.
  absl::StatusOr<LabelResult> LabelValuesWithWarnings(const RequestOptions& request,
                                                      std::string_view name, int64_t start_ms,
                                                      int64_t end_ms,
                                                      std::span<const engine::Matcher> matchers,
                                                      int64_t limit,
                                                      const engine::QueryContext& ctx) const;

  // The answers of LabelNamesWithWarnings / LabelValuesWithWarnings when no store has to be
  // asked: every selected store's answer is in the label cache (or none is selected). Nullopt
  // otherwise. Never waits, so a network thread may call it.
  std::optional<LabelResult> CachedLabelNames(const RequestOptions& request, int64_t start_ms,
                                              int64_t end_ms,
                                              std::span<const engine::Matcher> matchers,
                                              int64_t limit) const;
  std::optional<LabelResult> CachedLabelValues(const RequestOptions& request, std::string_view name,
                                               int64_t start_ms, int64_t end_ms,
                                               std::span<const engine::Matcher> matchers,
                                               int64_t limit) const;

  const ProxyOptions& options() const { return options_; }

 private:
  class RequestQueryable;

  std::shared_ptr<const StoreProvider> stores_;
  ProxyOptions options_;
  std::unique_ptr<RequestQueryable> default_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_PROXY_PROXY_H_
