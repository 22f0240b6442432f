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

// The HTTP API's time parameter (Prometheus web/api/v1 parseTime): a Go float of unix seconds
// (fraction rounded to milliseconds) or an RFC 3339 timestamp (Go's RFC3339Nano layout), or the
// RFC 3339 text of Prometheus' min/max time. Fails with InvalidArgument
// `cannot parse "x" to a valid timestamp`.
absl::StatusOr<int64_t> ParseApiTime(std::string_view s);

// The HTTP API's duration parameter (Prometheus web/api/v1 parseDuration): Go float seconds or a
// Prometheus duration string. Fails with InvalidArgument `cannot parse "x" to a valid duration`,
// or `cannot parse "x" to a valid duration. It overflows int64` for floats out of range.
absl::StatusOr<int64_t> ParseApiDuration(std::string_view s);

// Milliseconds since the epoch as RFC 3339 in UTC with exactly three fraction digits, e.g.
// "2026-11-27T07:30:00.123Z".
std::string FormatRfc3339Millis(int64_t ms);

// Prometheus' smallest and largest timestamps (web/api/v1 minTime/maxTime) in milliseconds.
inline constexpr int64_t kMinApiTime = -9223309901257974000;
inline constexpr int64_t kMaxApiTime = 9223309901257974999;

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_MODEL_TIME_H_
