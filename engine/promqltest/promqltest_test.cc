#include "engine/promqltest/promqltest.h"

#include <cmath>

#include "engine/storage/queryable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::engine::promqltest {
namespace {

std::vector<double> Values(const SeriesDesc& d) {
  std::vector<double> out;
  for (const SequenceValue& v : d.values)
    out.push_back(v.omitted ? -999 : v.value);
  return out;
}

TEST(ParseSeriesDescTest, ExpandsSequences) {
  auto d = ParseSeriesDesc(R"(http_requests{job="api", instance="0"} 0+10x3 _ 1x2 -2+4x1 _x2)");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->labels.Get("__name__"), "http_requests");
  EXPECT_EQ(d->labels.Get("job"), "api");
  EXPECT_THAT(Values(*d), ::testing::ElementsAre(0, 10, 20, 30, -999, 1, 1, 1, -2, 2, -999, -999));
}

TEST(ParseSeriesDescTest, SpecialValues) {
  auto d = ParseSeriesDesc(R"({a="b\"c"} stale Inf -Inf NaN 1e3 0x2)");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->labels.Get("a"), "b\"c");
  ASSERT_EQ(d->values.size(), 8u);
  EXPECT_TRUE(IsStaleNaN(d->values[0].value));
  EXPECT_TRUE(std::isinf(d->values[1].value));
  EXPECT_LT(d->values[2].value, 0);
  EXPECT_TRUE(std::isnan(d->values[3].value));
  EXPECT_EQ(d->values[4].value, 1000);
  // Hexadecimal is not allowed in series descriptions: 0x2 is 0 three times.
  EXPECT_EQ(d->values[5].value, 0);
  EXPECT_EQ(d->values[7].value, 0);
}

TEST(ParseSeriesDescTest, RejectsGarbage) {
  EXPECT_FALSE(ParseSeriesDesc("{a=} 1").ok());
  EXPECT_FALSE(ParseSeriesDesc("m 1+x").ok());
}

TEST(AlmostEqualTest, Rules) {
  EXPECT_TRUE(AlmostEqual(std::nan(""), std::nan("")));
  EXPECT_TRUE(AlmostEqual(1.0, 1.0000000001));
  EXPECT_FALSE(AlmostEqual(1.0, 1.001));
  EXPECT_FALSE(AlmostEqual(0, 1e-300));
}

TEST(RunScriptTest, CountsPassesAndFailures) {
  const char* script = R"(
load 5m
  m{job="a"} 0+10x10
  m{job="b"} 0+20x10

eval instant at 50m sum(m)
  {} 300

# wrong on purpose
eval instant at 50m m{job="a"}
  m{job="a"} 1

eval_fail instant at 50m m + on() m

eval_ordered instant at 50m sort_desc(m)
  m{job="b"} 200
  m{job="a"} 100

clear

eval instant at 0m m
)";
  RunStats stats;
  RunScript(script, "inline.test", RunOptions{}, stats);
  EXPECT_EQ(stats.passed, 4);
  EXPECT_EQ(stats.failed, 1);
  ASSERT_EQ(stats.failures.size(), 1u);
  EXPECT_EQ(stats.failures[0].line, 10);
  EXPECT_THAT(FormatFailure(stats.failures[0]), ::testing::HasSubstr("inline.test:10"));
}

TEST(RunScriptTest, InvalidCommandFails) {
  RunStats stats;
  RunScript("bogus command\n", "x.test", RunOptions{}, stats);
  EXPECT_EQ(stats.failed, 1);
}

TEST(RunFileTest, MissingFile) {
  RunStats stats;
  EXPECT_EQ(RunFile("/nonexistent/file.test", RunOptions{}, stats).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace paodin::engine::promqltest

namespace paodin::engine::promqltest {
namespace {

TEST(ParseSeriesDescTest, MalformedInputIsAnErrorNotACrash) {
  EXPECT_FALSE(ParseSeriesDesc(R"(m{a="\xZZ"} 1)").ok());
  EXPECT_FALSE(ParseSeriesDesc(R"(m{a="\u12"} 1)").ok());
  EXPECT_FALSE(ParseSeriesDesc("m 1x99999999999999999999").ok());
  EXPECT_FALSE(ParseSeriesDesc(R"(m{a="unterminated} 1)").ok());
  auto ok = ParseSeriesDesc(R"(m{a="\x41\u00e9\101"} 1)");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->labels.Get("a"),
            "A\xc3\xa9"
            "A");
}

}  // namespace
}  // namespace paodin::engine::promqltest
