#include "tests/differential/data_gen.h"

#include <cmath>
#include <cstring>
#include <set>

#include "gtest/gtest.h"

namespace paodin::differential {
namespace {

bool IsStale(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == 0x7ff0000000000002ULL;
}

TEST(DataGenTest, IsDeterministicAndWellFormed) {
  DataSetSpec spec;
  spec.start_ms = 1701381600000;
  DataSet a = GenerateDataSet(spec);
  DataSet b = GenerateDataSet(spec);
  ASSERT_EQ(a.series.size(), b.series.size());
  EXPECT_EQ(a.num_samples, b.num_samples);
  EXPECT_GT(a.series.size(), 200u);
  EXPECT_LT(a.series.size(), 600u);
  EXPECT_GE(a.min_ms, spec.start_ms);
  EXPECT_LE(a.max_ms, spec.start_ms + spec.duration_ms);
  int64_t stale = 0;
  std::set<std::string> names;
  for (size_t i = 0; i < a.series.size(); ++i) {
    const GenSeries& s = a.series[i];
    EXPECT_EQ(s.labels, b.series[i].labels);
    EXPECT_EQ(s.ts, b.series[i].ts);
    ASSERT_FALSE(s.ts.empty());
    for (size_t j = 1; j < s.ts.size(); ++j) ASSERT_LT(s.ts[j - 1], s.ts[j]);
    for (size_t j = 1; j < s.labels.size(); ++j) ASSERT_LT(s.labels[j - 1].first, s.labels[j].first);
    for (double v : s.vs) stale += IsStale(v);
    for (const auto& [n, v] : s.labels) {
      if (n == "__name__") names.insert(v);
    }
  }
  EXPECT_GT(stale, 30);
  for (const char* want : {"http_requests_total", "http_request_duration_seconds_bucket",
                           "up", "kube_pod_info", "odd_values", "temperature_celsius"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
}

TEST(DataGenTest, HistogramBucketsAreCumulativeWithInf) {
  DataSetSpec spec;
  DataSet d = GenerateDataSet(spec);
  int inf_buckets = 0;
  for (const GenSeries& s : d.series) {
    for (const auto& [n, v] : s.labels) {
      if (n == "le" && v == "+Inf") ++inf_buckets;
    }
  }
  EXPECT_EQ(inf_buckets, 8);
}

}  // namespace
}  // namespace paodin::differential
