#include "engine/exec/kernels.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "absl/strings/str_format.h"

namespace paodin::engine::exec {

using promql::FunctionId;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Go's math.Max / math.Min (Inf wins over NaN, NaN wins over numbers, signed zeros).
double GoMax(double x, double y) {
  if (std::isinf(x) && x > 0)
    return x;
  if (std::isinf(y) && y > 0)
    return y;
  if (std::isnan(x) || std::isnan(y))
    return kNaN;
  if (x == 0 && x == y)
    return std::signbit(x) ? y : x;
  return x > y ? x : y;
}

double GoMin(double x, double y) {
  if (std::isinf(x) && x < 0)
    return x;
  if (std::isinf(y) && y < 0)
    return y;
  if (std::isnan(x) || std::isnan(y))
    return kNaN;
  if (x == 0 && x == y)
    return std::signbit(x) ? x : y;
  return x < y ? x : y;
}

double ExtrapolatedRate(const Window& w, bool is_counter, bool is_rate, bool* ok) {
  size_t n = w.ts.size();
  if (n < 2) {
    *ok = false;
    return 0;
  }
  double result = w.vs[n - 1] - w.vs[0];
  if (is_counter) {
    double prev = w.vs[0];
    for (size_t i = 1; i < n; ++i) {
      if (w.vs[i] < prev)
        result += prev;
      prev = w.vs[i];
    }
  }
  *ok = true;
  return ExtrapolateRate(result, w.ts[0], w.vs[0], w.ts[n - 1], n, w.range_end, w.range_ms,
                         is_counter, is_rate);
}

bool InstantValue(const Window& w, bool is_rate, double* out) {
  size_t n = w.ts.size();
  if (n < 2)
    return false;
  double last = w.vs[n - 1], prev = w.vs[n - 2];
  double result = (is_rate && last < prev) ? last : last - prev;
  int64_t interval = w.ts[n - 1] - w.ts[n - 2];
  if (interval == 0)
    return false;
  if (is_rate)
    result /= static_cast<double>(interval) / 1000;
  *out = result;
  return true;
}

void LinearRegression(const Window& w, int64_t intercept_time, double* slope, double* intercept) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  double init_y = w.vs[0];
  bool const_y = true;
  for (size_t i = 0; i < w.ts.size(); ++i) {
    double v = w.vs[i];
    if (const_y && i > 0 && v != init_y)
      const_y = false;
    n += 1.0;
    double x = static_cast<double>(w.ts[i] - intercept_time) / 1e3;
    KahanAdd(x, sum_x, c_x);
    KahanAdd(v, sum_y, c_y);
    KahanAdd(x * v, sum_xy, c_xy);
    KahanAdd(x * x, sum_x2, c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = kNaN;
      *intercept = kNaN;
      return;
    }
    *slope = 0;
    *intercept = init_y;
    return;
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  *slope = cov_xy / var_x;
  *intercept = sum_y / n - *slope * sum_x / n;
}

double TrendValue(int i, double tf, double s0, double s1, double b) {
  if (i == 0)
    return b;
  return tf * (s1 - s0) + (1 - tf) * b;
}

// Days since 1970-01-01 to civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

double DateFunction(FunctionId id, double v) {
  if (std::isnan(v) || std::isinf(v) || std::fabs(v) >= 9.2e18) {
    // Go converts with int64(v): out-of-range conversions are undefined; Prometheus' results
    // for these are not meaningful. Return NaN.
    return kNaN;
  }
  int64_t secs = static_cast<int64_t>(v);
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  static const int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  switch (id) {
    case FunctionId::kHour:
      return static_cast<double>(rem / 3600);
    case FunctionId::kMinute:
      return static_cast<double>((rem % 3600) / 60);
    case FunctionId::kMonth:
      return m;
    case FunctionId::kYear:
      return static_cast<double>(y);
    case FunctionId::kDayOfMonth:
      return d;
    case FunctionId::kDayOfWeek: {
      int64_t wd = (days + 4) % 7;  // 1970-01-01 was a Thursday
      if (wd < 0)
        wd += 7;
      return static_cast<double>(wd);
    }
    case FunctionId::kDayOfYear: {
      int doy = d;
      for (unsigned i = 1; i < m; ++i)
        doy += kDaysIn[i - 1] + (i == 2 && IsLeap(y) ? 1 : 0);
      return doy;
    }
    case FunctionId::kDaysInMonth:
      return kDaysIn[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
    default:
      return kNaN;
  }
}

}  // namespace

double ExtrapolateRate(double result, int64_t t_first, double v_first, int64_t t_last, size_t n,
                       int64_t range_end, int64_t range_ms, bool is_counter, bool is_rate) {
  int64_t range_start = range_end - range_ms;
  double duration_to_start = static_cast<double>(t_first - range_start) / 1000;
  double duration_to_end = static_cast<double>(range_end - t_last) / 1000;
  double sampled_interval = static_cast<double>(t_last - t_first) / 1000;
  double avg_between = sampled_interval / static_cast<double>(n - 1);
  if (is_counter && result > 0 && v_first >= 0) {
    double duration_to_zero = sampled_interval * (v_first / result);
    if (duration_to_zero < duration_to_start)
      duration_to_start = duration_to_zero;
  }
  double threshold = avg_between * 1.1;
  double extrapolate_to = sampled_interval;
  extrapolate_to += duration_to_start < threshold ? duration_to_start : avg_between / 2;
  extrapolate_to += duration_to_end < threshold ? duration_to_end : avg_between / 2;
  // The same operations in the same order as Prometheus 2.42, so results match to the bit.
  double factor = extrapolate_to / sampled_interval;
  if (is_rate)
    factor /= static_cast<double>(range_ms) / 1000;
  return result * factor;
}

void KahanAdd(double inc, double& sum, double& c) {
  double t = sum + inc;
  if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}

namespace {

// Kahan step of KahanAdd with the branch as a select (both sides are plain IEEE operations, so
// the chosen value has the same bits either way).
[[maybe_unused]] inline void KahanStep(double inc, double& sum, double& c) {
  const double t = sum + inc;
  const double a = (sum - t) + inc;
  const double b = (inc - t) + sum;
  c += std::fabs(sum) >= std::fabs(inc) ? a : b;
  sum = t;
}

// The scalar kernels (same operations as in EvalRangeFunction), resumable at sample k.
double FinishSum(std::span<const double> vs, size_t k, double sum, double c) {
  for (; k < vs.size(); ++k)
    KahanAdd(vs[k], sum, c);
  if (std::isinf(sum))
    return sum;
  return sum + c;
}

double FinishAvg(std::span<const double> vs, size_t k, double mean, double c) {
  double count = static_cast<double>(k);
  for (; k < vs.size(); ++k) {
    const double v = vs[k];
    count++;
    if (std::isinf(mean)) {
      if (std::isinf(v) && (mean > 0) == (v > 0))
        continue;
      if (!std::isinf(v) && !std::isnan(v))
        continue;
    }
    KahanAdd(v / count - mean / count, mean, c);
  }
  if (std::isinf(mean))
    return mean;
  return mean + c;
}

}  // namespace

void SumOrAvgOverTime(bool avg, const std::span<const double>* windows, size_t count, double* out) {
  constexpr size_t kW = kSumOverTimeWindows;
  double sum[kW] = {}, c[kW] = {};
  size_t common = std::numeric_limits<size_t>::max();
  for (size_t w = 0; w < count; ++w)
    common = std::min(common, windows[w].size());
  if (count < kW) {
    common = 0;  // nothing to interleave
  } else if (avg) {
    // The interleaved mean skips Prometheus' infinity handling; it is only taken when no value
    // can make the running mean infinite.
    for (size_t w = 0; w < count && common > 0; ++w) {
      for (double v : windows[w]) {
        if (!(std::fabs(v) <= 1e300)) {
          common = 0;
          break;
        }
      }
    }
  }
  const double* p[kW] = {};
  for (size_t w = 0; w < count; ++w)
    p[w] = windows[w].data();
  if (common > 0) {
#if defined(__SSE2__)
    // Two windows per register: the same IEEE operations in the same order per window (no
    // fused multiply-add), so each lane is bit for bit the scalar KahanStep below, at twice
    // the division throughput.
    static_assert(kW % 2 == 0);
    __m128d vsum[kW / 2], vc[kW / 2];
    for (size_t h = 0; h < kW / 2; ++h) {
      vsum[h] = _mm_setzero_pd();
      vc[h] = _mm_setzero_pd();
    }
    const __m128d abs_mask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
    for (size_t k = 0; k < common; ++k) {
      const __m128d n = _mm_set1_pd(static_cast<double>(k + 1));
      for (size_t h = 0; h < kW / 2; ++h) {
        const __m128d v = _mm_set_pd(p[2 * h + 1][k], p[2 * h][k]);
        const __m128d inc = avg ? _mm_sub_pd(_mm_div_pd(v, n), _mm_div_pd(vsum[h], n)) : v;
        const __m128d t = _mm_add_pd(vsum[h], inc);
        const __m128d a = _mm_add_pd(_mm_sub_pd(vsum[h], t), inc);
        const __m128d b = _mm_add_pd(_mm_sub_pd(inc, t), vsum[h]);
        const __m128d ge = _mm_cmpge_pd(_mm_and_pd(vsum[h], abs_mask), _mm_and_pd(inc, abs_mask));
        vc[h] = _mm_add_pd(vc[h], _mm_or_pd(_mm_and_pd(ge, a), _mm_andnot_pd(ge, b)));
        vsum[h] = t;
      }
    }
    for (size_t h = 0; h < kW / 2; ++h) {
      _mm_storel_pd(&sum[2 * h], vsum[h]);
      _mm_storeh_pd(&sum[2 * h + 1], vsum[h]);
      _mm_storel_pd(&c[2 * h], vc[h]);
      _mm_storeh_pd(&c[2 * h + 1], vc[h]);
    }
#else
    if (avg) {
      for (size_t k = 0; k < common; ++k) {
        const double n = static_cast<double>(k + 1);
        for (size_t w = 0; w < kW; ++w)
          KahanStep(p[w][k] / n - sum[w] / n, sum[w], c[w]);
      }
    } else {
      for (size_t k = 0; k < common; ++k) {
        for (size_t w = 0; w < kW; ++w)
          KahanStep(p[w][k], sum[w], c[w]);
      }
    }
#endif
  }
  for (size_t w = 0; w < count; ++w) {
    out[w] = avg ? FinishAvg(windows[w], common, sum[w], c[w])
                 : FinishSum(windows[w], common, sum[w], c[w]);
  }
}

bool IsRangeFunction(FunctionId id) {
  switch (id) {
    case FunctionId::kAbsentOverTime:
    case FunctionId::kAvgOverTime:
    case FunctionId::kChanges:
    case FunctionId::kCountOverTime:
    case FunctionId::kDelta:
    case FunctionId::kDeriv:
    case FunctionId::kHoltWinters:
    case FunctionId::kIdelta:
    case FunctionId::kIncrease:
    case FunctionId::kIrate:
    case FunctionId::kLastOverTime:
    case FunctionId::kMaxOverTime:
    case FunctionId::kMinOverTime:
    case FunctionId::kPredictLinear:
    case FunctionId::kPresentOverTime:
    case FunctionId::kQuantileOverTime:
    case FunctionId::kRate:
    case FunctionId::kResets:
    case FunctionId::kStddevOverTime:
    case FunctionId::kStdvarOverTime:
    case FunctionId::kSumOverTime:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::optional<double>> EvalRangeFunction(FunctionId id, const Window& w,
                                                        std::span<const double> args) {
  const size_t n = w.ts.size();
  switch (id) {
    case FunctionId::kRate:
    case FunctionId::kIncrease:
    case FunctionId::kDelta: {
      bool ok;
      double r = ExtrapolatedRate(w, id != FunctionId::kDelta, id == FunctionId::kRate, &ok);
      if (!ok)
        return std::nullopt;
      return r;
    }
    case FunctionId::kIrate:
    case FunctionId::kIdelta: {
      double r;
      if (!InstantValue(w, id == FunctionId::kIrate, &r))
        return std::nullopt;
      return r;
    }
    case FunctionId::kDeriv: {
      if (n < 2)
        return std::nullopt;
      double slope, intercept;
      LinearRegression(w, w.ts[0], &slope, &intercept);
      return slope;
    }
    case FunctionId::kPredictLinear: {
      if (n < 2)
        return std::nullopt;
      double slope, intercept;
      LinearRegression(w, w.eval_ts, &slope, &intercept);
      return slope * args[0] + intercept;
    }
    case FunctionId::kHoltWinters: {
      double sf = args[0], tf = args[1];
      if (sf <= 0 || sf >= 1) {
        return absl::FailedPreconditionError(
            absl::StrFormat("invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf));
      }
      if (tf <= 0 || tf >= 1) {
        return absl::FailedPreconditionError(
            absl::StrFormat("invalid trend factor. Expected: 0 < tf < 1, got: %f", tf));
      }
      if (n < 2)
        return std::nullopt;
      double s0 = 0, s1 = w.vs[0], b = w.vs[1] - w.vs[0];
      for (size_t i = 1; i < n; ++i) {
        double x = sf * w.vs[i];
        b = TrendValue(static_cast<int>(i) - 1, tf, s0, s1, b);
        double y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
      }
      return s1;
    }
    case FunctionId::kChanges: {
      double changes = 0;
      double prev = w.vs[0];
      for (size_t i = 1; i < n; ++i) {
        double cur = w.vs[i];
        if (cur != prev && !(std::isnan(cur) && std::isnan(prev)))
          changes++;
        prev = cur;
      }
      return changes;
    }
    case FunctionId::kResets: {
      double resets = 0;
      double prev = w.vs[0];
      for (size_t i = 1; i < n; ++i) {
        if (w.vs[i] < prev)
          resets++;
        prev = w.vs[i];
      }
      return resets;
    }
    case FunctionId::kAvgOverTime:
      return FinishAvg(w.vs, 0, 0, 0);
    case FunctionId::kSumOverTime: {
      double sum = 0, c = 0;
      for (double v : w.vs)
        KahanAdd(v, sum, c);
      if (std::isinf(sum))
        return sum;
      return sum + c;
    }
    case FunctionId::kCountOverTime:
      return static_cast<double>(n);
    case FunctionId::kLastOverTime:
      return w.vs[n - 1];
    case FunctionId::kPresentOverTime:
      return 1.0;
    case FunctionId::kMaxOverTime: {
      double m = w.vs[0];
      for (double v : w.vs) {
        if (v > m || std::isnan(m))
          m = v;
      }
      return m;
    }
    case FunctionId::kMinOverTime: {
      double m = w.vs[0];
      for (double v : w.vs) {
        if (v < m || std::isnan(m))
          m = v;
      }
      return m;
    }
    case FunctionId::kStddevOverTime:
    case FunctionId::kStdvarOverTime: {
      double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
      for (double v : w.vs) {
        count++;
        double delta = v - (mean + c_mean);
        KahanAdd(delta / count, mean, c_mean);
        KahanAdd(delta * (v - (mean + c_mean)), aux, c_aux);
      }
      double var = (aux + c_aux) / count;
      return id == FunctionId::kStddevOverTime ? std::sqrt(var) : var;
    }
    case FunctionId::kQuantileOverTime: {
      // Reused per thread: no allocation per window once warmed up.
      thread_local std::vector<double> values;
      values.assign(w.vs.begin(), w.vs.end());
      return Quantile(args[0], values);
    }
    case FunctionId::kAbsentOverTime:
      return std::nullopt;
    default:
      return absl::InternalError("not a range function");
  }
}

bool IsDateFunction(FunctionId id) {
  switch (id) {
    case FunctionId::kDayOfMonth:
    case FunctionId::kDayOfWeek:
    case FunctionId::kDayOfYear:
    case FunctionId::kDaysInMonth:
    case FunctionId::kHour:
    case FunctionId::kMinute:
    case FunctionId::kMonth:
    case FunctionId::kYear:
      return true;
    default:
      return false;
  }
}

bool IsInstantMath(FunctionId id) {
  switch (id) {
    case FunctionId::kAbs:
    case FunctionId::kAcos:
    case FunctionId::kAcosh:
    case FunctionId::kAsin:
    case FunctionId::kAsinh:
    case FunctionId::kAtan:
    case FunctionId::kAtanh:
    case FunctionId::kCeil:
    case FunctionId::kClamp:
    case FunctionId::kClampMax:
    case FunctionId::kClampMin:
    case FunctionId::kCos:
    case FunctionId::kCosh:
    case FunctionId::kDeg:
    case FunctionId::kExp:
    case FunctionId::kFloor:
    case FunctionId::kLn:
    case FunctionId::kLog10:
    case FunctionId::kLog2:
    case FunctionId::kRad:
    case FunctionId::kRound:
    case FunctionId::kSgn:
    case FunctionId::kSin:
    case FunctionId::kSinh:
    case FunctionId::kSqrt:
    case FunctionId::kTan:
    case FunctionId::kTanh:
      return true;
    default:
      return IsDateFunction(id);
  }
}

double EvalInstantMath(FunctionId id, double v, std::span<const double> args) {
  switch (id) {
    case FunctionId::kAbs:
      return std::fabs(v);
    case FunctionId::kAcos:
      return std::acos(v);
    case FunctionId::kAcosh:
      return std::acosh(v);
    case FunctionId::kAsin:
      return std::asin(v);
    case FunctionId::kAsinh:
      return std::asinh(v);
    case FunctionId::kAtan:
      return std::atan(v);
    case FunctionId::kAtanh:
      return std::atanh(v);
    case FunctionId::kCeil:
      return std::ceil(v);
    case FunctionId::kClamp:
      return GoMax(args[0], GoMin(args[1], v));
    case FunctionId::kClampMax:
      return GoMin(v, args[0]);
    case FunctionId::kClampMin:
      return GoMax(v, args[0]);
    case FunctionId::kCos:
      return std::cos(v);
    case FunctionId::kCosh:
      return std::cosh(v);
    case FunctionId::kDeg:
      return v * 180 / M_PI;
    case FunctionId::kExp:
      return std::exp(v);
    case FunctionId::kFloor:
      return std::floor(v);
    case FunctionId::kLn:
      return std::log(v);
    case FunctionId::kLog10:
      return std::log10(v);
    case FunctionId::kLog2:
      return std::log2(v);
    case FunctionId::kRad:
      return v * M_PI / 180;
    case FunctionId::kRound: {
      double to_nearest = args.empty() ? 1 : args[0];
      double inv = 1.0 / to_nearest;
      return std::floor(v * inv + 0.5) / inv;
    }
    case FunctionId::kSgn:
      if (v < 0)
        return -1;
      if (v > 0)
        return 1;
      return v;
    case FunctionId::kSin:
      return std::sin(v);
    case FunctionId::kSinh:
      return std::sinh(v);
    case FunctionId::kSqrt:
      return std::sqrt(v);
    case FunctionId::kTan:
      return std::tan(v);
    case FunctionId::kTanh:
      return std::tanh(v);
    default:
      if (IsDateFunction(id))
        return DateFunction(id, v);
      return kNaN;
  }
}

double Quantile(double q, std::vector<double>& values) {
  if (values.empty())
    return kNaN;
  if (q < 0)
    return -kInf;
  if (q > 1)
    return kInf;
  if (std::isnan(q))
    return kNaN;
  std::stable_sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a))
      return !std::isnan(b);
    return a < b;
  });
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

double BucketQuantile(double q, std::vector<Bucket>& buckets) {
  if (std::isnan(q))
    return kNaN;
  if (q < 0)
    return -kInf;
  if (q > 1)
    return kInf;
  std::stable_sort(buckets.begin(), buckets.end(),
                   [](const Bucket& a, const Bucket& b) { return a.upper_bound < b.upper_bound; });
  if (buckets.empty() ||
      !(std::isinf(buckets.back().upper_bound) && buckets.back().upper_bound > 0)) {
    return kNaN;
  }
  // Coalesce buckets with the same upper bound.
  size_t w = 0;
  for (size_t r = 1; r < buckets.size(); ++r) {
    if (buckets[r].upper_bound == buckets[w].upper_bound) {
      buckets[w].count += buckets[r].count;
    } else {
      buckets[++w] = buckets[r];
    }
  }
  buckets.resize(w + 1);
  // Ensure monotonic counts.
  double max = -kInf;
  for (Bucket& b : buckets) {
    if (b.count > max) {
      max = b.count;
    } else if (b.count < max) {
      b.count = max;
    }
  }
  if (buckets.size() < 2)
    return kNaN;
  double observations = buckets.back().count;
  if (observations == 0)
    return kNaN;
  double rank = q * observations;
  size_t b = 0;
  {
    size_t lo = 0, hi = buckets.size() - 1;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (buckets[mid].count >= rank) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    b = lo;
  }
  if (b == buckets.size() - 1)
    return buckets[buckets.size() - 2].upper_bound;
  if (b == 0 && buckets[0].upper_bound <= 0)
    return buckets[0].upper_bound;
  double start = 0, end = buckets[b].upper_bound, count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].upper_bound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return start + (end - start) * (rank / count);
}

std::string FormatFloatPlain(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  // Shortest representation that round-trips, in plain (non-exponent) notation.
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v)
      break;
  }
  std::string s = buf;
  size_t e = s.find('e');
  if (e == std::string::npos)
    return s;
  // Expand the exponent form into plain digits.
  int exp = std::atoi(s.c_str() + e + 1);
  std::string mant = s.substr(0, e);
  bool neg = false;
  if (!mant.empty() && mant[0] == '-') {
    neg = true;
    mant = mant.substr(1);
  }
  std::string digits;
  int point = 0;
  size_t dot = mant.find('.');
  if (dot == std::string::npos) {
    digits = mant;
    point = static_cast<int>(mant.size());
  } else {
    digits = mant.substr(0, dot) + mant.substr(dot + 1);
    point = static_cast<int>(dot);
  }
  point += exp;
  std::string out;
  if (point <= 0) {
    out = "0." + std::string(-point, '0') + digits;
  } else if (point >= static_cast<int>(digits.size())) {
    out = digits + std::string(point - digits.size(), '0');
  } else {
    out = digits.substr(0, point) + "." + digits.substr(point);
  }
  return neg ? "-" + out : out;
}

std::optional<double> ParseGoFloat(std::string_view s) {
  if (s.empty())
    return std::nullopt;
  std::string str(s);
  std::string lower;
  for (char ch : str)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string_view body = lower;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity")
    return neg ? -kInf : kInf;
  if (body == "nan")
    return kNaN;
  for (char ch : body) {
    if (!(std::isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == 'e' || ch == '+' ||
          ch == '-' || ch == 'x' || ch == 'p' || (ch >= 'a' && ch <= 'f') || ch == '_')) {
      return std::nullopt;
    }
  }
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  if (end != str.c_str() + str.size())
    return std::nullopt;
  return v;
}

}  // namespace paodin::engine::exec
