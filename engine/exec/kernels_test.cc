#include "engine/exec/kernels.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace paodin::engine::exec {
namespace {

using promql::FunctionId;

constexpr double kInf = std::numeric_limits<double>::infinity();

Window W(const std::vector<int64_t>& ts, const std::vector<double>& vs, int64_t end,
         int64_t range) {
  return Window{.ts = ts, .vs = vs, .range_end = end, .range_ms = range, .eval_ts = end};
}

TEST(KernelsTest, RateExtrapolatesLikePrometheus) {
  // A counter going 0..50 by 10 every minute; rate over 5m at 5m gives 10/60 per second.
  std::vector<int64_t> ts = {0, 60000, 120000, 180000, 240000, 300000};
  std::vector<double> vs = {0, 10, 20, 30, 40, 50};
  auto r = EvalRangeFunction(FunctionId::kRate, W(ts, vs, 300000, 300000), {});
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_NEAR(**r, 50.0 / 300, 1e-12);
}

TEST(KernelsTest, RateHandlesCounterResets) {
  std::vector<int64_t> ts = {0, 60000, 120000};
  std::vector<double> vs = {10, 20, 5};
  auto r = EvalRangeFunction(FunctionId::kIncrease, W(ts, vs, 120000, 120000), {});
  ASSERT_TRUE(r.ok() && r->has_value());
  // increase = 5 - 10 + 20 = 15 over the sampled 120s, no extrapolation needed.
  EXPECT_NEAR(**r, 15, 1e-9);
}

TEST(KernelsTest, RateNeedsTwoSamples) {
  std::vector<int64_t> ts = {0};
  std::vector<double> vs = {1};
  auto r = EvalRangeFunction(FunctionId::kRate, W(ts, vs, 0, 60000), {});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST(KernelsTest, HoltWintersRejectsBadFactors) {
  std::vector<int64_t> ts = {0, 1};
  std::vector<double> vs = {1, 2};
  double args[2] = {1.5, 0.5};
  EXPECT_FALSE(EvalRangeFunction(FunctionId::kHoltWinters, W(ts, vs, 1, 1), args).ok());
}

TEST(KernelsTest, QuantileInterpolatesAndHandlesBounds) {
  std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(Quantile(0.5, v), 2.5);
  EXPECT_EQ(Quantile(-1, v), -kInf);
  EXPECT_EQ(Quantile(2, v), kInf);
  std::vector<double> empty;
  EXPECT_TRUE(std::isnan(Quantile(0.5, empty)));
}

TEST(KernelsTest, BucketQuantile) {
  std::vector<Bucket> b = {{0.1, 10}, {0.2, 20}, {kInf, 20}};
  EXPECT_NEAR(BucketQuantile(0.5, b), 0.1, 1e-12);
  std::vector<Bucket> no_inf = {{0.1, 10}, {0.2, 20}};
  EXPECT_TRUE(std::isnan(BucketQuantile(0.5, no_inf)));
  // Non-monotonic counts are fixed up (5 becomes 10), so q=1 lands in the first bucket.
  std::vector<Bucket> nonmono = {{1, 10}, {2, 5}, {kInf, 10}};
  EXPECT_NEAR(BucketQuantile(1, nonmono), 1, 1e-12);
}

TEST(KernelsTest, DateFunctions) {
  // 2021-03-01T10:20:30Z = 1614594030.
  double t = 1614594030;
  EXPECT_EQ(EvalInstantMath(FunctionId::kYear, t, {}), 2021);
  EXPECT_EQ(EvalInstantMath(FunctionId::kMonth, t, {}), 3);
  EXPECT_EQ(EvalInstantMath(FunctionId::kDayOfMonth, t, {}), 1);
  EXPECT_EQ(EvalInstantMath(FunctionId::kHour, t, {}), 10);
  EXPECT_EQ(EvalInstantMath(FunctionId::kMinute, t, {}), 20);
  EXPECT_EQ(EvalInstantMath(FunctionId::kDayOfWeek, t, {}), 1);  // Monday
  EXPECT_EQ(EvalInstantMath(FunctionId::kDayOfYear, t, {}), 60);
  EXPECT_EQ(EvalInstantMath(FunctionId::kDaysInMonth, t - 86400, {}), 28);
}

TEST(KernelsTest, FormatFloatPlainMatchesGo) {
  EXPECT_EQ(FormatFloatPlain(1), "1");
  EXPECT_EQ(FormatFloatPlain(0.1), "0.1");
  EXPECT_EQ(FormatFloatPlain(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatFloatPlain(-2.5e-7), "-0.00000025");
  EXPECT_EQ(FormatFloatPlain(kInf), "+Inf");
}

TEST(KernelsTest, ParseGoFloat) {
  EXPECT_EQ(*ParseGoFloat("+Inf"), kInf);
  EXPECT_EQ(*ParseGoFloat("0.5"), 0.5);
  EXPECT_FALSE(ParseGoFloat("abc").has_value());
  EXPECT_FALSE(ParseGoFloat("").has_value());
}

}  // namespace
}  // namespace paodin::engine::exec
