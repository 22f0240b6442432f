#include "storeapi/ingest/synthetic.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/ingest/exposition.h"

namespace paodin::storeapi {
namespace {

using ::paodin::testing::IsOk;
using ::paodin::testing::StatusHasSubstr;

constexpr int64_t kStart = 1700000000000;

SyntheticSpec Spec(std::string_view text) {
  absl::StatusOr<SyntheticSpec> spec = ParseSyntheticSpec(text, kStart);
  EXPECT_THAT(spec, IsOk()) << text;
  return spec.ok() ? *spec : SyntheticSpec();
}

// Every series of a spec as "labels" -> samples, via GenerateInto.
std::map<std::string, std::vector<std::pair<int64_t, double>>> Dump(const MemStore& store) {
  std::map<std::string, std::vector<std::pair<int64_t, double>>> out;
  engine::SelectHints hints;
  hints.start_ms = std::numeric_limits<int64_t>::min();
  hints.end_ms = std::numeric_limits<int64_t>::max();
  auto set = const_cast<MemStore&>(store).Select(hints, {}, {});
  while ((*set)->Next()) {
    auto& samples = out[(*set)->labels().ToString()];
    auto it = (*set)->Samples();
    int64_t ts[64];
    double vs[64];
    for (;;) {
      size_t n = *it->Next(ts, vs);
      if (n == 0) {
        break;
      }
      for (size_t i = 0; i < n; ++i) {
        samples.emplace_back(ts[i], vs[i]);
      }
    }
  }
  return out;
}

TEST(SyntheticSpecTest, ParsesEveryKey) {
  SyntheticSpec s =
      Spec("series=10000,duration=6h,interval=15s,seed=7,start=1600000000.5,gaps=0.01");
  EXPECT_EQ(s.series, 10000);
  EXPECT_EQ(s.duration_ms, 6 * 3600 * 1000);
  EXPECT_EQ(s.interval_ms, 15000);
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.start_ms, 1600000000500);
  EXPECT_EQ(s.gaps, 0.01);
  EXPECT_EQ(s.ToString(),
            "series=10000,duration=6h,interval=15s,seed=7,start=1600000000.5,gaps=0.01");
  EXPECT_EQ(Spec(s.ToString()).ToString(), s.ToString());
}

TEST(SyntheticSpecTest, DefaultStartEndsTheDataNowOnTheIntervalGrid) {
  SyntheticSpec s = Spec("duration=1h,interval=10s");
  EXPECT_EQ(s.start_ms % 10000, 0);
  EXPECT_LE(s.start_ms, kStart - 3600 * 1000);
  EXPECT_GT(s.start_ms, kStart - 3600 * 1000 - 10000);
}

TEST(SyntheticSpecTest, RejectsBadSpecs) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"series=0", "bad series \"0\": must be positive"},
      {"series=x", "bad series \"x\": not an integer"},
      {"duration=6", "bad duration \"6\""},
      {"interval=0s", "bad interval \"0s\": must be positive"},
      {"seed=-1", "bad seed"},
      {"start=yesterday", "bad start"},
      {"gaps=1", "bad gaps \"1\""},
      {"colour=red", "unknown key \"colour\""},
      {"series", "expected key=value"},
      {"duration=1s,interval=15s", "duration must be at least one interval"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_THAT(ParseSyntheticSpec(text, kStart), StatusHasSubstr(message)) << text;
  }
}

TEST(SyntheticTest, SameSeedSameDataOtherSeedOtherData) {
  const std::string base = "series=100,duration=30m,interval=15s,start=1700000000,gaps=0.05";
  MemStore a, b, c;
  ASSERT_THAT(GenerateInto(Spec(base + ",seed=1"), &a), IsOk());
  ASSERT_THAT(GenerateInto(Spec(base + ",seed=1"), &b), IsOk());
  ASSERT_THAT(GenerateInto(Spec(base + ",seed=2"), &c), IsOk());
  auto da = Dump(a);
  EXPECT_EQ(da.size(), 100u);
  EXPECT_EQ(da, Dump(b));
  EXPECT_NE(da, Dump(c));
}

TEST(SyntheticTest, ProducesExactlyTheRequestedSeriesCount) {
  for (int64_t n : {1, 7, 8, 20, 21, 22, 43, 1000}) {
    MemStore store;
    SyntheticSpec spec = Spec("duration=1m,interval=15s,start=1700000000");
    spec.series = n;
    ASSERT_THAT(GenerateInto(spec, &store), IsOk());
    EXPECT_EQ(store.Stats().num_series, static_cast<size_t>(n)) << n;
  }
}

TEST(SyntheticTest, SeriesLookLikeMonitoringData) {
  MemStore store;
  ASSERT_THAT(
      GenerateInto(Spec("series=210,duration=6h,interval=15s,start=1700000000,seed=3"), &store),
      IsOk());
  auto dump = Dump(store);
  int counters = 0;
  int resets = 0;
  int histograms = 0;
  std::map<std::string, std::vector<std::string>> label_values;
  for (const auto& [labels, samples] : dump) {
    EXPECT_EQ(samples.size(), 6u * 240) << labels;
    for (size_t i = 1; i < samples.size(); ++i) {
      EXPECT_EQ(samples[i].first - samples[i - 1].first, 15000) << labels;
    }
    EXPECT_GE(samples.front().first, 1700000000000);
    EXPECT_LT(samples.front().first, 1700000015000);
    if (labels.find("_total\"") != std::string::npos) {
      ++counters;
      for (size_t i = 1; i < samples.size(); ++i) {
        resets += samples[i].second < samples[i - 1].second;
      }
    }
    for (std::string key : {"namespace=", "job=", "pod=", "instance="}) {
      EXPECT_NE(labels.find(key), std::string::npos) << labels;
    }
  }
  EXPECT_EQ(counters, 10 * 5);
  EXPECT_GT(resets, 0);
  // Histograms: cumulative buckets, +Inf equal to _count, all per scrape.
  for (const auto& [labels, samples] : dump) {
    if (labels.find("http_request_duration_seconds_count") == std::string::npos) {
      continue;
    }
    ++histograms;
    auto bucket_key = [&](std::string le) {
      std::string k = labels;
      k.replace(k.find("_count\""), 7, "_bucket\"");
      k.replace(k.find(", namespace="), 0, ", le=\"" + le + "\"");
      return k;
    };
    ASSERT_EQ(dump.count(bucket_key("+Inf")), 1u) << bucket_key("+Inf");
    EXPECT_EQ(dump.at(bucket_key("+Inf")), samples);
    const auto& b1 = dump.at(bucket_key("0.1"));
    const auto& b2 = dump.at(bucket_key("0.25"));
    for (size_t i = 0; i < samples.size(); ++i) {
      EXPECT_LE(b1[i].second, b2[i].second);
      EXPECT_LE(b2[i].second, samples[i].second);
    }
  }
  EXPECT_EQ(histograms, 10);
}

TEST(SyntheticTest, GapsDropSamplesAndZeroUp) {
  MemStore store;
  ASSERT_THAT(
      GenerateInto(Spec("series=21,duration=6h,interval=15s,start=1700000000,gaps=0.2"), &store),
      IsOk());
  auto dump = Dump(store);
  size_t up_zero = 0;
  for (const auto& [labels, samples] : dump) {
    if (labels.rfind("{__name__=\"up\"", 0) == 0) {
      EXPECT_EQ(samples.size(), 1440u);
      for (auto [t, v] : samples) {
        up_zero += v == 0;
      }
    }
  }
  for (const auto& [labels, samples] : dump) {
    if (labels.rfind("{__name__=\"up\"", 0) != 0) {
      EXPECT_EQ(samples.size(), 1440u - up_zero) << labels;
    }
  }
  EXPECT_GT(up_zero, 200u);
  EXPECT_LT(up_zero, 400u);
}

TEST(SyntheticTest, OpenMetricsTimestampsReadBackExactly) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{-1500}, int64_t{1081038903949},
                     int64_t{2148318510219}, int64_t{1700000015100}, int64_t{-2148318510219}}) {
    std::string text = FormatOpenMetricsTimestamp(ms);
    MemStore store;
    ASSERT_THAT(
        LoadExposition("a 1 " + text + "\n# EOF\n", ExpositionFormat::kOpenMetrics, "x", &store),
        IsOk())
        << text;
    EXPECT_EQ(store.Stats().min_time, ms) << text;
  }
  EXPECT_EQ(FormatOpenMetricsTimestamp(1700000015100), "1700000015.1");
  EXPECT_EQ(FormatOpenMetricsTimestamp(1081038903949), "1081038903.9495");
}

TEST(SyntheticTest, OpenMetricsFileHoldsTheSameData) {
  SyntheticSpec spec = Spec("series=50,duration=1h,interval=30s,start=2148318500,seed=9,gaps=0.1");
  MemStore direct;
  ASSERT_THAT(GenerateInto(spec, &direct), IsOk());
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("paodin_synth_" + std::to_string(getpid()) + ".om"))
                               .string();
  ASSERT_THAT(WriteOpenMetricsFile(spec, path), IsOk());
  MemStore loaded;
  ASSERT_THAT(LoadExpositionFile(path, &loaded), IsOk());
  std::filesystem::remove(path);
  auto a = Dump(direct);
  auto b = Dump(loaded);
  ASSERT_EQ(a.size(), 50u);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [labels, samples] : a) {
    ASSERT_EQ(b.count(labels), 1u) << labels;
    const auto& other = b.at(labels);
    ASSERT_EQ(samples.size(), other.size()) << labels;
    for (size_t i = 0; i < samples.size(); ++i) {
      EXPECT_EQ(samples[i].first, other[i].first);
      EXPECT_EQ(std::memcmp(&samples[i].second, &other[i].second, sizeof(double)), 0) << labels;
    }
  }
}

TEST(SyntheticTest, WriteFailsForAnUnwritablePath) {
  EXPECT_FALSE(WriteOpenMetricsFile(Spec("series=1"), "/nonexistent/dir/x.om").ok());
}

}  // namespace
}  // namespace paodin::storeapi
