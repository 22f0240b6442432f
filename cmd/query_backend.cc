#include "cmd/query_backend.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "engine/util/status_macros.h"
#include "storeapi/proxy/label_cache.h"

namespace paodin::cmd {

struct QueryBackend::Metrics {
  prometheus::Counter* samples_scanned = nullptr;
  prometheus::Family<prometheus::Counter>* queries = nullptr;
  prometheus::Family<prometheus::Gauge>* connections = nullptr;
  prometheus::Family<prometheus::Gauge>* healthy = nullptr;
  prometheus::Counter* label_cache_hits = nullptr;
  prometheus::Counter* label_cache_misses = nullptr;
  prometheus::Gauge* label_cache_entries = nullptr;
  prometheus::Gauge* label_cache_bytes = nullptr;
  std::mutex mu;
  uint64_t label_cache_hits_seen = 0;
  uint64_t label_cache_misses_seen = 0;
  std::vector<prometheus::Gauge*> connection_gauges;
  std::vector<prometheus::Gauge*> healthy_gauges;
};

storeapi::RequestOptions ToRequestOptions(const http::QueryParams& params) {
  storeapi::RequestOptions r;
  r.dedup = params.dedup;
  r.replica_labels = params.replica_labels;
  r.partial_response = params.partial_response ? storeapi::PartialResponseStrategy::kWarn
                                               : storeapi::PartialResponseStrategy::kAbort;
  r.store_matchers = params.store_matchers;
  return r;
}

namespace {

storeapi::RequestOptions MetadataRequestOptions(const http::MetadataRequest& request,
                                                bool with_replicas) {
  storeapi::RequestOptions r;
  r.dedup = request.dedup;
  if (with_replicas) {
    r.replica_labels = request.replica_labels;
  } else {
    r.replica_labels = std::vector<std::string>{};
  }
  r.partial_response = request.partial_response ? storeapi::PartialResponseStrategy::kWarn
                                                : storeapi::PartialResponseStrategy::kAbort;
  r.store_matchers = request.store_matchers;
  return r;
}

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

void AppendUnique(std::vector<std::string>& out, std::vector<std::string> in) {
  for (std::string& s : in) {
    if (std::find(out.begin(), out.end(), s) == out.end()) {
      out.push_back(std::move(s));
    }
  }
}

// Label calls: one fan-out per match[] set (or one without matchers), merged. `call(set,
// options, limit)` gets the proxy's request options and limit (one more than the request's, so
// that the HTTP layer can warn of the truncation).
template <typename Call>
absl::StatusOr<http::StringsResult> MergeLabelCalls(const http::MetadataRequest& request,
                                                    Call call) {
  const storeapi::RequestOptions options = MetadataRequestOptions(request, false);
  const int64_t limit = request.limit > 0 ? request.limit + 1 : 0;
  http::StringsResult out;
  std::vector<http::MatcherSet> sets = request.matchers;
  if (sets.empty()) {
    sets.emplace_back();
  }
  for (const http::MatcherSet& set : sets) {
    PAODIN_ASSIGN_OR_RETURN(storeapi::LabelResult r, call(set, options, limit));
    out.values.insert(out.values.end(), std::make_move_iterator(r.values.begin()),
                      std::make_move_iterator(r.values.end()));
    AppendUnique(out.warnings, std::move(r.warnings));
  }
  SortUnique(out.values);
  return out;
}

// A proxy answer from the label cache as a status, for MergeLabelCalls.
absl::StatusOr<storeapi::LabelResult> AtHand(std::optional<storeapi::LabelResult> r) {
  if (!r.has_value())
    return absl::NotFoundError("not at hand");
  return *std::move(r);
}

std::optional<http::StringsResult> OkOrNothing(absl::StatusOr<http::StringsResult> r) {
  if (!r.ok())
    return std::nullopt;
  return *std::move(r);
}

}  // namespace

engine::QueryOptions ToQueryOptions(int64_t lookback_delta_ms, const engine::QueryContext& ctx) {
  engine::QueryOptions o;
  o.lookback_delta_ms = lookback_delta_ms;
  o.cancel = ctx.cancelled;
  if (ctx.deadline_steady_ms != 0) {
    o.timeout_ms = std::max<int64_t>(1, ctx.deadline_steady_ms - engine::NowSteadyMs());
  }
  return o;
}

QueryBackend::QueryBackend(const storeapi::Proxy* proxy, const storeapi::EndpointSet* endpoints,
                           QueryBackendOptions options)
    : proxy_(proxy),
      endpoints_(endpoints),
      options_(std::move(options)),
      engine_(options_.engine),
      metrics_(std::make_unique<Metrics>()) {
  if (options_.registry) {
    prometheus::Registry& reg = *options_.registry;
    metrics_->samples_scanned = &prometheus::BuildCounter()
                                     .Name("paodin_query_samples_scanned_total")
                                     .Help("Samples read from stores by PromQL evaluation")
                                     .Register(reg)
                                     .Add({});
    metrics_->queries = &prometheus::BuildCounter()
                             .Name("paodin_query_queries_total")
                             .Help("PromQL queries evaluated, by type and outcome")
                             .Register(reg);
    metrics_->connections =
        &prometheus::BuildGauge()
             .Name("paodin_store_nodes_grpc_connections")
             .Help("Number of queryable StoreAPI endpoints, by external labels and store type")
             .Register(reg);
    metrics_->healthy = &prometheus::BuildGauge()
                             .Name("paodin_store_node_healthy")
                             .Help("1 when the endpoint's last Info call succeeded, else 0")
                             .Register(reg);
    metrics_->label_cache_hits =
        &prometheus::BuildCounter()
             .Name("paodin_query_label_cache_hits_total")
             .Help("Label names/values answers of a store taken from the label cache")
             .Register(reg)
             .Add({});
    metrics_->label_cache_misses =
        &prometheus::BuildCounter()
             .Name("paodin_query_label_cache_misses_total")
             .Help("Label cache lookups for a settled store that found no valid answer")
             .Register(reg)
             .Add({});
    metrics_->label_cache_entries = &prometheus::BuildGauge()
                                         .Name("paodin_query_label_cache_entries")
                                         .Help("Answers held by the label cache")
                                         .Register(reg)
                                         .Add({});
    metrics_->label_cache_bytes = &prometheus::BuildGauge()
                                       .Name("paodin_query_label_cache_bytes")
                                       .Help("Bytes held by the label cache")
                                       .Register(reg)
                                       .Add({});
  }
}

QueryBackend::~QueryBackend() = default;

absl::StatusOr<http::QueryResult> QueryBackend::Finish(absl::StatusOr<http::QueryResult> result,
                                                       bool range) {
  if (metrics_->queries != nullptr) {
    metrics_->queries
        ->Add(
            {{"type", range ? "range" : "instant"}, {"result", result.ok() ? "success" : "error"}})
        .Increment();
    if (result.ok()) {
      metrics_->samples_scanned->Increment(static_cast<double>(result->stats.samples_scanned));
    }
  }
  return result;
}

absl::StatusOr<http::QueryResult> QueryBackend::InstantQuery(
    const http::InstantQueryRequest& request, const engine::QueryContext& ctx) {
  std::unique_ptr<engine::Queryable> q = proxy_->ForRequest(ToRequestOptions(request.params));
  return Finish(engine_.InstantQuery(*q, request.params.query, request.time_ms,
                                     ToQueryOptions(request.params.lookback_delta_ms, ctx)),
                false);
}

absl::StatusOr<http::QueryResult> QueryBackend::RangeQuery(const http::RangeQueryRequest& request,
                                                           const engine::QueryContext& ctx) {
  std::unique_ptr<engine::Queryable> q = proxy_->ForRequest(ToRequestOptions(request.params));
  return Finish(
      engine_.RangeQuery(*q, request.params.query, request.start_ms, request.end_ms,
                         request.step_ms, ToQueryOptions(request.params.lookback_delta_ms, ctx)),
      true);
}

absl::StatusOr<http::SeriesResult> QueryBackend::Series(const http::MetadataRequest& request,
                                                        const engine::QueryContext& ctx) {
  std::unique_ptr<engine::Queryable> q =
      proxy_->ForRequest(MetadataRequestOptions(request, /*with_replicas=*/true));
  engine::SelectHints hints;
  hints.start_ms = request.start_ms;
  hints.end_ms = request.end_ms;
  hints.func = "series";
  // Each set's series come sorted, so with a limit the first limit+1 of each set suffice to
  // find the first limit+1 of the union (one more than the limit, so the caller warns).
  const size_t keep = request.limit > 0 ? static_cast<size_t>(request.limit) + 1 : 0;
  http::SeriesResult out;
  for (const http::MatcherSet& set : request.matchers) {
    PAODIN_ASSIGN_OR_RETURN(std::unique_ptr<engine::SeriesSet> ss, q->Select(hints, set, ctx));
    size_t n = 0;
    while ((keep == 0 || n < keep) && ss->Next()) {
      out.series.push_back(ss->labels());
      ++n;
    }
    if (keep == 0 || n < keep) {
      PAODIN_RETURN_IF_ERROR(ss->status());
    }
    AppendUnique(out.warnings, ss->warnings());
  }
  std::sort(out.series.begin(), out.series.end());
  out.series.erase(std::unique(out.series.begin(), out.series.end()), out.series.end());
  if (keep > 0 && out.series.size() > keep) {
    out.series.resize(keep);
  }
  return out;
}

absl::StatusOr<http::StringsResult> QueryBackend::LabelNames(const http::MetadataRequest& request,
                                                             const engine::QueryContext& ctx) {
  return MergeLabelCalls(request, [&](const http::MatcherSet& set,
                                      const storeapi::RequestOptions& ro, int64_t limit) {
    return proxy_->LabelNamesWithWarnings(ro, request.start_ms, request.end_ms, set, limit, ctx);
  });
}

absl::StatusOr<http::StringsResult> QueryBackend::LabelValues(std::string_view name,
                                                              const http::MetadataRequest& request,
                                                              const engine::QueryContext& ctx) {
  return MergeLabelCalls(
      request, [&](const http::MatcherSet& set, const storeapi::RequestOptions& ro, int64_t limit) {
        return proxy_->LabelValuesWithWarnings(ro, name, request.start_ms, request.end_ms, set,
                                               limit, ctx);
      });
}

std::optional<http::StringsResult> QueryBackend::LabelNamesAtHand(
    const http::MetadataRequest& request) {
  return OkOrNothing(MergeLabelCalls(
      request, [&](const http::MatcherSet& set, const storeapi::RequestOptions& ro, int64_t limit) {
        return AtHand(proxy_->CachedLabelNames(ro, request.start_ms, request.end_ms, set, limit));
      }));
}

std::optional<http::StringsResult> QueryBackend::LabelValuesAtHand(
    std::string_view name, const http::MetadataRequest& request) {
  return OkOrNothing(MergeLabelCalls(
      request, [&](const http::MatcherSet& set, const storeapi::RequestOptions& ro, int64_t limit) {
        return AtHand(
            proxy_->CachedLabelValues(ro, name, request.start_ms, request.end_ms, set, limit));
      }));
}

std::vector<http::EndpointStatus> QueryBackend::Stores() {
  std::vector<http::EndpointStatus> out;
  if (endpoints_ == nullptr) {
    return out;
  }
  for (storeapi::EndpointStatus& s : endpoints_->Status()) {
    http::EndpointStatus e;
    e.name = std::move(s.name);
    e.component_type = std::move(s.component_type);
    e.last_check = s.last_check_ms == 0 ? absl::UnixEpoch() : absl::FromUnixMillis(s.last_check_ms);
    e.last_error = std::move(s.last_error);
    e.label_sets = std::move(s.label_sets);
    e.min_time = s.min_time;
    e.max_time = s.max_time;
    out.push_back(std::move(e));
  }
  return out;
}

bool QueryBackend::Ready() { return endpoints_ == nullptr || endpoints_->Ready(); }

void QueryBackend::UpdateStoreMetrics() {
  if (metrics_->connections == nullptr) {
    return;
  }
  if (const storeapi::LabelCache* cache = proxy_->options().label_cache.get()) {
    std::lock_guard<std::mutex> lock(metrics_->mu);
    const uint64_t hits = cache->hits();
    const uint64_t misses = cache->misses();
    metrics_->label_cache_hits->Increment(
        static_cast<double>(hits - metrics_->label_cache_hits_seen));
    metrics_->label_cache_misses->Increment(
        static_cast<double>(misses - metrics_->label_cache_misses_seen));
    metrics_->label_cache_hits_seen = hits;
    metrics_->label_cache_misses_seen = misses;
    metrics_->label_cache_entries->Set(static_cast<double>(cache->entries()));
    metrics_->label_cache_bytes->Set(static_cast<double>(cache->bytes()));
  }
  if (endpoints_ == nullptr) {
    return;
  }
  std::map<std::pair<std::string, std::string>, int> connections;
  std::vector<std::pair<std::map<std::string, std::string>, bool>> health;
  for (const storeapi::EndpointStatus& s : endpoints_->Status()) {
    std::string labels;
    for (const engine::Labels& ls : s.label_sets) {
      labels += (labels.empty() ? "" : ",") + ls.ToString();
    }
    if (s.queryable) {
      ++connections[{labels, s.component_type}];
    }
    health.push_back({{{"address", s.name}, {"store_type", s.component_type}}, s.queryable});
  }
  std::lock_guard<std::mutex> lock(metrics_->mu);
  for (prometheus::Gauge* g : metrics_->connection_gauges) {
    metrics_->connections->Remove(g);
  }
  for (prometheus::Gauge* g : metrics_->healthy_gauges) {
    metrics_->healthy->Remove(g);
  }
  metrics_->connection_gauges.clear();
  metrics_->healthy_gauges.clear();
  for (const auto& [key, n] : connections) {
    prometheus::Gauge& g =
        metrics_->connections->Add({{"external_labels", key.first}, {"store_type", key.second}});
    g.Set(n);
    metrics_->connection_gauges.push_back(&g);
  }
  for (const auto& [labels, ok] : health) {
    prometheus::Gauge& g = metrics_->healthy->Add(labels);
    g.Set(ok ? 1 : 0);
    metrics_->healthy_gauges.push_back(&g);
  }
}

}  // namespace paodin::cmd
