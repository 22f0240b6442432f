#include "storeapi/ingest/exposition.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin::storeapi {
namespace {

using ::paodin::testing::IsOk;
using ::paodin::testing::StatusIs;

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

struct Sample {
  std::string labels;
  int64_t t;
  double v;
};

// Loads `input` and returns every stored sample, in series label order.
absl::StatusOr<std::vector<Sample>> Load(std::string_view input,
                                         ExpositionFormat format = ExpositionFormat::kAuto) {
  MemStore store;
  if (absl::Status st = LoadExposition(input, format, "in.txt", &store); !st.ok()) {
    return st;
  }
  std::vector<Sample> out;
  engine::SelectHints hints;
  hints.start_ms = std::numeric_limits<int64_t>::min();
  hints.end_ms = std::numeric_limits<int64_t>::max();
  auto set = store.Select(hints, {}, {});
  while ((*set)->Next()) {
    auto it = (*set)->Samples();
    int64_t ts[16];
    double vs[16];
    for (;;) {
      size_t n = *it->Next(ts, vs);
      if (n == 0) {
        break;
      }
      for (size_t i = 0; i < n; ++i) {
        out.push_back({(*set)->labels().ToString(), ts[i], vs[i]});
      }
    }
  }
  return out;
}

TEST(ExpositionTest, LoadsOpenMetricsWithSecondTimestamps) {
  // The expected values are what `promtool tsdb create-blocks-from openmetrics` + `promtool tsdb
  // dump` (Prometheus 2.42) give for the same file.
  auto samples = Load(
      "# HELP foo A counter\n"
      "# TYPE foo counter\n"
      "foo_total{a=\"x\"} 1 1700000000.123\n"
      "foo_total{a=\"x\"} 2 1700000015.1\n"
      "foo_total{a=\"x\"} 3 1700000030.999 # {trace_id=\"abc\"} 1.0 1700000030.5\n"
      "# TYPE g gauge\n"
      "# UNIT g bytes\n"
      "g 1.5e3 1700000000\n"
      "g NaN 1700000001\n"
      "h 7 1081038903.949\n"
      "# EOF\n");
  ASSERT_THAT(samples, IsOk()) << samples.status().ToString();
  ASSERT_EQ(samples->size(), 6u);
  EXPECT_EQ((*samples)[0].labels, R"({__name__="foo_total", a="x"})");
  EXPECT_EQ((*samples)[0].t, 1700000000123);
  EXPECT_EQ((*samples)[1].t, 1700000015100);
  EXPECT_EQ((*samples)[2].t, 1700000030999);
  EXPECT_EQ((*samples)[2].v, 3);
  EXPECT_EQ((*samples)[3].labels, R"({__name__="g"})");
  EXPECT_EQ((*samples)[3].t, 1700000000000);
  EXPECT_EQ((*samples)[3].v, 1500);
  EXPECT_EQ(Bits((*samples)[4].v), 0x7ff8000000000001u);
  EXPECT_EQ((*samples)[5].labels, R"({__name__="h"})");
  // 1081038903.949 * 1000 is 1081038903948.9999 in float64; Prometheus truncates.
  EXPECT_EQ((*samples)[5].t, 1081038903948);
}

TEST(ExpositionTest, LoadsPrometheusTextWithMillisecondTimestamps) {
  auto samples = Load(
      "# HELP up Whether up.\n"
      "# TYPE up gauge\n"
      "\n"
      "up{job=\"a\",instance=\"x:1\"} 1 1700000000123\n"
      "up{ job = \"a\" , instance = \"x:1\" , } 0 1700000015123\n"
      "weird{v=\"q\\\"uote\\\\back\\nnl\\t\"} -Inf -5\n"
      "plus +Inf +7\n");
  ASSERT_THAT(samples, IsOk());
  ASSERT_EQ(samples->size(), 4u);
  EXPECT_EQ((*samples)[0].labels, R"({__name__="plus"})");
  EXPECT_EQ((*samples)[0].t, 7);
  EXPECT_TRUE(std::isinf((*samples)[0].v));
  EXPECT_EQ((*samples)[1].labels, R"({__name__="up", instance="x:1", job="a"})");
  EXPECT_EQ((*samples)[1].t, 1700000000123);
  EXPECT_EQ((*samples)[2].t, 1700000015123);
  EXPECT_EQ((*samples)[2].v, 0);
  EXPECT_EQ((*samples)[3].labels, R"({__name__="weird", v="q\"uote\\back\nnl\\t"})");
  EXPECT_EQ((*samples)[3].t, -5);
}

TEST(ExpositionTest, DetectsTheFormatFromTheLastLine) {
  EXPECT_EQ(DetectExpositionFormat("a 1 1\n# EOF\n"), ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(DetectExpositionFormat("# EOF"), ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(DetectExpositionFormat("a 1 1\n# EOF\r\n\n"), ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(DetectExpositionFormat("a 1 1\n"), ExpositionFormat::kPrometheusText);
  EXPECT_EQ(DetectExpositionFormat(""), ExpositionFormat::kPrometheusText);
  EXPECT_EQ(DetectExpositionFormat("# EOF\na 1 1\n"), ExpositionFormat::kPrometheusText);
}

struct ErrorCase {
  std::string name;
  std::string input;
  ExpositionFormat format;
  std::string message;
};

TEST(ExpositionTest, BadInputNamesTheLine) {
  const ExpositionFormat om = ExpositionFormat::kOpenMetrics;
  const ExpositionFormat text = ExpositionFormat::kPrometheusText;
  const std::vector<ErrorCase> cases = {
      {"missing timestamp", "a 1 1\nb 2\n", text,
       R"(in.txt:2: expected a timestamp for "b", got none)"},
      {"bad value", "a x 1\n", text, R"(in.txt:1: invalid value "x")"},
      {"bad ms timestamp", "a 1 1.5\n", text,
       R"(in.txt:1: invalid timestamp "1.5" (expected integer milliseconds))"},
      {"bad seconds timestamp", "a 1 NaN\n# EOF\n", om, R"(in.txt:1: invalid timestamp "NaN")"},
      {"no metric name", "{a=\"b\"} 1 1\n", text, R"(in.txt:1: expected metric name, got "{")"},
      {"missing equals", "a{b\"c\"} 1 1\n", text,
       R"(in.txt:1: expected '=' after label name "b", got "\"")"},
      {"unquoted value", "a{b=c} 1 1\n", text,
       R"(in.txt:1: expected '"' to start the value of label "b", got "c")"},
      {"unterminated value", "a{b=\"c} 1 1\n", text,
       R"(in.txt:1: unterminated value of label "b")"},
      {"missing comma", "a{b=\"c\" d=\"e\"} 1 1\n", text,
       R"(in.txt:1: expected ',' or '}' after label "b", got "d")"},
      {"no space before value", "a{b=\"c\"}1 1\n", text,
       R"(in.txt:1: expected a space and a value after "a{b=\"c\"}", got "1")"},
      {"trailing garbage", "a 1 1 zzz\n", text,
       R"(in.txt:1: unexpected "zzz" after the timestamp)"},
      {"duplicate label", "a{b=\"1\",b=\"2\"} 1 1\n", text, "in.txt:1: "},
      {"missing EOF", "a 1 1\n", om, "in.txt:1: data does not end with # EOF"},
      {"content after EOF", "a 1 1\n# EOF\na 2 2\n", om,
       "in.txt:3: unexpected content after # EOF"},
      {"out of order", "a 1 5\na 1 4\n", text,
       R"(in.txt:2: out of order sample: timestamp 4 before 5 in {__name__="a"})"},
      {"conflicting duplicate", "a 1 5\na 2 5\n", text,
       R"(in.txt:2: duplicate sample for timestamp 5 in {__name__="a"})"},
      {"TYPE without name", "# TYPE\n", text, "in.txt:1: # TYPE without a metric name"},
  };
  for (const ErrorCase& c : cases) {
    absl::StatusOr<std::vector<Sample>> got = Load(c.input, c.format);
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(got.status().message()), ::testing::StartsWith(c.message)) << c.name;
  }
}

TEST(ExpositionTest, ParsesFloatsLikeGo) {
  struct Case {
    std::string in;
    double want;
  };

  for (const Case& c : std::vector<Case>{{"1", 1},
                                         {"-2.5", -2.5},
                                         {"+3e2", 300},
                                         {".5", 0.5},
                                         {"1E-3", 0.001},
                                         {"0x1p-2", 0.25},
                                         {"inf", INFINITY},
                                         {"+Inf", INFINITY},
                                         {"-Infinity", -INFINITY}}) {
    absl::StatusOr<double> got = ParseExpositionFloat(c.in);
    ASSERT_THAT(got, IsOk()) << c.in;
    EXPECT_EQ(*got, c.want) << c.in;
  }
  EXPECT_TRUE(std::isnan(*ParseExpositionFloat("nan")));
  for (std::string bad : {"", "-", "1x", "abc", "1e999", "--1", " 1"}) {
    EXPECT_THAT(ParseExpositionFloat(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(ExpositionTest, ParsesSeriesText) {
  auto l = ParseExpositionSeries(R"(m{b="2",a="1"})");
  ASSERT_THAT(l, IsOk());
  EXPECT_EQ(l->ToString(), R"({__name__="m", a="1", b="2"})");
  EXPECT_THAT(ParseExpositionSeries("m{"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseExpositionSeries("m x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ExpositionTest, LoadsFilesAndReportsMissingOnes) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("paodin_expo_" + std::to_string(getpid()) + ".om"))
          .string();
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("# TYPE a gauge\na{x=\"1\"} 1 10\na{x=\"1\"} 2 20.5\r\n# EOF\n", f);
  std::fclose(f);
  MemStore store;
  LoadStats stats;
  ASSERT_THAT(LoadExpositionFile(path, &store, &stats), IsOk());
  EXPECT_EQ(stats.samples, 2);
  EXPECT_EQ(stats.lines, 4);
  EXPECT_EQ(store.Stats().max_time, 20500);
  std::filesystem::remove(path);
  EXPECT_THAT(LoadExpositionFile(path, &store), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace paodin::storeapi
