// One query answer in a form both sides convert to (Prometheus' JSON and our Engine's
// QueryResult), and the comparison rules of the differential test: same result type, same
// series and labels, values equal or within a relative 1e-6 (NaN equals NaN), equal
// timestamps, and for failures the same error type (and message where it can be compared).
#ifndef PAODIN_TESTS_DIFFERENTIAL_RESULT_COMPARE_H_
#define PAODIN_TESTS_DIFFERENTIAL_RESULT_COMPARE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/exec/engine.h"

namespace paodin::differential {

// One series (matrix) or sample (vector: one point) with its labels sorted by name.
struct AnswerSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<int64_t> ts;
  std::vector<double> vs;
};

// A query's answer: either an error or a typed value.
struct Answer {
  // Empty when the query succeeded; else Prometheus' errorType ("bad_data", "execution", ...).
  std::string error_type;
  std::string error;
  // "matrix", "vector", "scalar" or "string".
  std::string type;
  std::vector<AnswerSeries> series;
  // Scalar and string results: the time and value.
  int64_t t_ms = 0;
  double scalar = 0;
  std::string str;
};

// Converts a Prometheus /api/v1/query(_range) response body. Fails with InvalidArgument when
// the body is not a well-formed API response.
absl::StatusOr<Answer> AnswerFromPrometheus(std::string_view body);

// Converts our engine's outcome; errors map to Prometheus' error types (InvalidArgument ->
// bad_data, FailedPrecondition and ResourceExhausted -> execution, DeadlineExceeded ->
// timeout, Cancelled -> canceled, anything else -> its absl code name).
Answer AnswerFromEngine(const absl::StatusOr<engine::QueryResult>& result);

// How to compare two answers.
struct CompareOptions {
  // Compare vector elements in the order given (top-level sort/topk) instead of by labels.
  bool ordered = false;
  // Relative tolerance of values, and the absolute one below which values count as equal.
  double rel_tolerance = 1e-6;
  double abs_tolerance = 1e-12;
  // Compare error messages too (not only the error type).
  bool compare_messages = true;
};

// Parses a sample value as Prometheus writes it ("1.5", "NaN", "+Inf", "-Inf", "1e+300").
absl::StatusOr<double> ParsePromValue(std::string_view s);

// Parses a Prometheus timestamp in float seconds ("1701381600.123") to ms.
absl::StatusOr<int64_t> ParsePromTime(std::string_view s);

// True when two values are equal under the options: both NaN, the same infinity, or within
// the tolerances.
bool ValuesMatch(double want, double got, const CompareOptions& opts);

// The differences between `want` (Prometheus) and `got` (ours), each a human-readable line;
// empty when they agree. At most `max_lines` lines are produced.
std::vector<std::string> CompareAnswers(const Answer& want, const Answer& got,
                                        const CompareOptions& opts, size_t max_lines = 8);

// For two answers that CompareAnswers found equal: how many values are equal only within the
// tolerance (not the same double; NaNs count as the same). Series are matched by labels.
// When `worst` is not null it receives a description of the value pair furthest apart in ulps.
int64_t CountInexactValues(const Answer& want, const Answer& got, std::string* worst = nullptr);

// Formats labels like Prometheus: {a="1", b="2"} (the metric name in front when present).
std::string FormatLabels(const std::vector<std::pair<std::string, std::string>>& labels);

}  // namespace paodin::differential

#endif  // PAODIN_TESTS_DIFFERENTIAL_RESULT_COMPARE_H_
