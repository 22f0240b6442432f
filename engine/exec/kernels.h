// Numeric kernels of PromQL functions and aggregations, with Prometheus 2.42's exact rules
// (extrapolated rates, Kahan sums, quantiles, classic histogram buckets). Pure functions on
// spans; no labels, no allocation except where noted.
#ifndef PAODIN_ENGINE_EXEC_KERNELS_H_
#define PAODIN_ENGINE_EXEC_KERNELS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/promql/functions.h"

namespace paodin::engine::exec {

// One window of a range function: the samples with range_end - range <= t <= range_end.
struct Window {
  std::span<const int64_t> ts;
  std::span<const double> vs;
  int64_t range_end = 0;  // evaluation time minus offset (the reference time)
  int64_t range_ms = 0;
  int64_t eval_ts = 0;  // the evaluation step time (for predict_linear)
};

// True for functions that take a range vector (rate, *_over_time, ...).
bool IsRangeFunction(promql::FunctionId id);

// Evaluates range function `id` on a non-empty window. `args` are the scalar arguments
// (quantile_over_time's φ first; predict_linear's duration; holt_winters' factors). Returns
// nullopt when the function yields no sample for this window, or an error (holt_winters'
// invalid factors).
absl::StatusOr<std::optional<double>> EvalRangeFunction(promql::FunctionId id, const Window& w,
                                                        std::span<const double> args);

// The extrapolation of Prometheus' extrapolatedRate for a window of n >= 2 samples whose first
// sample is (t_first, v_first) and last is at t_last; `result` is last - first plus, for
// counters, the value before every reset in the window, added in time order. Range functions
// that track the window incrementally call this with the same inputs the full scan would.
double ExtrapolateRate(double result, int64_t t_first, double v_first, int64_t t_last, size_t n,
                       int64_t range_end, int64_t range_ms, bool is_counter, bool is_rate);

// Windows SumOrAvgOverTime evaluates together.
inline constexpr size_t kSumOverTimeWindows = 8;

// sum_over_time (avg_over_time when `avg`) of up to kSumOverTimeWindows windows at once: out[k]
// is bit for bit what EvalRangeFunction gives for windows[k] (non-empty); the windows'
// dependency chains (a division and a Kahan step per sample) are interleaved so that their
// additions and divisions overlap. REQUIRES: count <= kSumOverTimeWindows.
void SumOrAvgOverTime(bool avg, const std::span<const double>* windows, size_t count, double* out);

// Element-wise math function `id` (abs, ceil, sqrt, deg, sgn, ...) on one value; `args` holds
// clamp bounds / round's to_nearest. Date functions take a value in seconds since the epoch.
double EvalInstantMath(promql::FunctionId id, double v, std::span<const double> args);

// True for element-wise functions handled by EvalInstantMath.
bool IsInstantMath(promql::FunctionId id);

// True for the date functions (hour, minute, month, year, day_of_*, days_in_month).
bool IsDateFunction(promql::FunctionId id);

// Prometheus' quantile over values (sorts `values` in place). NaN for no values.
double Quantile(double q, std::vector<double>& values);

// One classic histogram bucket.
struct Bucket {
  double upper_bound;
  double count;
};

// Prometheus' bucketQuantile (sorts and coalesces `buckets` in place).
double BucketQuantile(double q, std::vector<Bucket>& buckets);

// Adds `inc` to a Kahan-compensated sum.
void KahanAdd(double inc, double& sum, double& c);

// Formats a float like Go's strconv.FormatFloat(v, 'f', -1, 64) (count_values labels).
std::string FormatFloatPlain(double v);

// Parses a float like Go's strconv.ParseFloat (the `le` label). nullopt when invalid.
std::optional<double> ParseGoFloat(std::string_view s);

}  // namespace paodin::engine::exec

#endif  // PAODIN_ENGINE_EXEC_KERNELS_H_
