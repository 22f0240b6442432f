// Time and duration parsing and formatting with Prometheus' exact rules. Timestamps and
// durations are int64 milliseconds everywhere.
#ifndef PAODIN_ENGINE_MODEL_TIME_H_
#define PAODIN_ENGINE_MODEL_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace paodin::engine {

// Prometheus model.ParseDuration: units y w d h m s ms in that order, each at most once, with
// integer counts (a year is 365d, a week 7d); "0" alone is allowed. Fails with InvalidArgument:
// `not a valid duration string: "1x"`, `empty duration string`, or `duration out of range`
// when the total does not fit Go's time.Duration (about 292 years).
absl::StatusOr<int64_t> ParseDuration(std::string_view s);

// Prometheus model.Duration.String(): the largest units first, zero units left out, e.g.
// 90000 -> "1m30s", 0 -> "0s", 1500 -> "1s500ms". Like Prometheus, a negative duration prints
// as "" (no unit has a positive count).
std::string FormatDuration(int64_t ms);

// The HTTP API's time parameter (Prometheus web/api/v1 parseTime) as the PromQL engine sees it
// (query and query_range `time`, `start`, `end`): a Go float of unix seconds, its fraction
// rounded to milliseconds, or an RFC 3339 timestamp as Go's time.Parse(RFC3339Nano) reads it, or
// the RFC 3339 text of Prometheus' min/max time. The milliseconds are the engine's
// UnixNano()/1e6, which truncates toward zero and wraps beyond the years 1678..2262 exactly as
// Prometheus does (e.g. "Inf" and "NaN" parse, to -9223372036854). Fails with InvalidArgument
// `cannot parse "x" to a valid timestamp`.
absl::StatusOr<int64_t> ParseApiTime(std::string_view s);

// The same parameter as the series, labels and label-values endpoints convert it
// (timestamp.FromTime: floor to milliseconds, no wrap before year 292277026). Prometheus'
// min/max time texts give kMinApiTime / kMaxApiTime. Same errors as ParseApiTime.
absl::StatusOr<int64_t> ParseApiTimestamp(std::string_view s);

// The HTTP API's duration parameter (Prometheus web/api/v1 parseDuration): Go float seconds or a
// Prometheus duration string, truncated toward zero to milliseconds. Note: Prometheus keeps
// nanoseconds, so a step of 0.0005 is positive there (and then fails in the engine with
// "integer divide by zero"); here it is 0. Fails with InvalidArgument `cannot parse "x" to a valid
// duration`, or `cannot parse "x" to a valid duration. It overflows int64` for floats out of range.
absl::StatusOr<int64_t> ParseApiDuration(std::string_view s);

// Milliseconds since the epoch as RFC 3339 in UTC with exactly three fraction digits, e.g.
// "2026-11-27T07:30:00.123Z".
std::string FormatRfc3339Millis(int64_t ms);

// Prometheus' smallest and largest timestamps (web/api/v1 minTime/maxTime) in milliseconds: the
// defaults of start/end on the series and labels endpoints.
inline constexpr int64_t kMinApiTime = -9223309901257974000;
inline constexpr int64_t kMaxApiTime = 9223309901257974999;

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_MODEL_TIME_H_
