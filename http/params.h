// Parameter parsing of the API endpoints, in the order and with the messages of Prometheus 2.42
// (time, start, end, step, timeout, query, match[], limit) and Thanos Query (dedup,
// replicaLabels[], storeMatch[], partial_response, max_source_resolution, engine,
// lookback_delta, the optional step). Every error is InvalidArgument whose message is the
// exact `error` text of the bad_data response.
#ifndef PAODIN_HTTP_PARAMS_H_
#define PAODIN_HTTP_PARAMS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "http/backend.h"
#include "http/form.h"

namespace paodin::http {

// Parses one series selector (`up`, `{job="x"}`) into its matchers, as Prometheus'
// parser.ParseMetricSelector does; errors carry the parser's message.
using SelectorParser = std::function<absl::StatusOr<MatcherSet>(std::string_view)>;

// The flag defaults parameter parsing falls back to (Thanos Query's flags).
struct ParamDefaults {
  // --query.replica-label.
  std::vector<std::string> replica_labels;
  // --query.partial-response.
  bool partial_response = true;
  // --query.default-step: the range step when none is given is max(range/250, this), both in
  // whole seconds.
  int64_t default_step_ms = 1000;
  // --query.auto-downsampling.
  bool auto_downsampling = false;
  // --query.instant.default.max_source_resolution.
  int64_t instant_max_source_resolution_ms = 0;
  // --query.metadata.default-time-range; 0 = all time.
  int64_t metadata_time_range_ms = 0;
  // --query.promql-engine.
  std::string default_engine = "prometheus";
  // --query.timeout: caps the `timeout` parameter.
  int64_t query_timeout_ms = 120000;
};

// An instant query request plus its effective timeout.
struct ParsedInstantQuery {
  InstantQueryRequest request;
  // min(`timeout`, --query.timeout) in ms.
  int64_t timeout_ms = 0;
};

// A range query request plus its effective timeout.
struct ParsedRangeQuery {
  RangeQueryRequest request;
  int64_t timeout_ms = 0;
};

// Parses /api/v1/query parameters; `now_ms` is the default `time`.
absl::StatusOr<ParsedInstantQuery> ParseInstantQuery(const Form& form,
                                                     const ParamDefaults& defaults,
                                                     const SelectorParser& parse_selector,
                                                     int64_t now_ms);

// Parses /api/v1/query_range parameters.
absl::StatusOr<ParsedRangeQuery> ParseRangeQuery(const Form& form, const ParamDefaults& defaults,
                                                 const SelectorParser& parse_selector);

// Which metadata endpoint is being parsed: they differ in required and allowed parameters and
// in how match[] errors are worded.
enum class MetadataEndpoint { kSeries, kLabelNames, kLabelValues };

// Parses /api/v1/series, /api/v1/labels and /api/v1/label/<name>/values parameters.
absl::StatusOr<MetadataRequest> ParseMetadataRequest(MetadataEndpoint endpoint, const Form& form,
                                                     const ParamDefaults& defaults,
                                                     const SelectorParser& parse_selector,
                                                     int64_t now_ms);

// Checks a label name from /api/v1/label/<name>/values against [a-zA-Z_][a-zA-Z0-9_]*;
// fails with `invalid label name: "<name>"`.
absl::Status ValidateLabelName(std::string_view name);

// Go's strconv.ParseBool; fails with `strconv.ParseBool: parsing "x": invalid syntax`.
absl::StatusOr<bool> ParseGoBool(std::string_view s);

// Go's strconv.Atoi; fails with `strconv.Atoi: parsing "x": invalid syntax` or `... value out
// of range`.
absl::StatusOr<int64_t> ParseGoInt(std::string_view s);

// The `match[]` values: each parsed, then each checked to hold a matcher that does not match
// the empty string (`match[] must contain at least one non-empty matcher`). Errors are the bare
// messages; callers add the `invalid parameter "match[]"` prefix where Prometheus does.
absl::StatusOr<std::vector<MatcherSet>> ParseMatchers(const std::vector<std::string_view>& values,
                                                      const SelectorParser& parse_selector);

}  // namespace paodin::http

#endif  // PAODIN_HTTP_PARAMS_H_
