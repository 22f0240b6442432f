#include "tests/differential/data_gen.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
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
    for (size_t j = 1; j < s.ts.size(); ++j)
      ASSERT_LT(s.ts[j - 1], s.ts[j]);
    for (size_t j = 1; j < s.labels.size(); ++j)
      ASSERT_LT(s.labels[j - 1].first, s.labels[j].first);
    for (double v : s.vs)
      stale += IsStale(v);
    for (const auto& [n, v] : s.labels) {
      if (n == "__name__")
        names.insert(v);
    }
  }
  EXPECT_GT(stale, 30);
  for (const char* want : {"http_requests_total", "http_request_duration_seconds_bucket", "up",
                           "kube_pod_info", "odd_values", "temperature_celsius"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
}

TEST(DataGenTest, HistogramBucketsAreCumulativeAndEndInInfEqualToCount) {
  DataSet d = GenerateDataSet(DataSetSpec{});
  // Per target: upper bound -> series, and the _count series.
  std::map<std::string, std::map<double, const GenSeries*>> buckets;
  std::map<std::string, const GenSeries*> counts;
  for (const GenSeries& s : d.series) {
    std::string name, target, le;
    for (const auto& [n, v] : s.labels) {
      if (n == "__name__")
        name = v;
      if (n == "instance" || n == "namespace" || n == "job")
        target += v + "/";
      if (n == "le")
        le = v;
    }
    if (name == "http_request_duration_seconds_bucket") {
      buckets[target][std::strtod(le.c_str(), nullptr)] = &s;
    } else if (name == "http_request_duration_seconds_count") {
      counts[target] = &s;
    }
  }
  ASSERT_EQ(buckets.size(), 8u);
  for (const auto& [target, by_le] : buckets) {
    ASSERT_EQ(by_le.size(), 12u) << target;
    ASSERT_TRUE(std::isinf(by_le.rbegin()->first)) << target;
    const GenSeries* inf = by_le.rbegin()->second;
    ASSERT_TRUE(counts.count(target)) << target;
    EXPECT_EQ(inf->ts, counts[target]->ts) << target;
    for (size_t i = 0; i < inf->vs.size(); ++i) {
      if (IsStale(inf->vs[i]))
        continue;
      EXPECT_EQ(inf->vs[i], counts[target]->vs[i]) << target;
      double prev = -1;
      for (const auto& [bound, s] : by_le) {
        ASSERT_EQ(s->ts, inf->ts) << target;
        EXPECT_GE(s->vs[i], prev) << target << " le=" << bound;
        prev = s->vs[i];
      }
    }
  }
}

}  // namespace
}  // namespace paodin::differential
