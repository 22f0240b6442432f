// The narrow interface between the HTTP API and the rest of `paodin query`: cmd/ implements
// ApiBackend by wiring the PromQL engine and the StoreAPI proxy; tests use fakes. The HTTP
// layer parses and validates every parameter, so a backend receives ready values.
#ifndef PAODIN_HTTP_BACKEND_H_
#define PAODIN_HTTP_BACKEND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/exec/engine.h"
#include "engine/model/labels.h"
#include "engine/model/matcher.h"
#include "engine/storage/queryable.h"

namespace paodin::http {

// One label matcher set, from one `match[]` or `storeMatch[]` selector.
using MatcherSet = std::vector<engine::Matcher>;

// What the query endpoints share, resolved from the request and the flag defaults.
struct QueryParams {
  // The PromQL expression, as sent (the backend parses it).
  std::string query;
  // Thanos `dedup` (default true).
  bool dedup = true;
  // `replicaLabels[]` when given, otherwise --query.replica-label.
  std::vector<std::string> replica_labels;
  // `storeMatch[]`: only stores whose __address__ matches one of the sets are queried; empty
  // means every store.
  std::vector<MatcherSet> store_matchers;
  // `partial_response`, default --query.partial-response: true turns store failures into
  // warnings, false fails the query.
  bool partial_response = true;
  // `max_source_resolution` in ms (0 = raw data only; downsampled data is not served anyway).
  int64_t max_source_resolution_ms = 0;
  // `lookback_delta` in ms, or 0 for the engine's default (--query.lookback-delta or 5m).
  int64_t lookback_delta_ms = 0;
  // `engine`: "prometheus" or "thanos" (accepted; one engine serves both).
  std::string engine = "prometheus";
  // `stats` was given: fill QueryResult::stats.
  bool stats = false;
};

// /api/v1/query.
struct InstantQueryRequest {
  QueryParams params;
  // Evaluation time in ms.
  int64_t time_ms = 0;
};

// /api/v1/query_range. REQUIRES: start_ms <= end_ms, step_ms > 0.
struct RangeQueryRequest {
  QueryParams params;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t step_ms = 0;
};

// Query results are the engine's own types (engine/exec/engine.h): the type, the series
// (labels plus columns of timestamps and values; a vector element has exactly one point),
// scalar / string value with its time, warnings and statistics.
using ResultType = engine::ResultType;
using ResultSeries = engine::ResultSeries;
using QueryResult = engine::QueryResult;

// /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values.
struct MetadataRequest {
  // The union of these selectors (`match[]`); empty = every series (labels and values only).
  std::vector<MatcherSet> matchers;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // Thanos `dedup` and replica labels (series only; labels and values query with no replica
  // labels, as Thanos does).
  bool dedup = true;
  std::vector<std::string> replica_labels;
  std::vector<MatcherSet> store_matchers;
  bool partial_response = true;
  // `limit`; 0 = none. The HTTP layer truncates and warns, a backend may stop early.
  int64_t limit = 0;
};

// Series label sets, sorted and unique, plus warnings.
struct SeriesResult {
  std::vector<engine::Labels> series;
  std::vector<std::string> warnings;
};

// Sorted unique label names or values, plus warnings.
struct StringsResult {
  std::vector<std::string> values;
  std::vector<std::string> warnings;
};

// One metric's metadata entry for /api/v1/metadata.
struct MetricMetadata {
  std::string type;  // counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown
  std::string help;
  std::string unit;
};

// One StoreAPI endpoint in /api/v1/stores (Thanos EndpointStatus).
struct EndpointStatus {
  // The address, e.g. "prom-0-sidecar:10901".
  std::string name;
  // Component type: "sidecar", "store", "rule", "receive", "query", ...; endpoints whose type
  // is unknown yet ("") are left out, as Thanos does.
  std::string component_type;
  absl::Time last_check;
  // Empty when the last check succeeded.
  std::optional<std::string> last_error;
  std::vector<engine::Labels> label_sets;
  int64_t min_time = 0;
  int64_t max_time = 0;
};

// /api/v1/status/buildinfo: six strings; never a `features` field (Grafana would take us for
// Mimir).
struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version;
};

// The data side of the API. Every method may block (it runs on a worker thread, never on a
// network thread) and must honour `ctx`: return Cancelled when *ctx.cancelled becomes true
// (the client went away) and DeadlineExceeded past ctx.deadline_steady_ms.
//
// Error contract for the query methods: InvalidArgument means the expression itself is
// invalid (parse error, answered as bad_data `invalid parameter "query": <message>`, so the
// message is the parser's "1:5: parse error: ..."); Cancelled -> canceled; DeadlineExceeded ->
// timeout (message e.g. "query timed out in expression evaluation"); Internal, Unavailable and
// DataLoss are storage failures -> internal; any other code is an evaluation failure ->
// execution (422).
class ApiBackend {
 public:
  virtual ~ApiBackend() = default;

  // Evaluates an instant query.
  virtual absl::StatusOr<QueryResult> InstantQuery(const InstantQueryRequest& request,
                                                   const engine::QueryContext& ctx) = 0;

  // Evaluates a range query; the result is a matrix.
  virtual absl::StatusOr<QueryResult> RangeQuery(const RangeQueryRequest& request,
                                                 const engine::QueryContext& ctx) = 0;

  // The label sets of series matching any of request.matchers (at least one set is given).
  virtual absl::StatusOr<SeriesResult> Series(const MetadataRequest& request,
                                              const engine::QueryContext& ctx) = 0;

  // Label names of matching series (all series when request.matchers is empty).
  virtual absl::StatusOr<StringsResult> LabelNames(const MetadataRequest& request,
                                                   const engine::QueryContext& ctx) = 0;

  // Values of label `name` in matching series.
  virtual absl::StatusOr<StringsResult> LabelValues(std::string_view name,
                                                    const MetadataRequest& request,
                                                    const engine::QueryContext& ctx) = 0;

  // LabelNames / LabelValues answered from what is at hand, never waiting (on a network
  // thread): the stores' cached answers. Nullopt when a store would have to be asked; the
  // default never answers.
  virtual std::optional<StringsResult> LabelNamesAtHand(const MetadataRequest& request) {
    return std::nullopt;
  }

  virtual std::optional<StringsResult> LabelValuesAtHand(std::string_view name,
                                                         const MetadataRequest& request) {
    return std::nullopt;
  }

  // Metric metadata keyed by metric name (sorted by name); `metric` filters when non-empty,
  // `limit` < 0 means no limit. The default offers none: `{}`.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::vector<MetricMetadata>>>> Metadata(
      std::string_view metric, int64_t limit, const engine::QueryContext& ctx) {
    return std::vector<std::pair<std::string, std::vector<MetricMetadata>>>{};
  }

  // The endpoints for /api/v1/stores.
  virtual std::vector<EndpointStatus> Stores() = 0;

  // Flag name (without "--") to value, for /api/v1/status/flags; written in name order.
  virtual std::vector<std::pair<std::string, std::string>> Flags() = 0;

  // For /api/v1/status/buildinfo.
  virtual BuildInfo GetBuildInfo() = 0;

  // /-/ready answers 200 once this returns true (Thanos: after the first endpoint update).
  virtual bool Ready() = 0;
};

}  // namespace paodin::http

#endif  // PAODIN_HTTP_BACKEND_H_
