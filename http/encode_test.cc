#include "http/encode.h"

#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "http/testing/fakes.h"

namespace paodin::http {
namespace {

class StringSink : public BodySink {
 public:
  absl::Status Write(std::string_view data) override {
    if (fail_after >= 0 && writes >= fail_after)
      return absl::CancelledError("client went away");
    ++writes;
    body.append(data);
    return absl::OkStatus();
  }

  std::string body;
  int writes = 0;
  int fail_after = -1;
};

engine::Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *engine::Labels::FromPairs(std::move(pairs));
}

std::string Encode(const QueryResult& r, size_t flush_bytes = 1 << 16) {
  StringSink sink;
  JsonOut out(&sink, flush_bytes);
  EXPECT_TRUE(WriteQueryResponse(r, false, {}, out).ok());
  return sink.body;
}

TEST(EncodeTest, VectorMatchesPrometheus) {
  QueryResult r;
  r.type = ResultType::kVector;
  r.series.push_back(testing::MakeSeries(
      {{"__name__", "up"}, {"job", "prometheus"}, {"instance", "localhost:9090"}},
      {{1435781451781, 1}}));
  r.series.push_back(testing::MakeSeries({}, {{10500, 1e-7}}));
  EXPECT_EQ(Encode(r),
            R"({"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"up","instance":"localhost:9090","job":"prometheus"},)"
            R"("value":[1435781451.781,"1"]},{"metric":{},"value":[10.500,"1e-07"]}]}})");
}

TEST(EncodeTest, EmptyResultsAreEmptyArrays) {
  QueryResult r;
  r.type = ResultType::kVector;
  EXPECT_EQ(Encode(r), R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  r.type = ResultType::kMatrix;
  EXPECT_EQ(Encode(r), R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
}

TEST(EncodeTest, ScalarAndStringUseFloatTimestamps) {
  QueryResult r;
  r.type = ResultType::kScalar;
  r.t_ms = 4000;
  r.scalar = 2;
  EXPECT_EQ(Encode(r), R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  r.t_ms = 10500;
  r.scalar = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Encode(r),
            R"({"status":"success","data":{"resultType":"scalar","result":[10.5,"+Inf"]}})");
  r.t_ms = 10000;
  r.scalar = 1e-7;
  EXPECT_EQ(Encode(r),
            R"({"status":"success","data":{"resultType":"scalar","result":[10,"0.0000001"]}})");
  r.type = ResultType::kString;
  r.t_ms = 1100;
  r.str = "<hello>";
  EXPECT_EQ(
      Encode(r),
      R"({"status":"success","data":{"resultType":"string","result":[1.1,"\u003chello\u003e"]}})");
}

TEST(EncodeTest, MatrixWithWarnings) {
  QueryResult r;
  r.type = ResultType::kMatrix;
  r.series.push_back(testing::MakeSeries({{"a", "b"}}, {{1000, 1}, {2200, 2.2}, {3400, 3.4}}));
  r.warnings = {"w1", "partial \"response\""};
  EXPECT_EQ(Encode(r), R"({"status":"success","data":{"resultType":"matrix","result":[)"
                       R"({"metric":{"a":"b"},"values":[[1,"1"],[2.200,"2.2"],[3.400,"3.4"]]}]},)"
                       R"("warnings":["w1","partial \"response\""]})");
}

TEST(EncodeTest, LargeMatrixStreamsInPiecesWithIdenticalBytes) {
  QueryResult r;
  r.type = ResultType::kMatrix;
  for (int s = 0; s < 50; ++s) {
    ResultSeries series;
    series.labels = L({{"i", std::to_string(s)}});
    for (int p = 0; p < 3000; ++p) {
      series.ts.push_back(p * 15000LL);
      series.vs.push_back(p * 0.5);
    }
    r.series.push_back(std::move(series));
  }
  std::string whole = Encode(r, std::numeric_limits<size_t>::max());
  StringSink sink;
  JsonOut out(&sink, 4096);
  ASSERT_TRUE(WriteQueryResponse(r, false, {}, out).ok());
  EXPECT_GT(sink.writes, 100);
  EXPECT_EQ(sink.body, whole);
}

TEST(EncodeTest, FailingSinkStopsTheEncoder) {
  QueryResult r;
  r.type = ResultType::kMatrix;
  for (int s = 0; s < 100; ++s) {
    r.series.push_back(testing::MakeSeries({{"i", std::to_string(s)}}, {{1000, 1}, {2000, 2}}));
  }
  StringSink sink;
  sink.fail_after = 2;
  JsonOut out(&sink, 64);
  absl::Status s = WriteQueryResponse(r, false, {}, out);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(sink.writes, 2);
}

TEST(EncodeTest, StatsFollowResult) {
  QueryResult r;
  r.type = ResultType::kScalar;
  r.t_ms = 1000;
  r.scalar = 1;
  r.stats.peak_samples = 1;
  StringSink sink;
  JsonOut out(&sink);
  ExecTimings t{0.5, 0.25};
  ASSERT_TRUE(WriteQueryResponse(r, true, t, out).ok());
  EXPECT_EQ(sink.body,
            R"({"status":"success","data":{"resultType":"scalar","result":[1,"1"],"stats":)"
            R"({"timings":{"evalTotalTime":0.25,"resultSortTime":0,"queryPreparationTime":0,)"
            R"("innerEvalTime":0.25,"execQueueTime":0.5,"execTotalTime":0.75},)"
            R"("samples":{"totalQueryableSamples":0,"peakSamples":1}}}})");
}

TEST(EncodeTest, SeriesAndStringsAndErrors) {
  StringSink sink;
  JsonOut out(&sink);
  ASSERT_TRUE(WriteSeriesResponse({L({{"__name__", "up"}, {"job", "a"}})}, {}, out).ok());
  EXPECT_EQ(sink.body, R"({"status":"success","data":[{"__name__":"up","job":"a"}]})");
  sink.body.clear();
  ASSERT_TRUE(
      WriteStringsResponse({"__name__", "instance"}, {"results truncated due to limit"}, out).ok());
  EXPECT_EQ(sink.body, R"({"status":"success","data":["__name__","instance"],)"
                       R"("warnings":["results truncated due to limit"]})");
  std::string err;
  WriteErrorResponse({ErrorType::kBadData, "invalid parameter \"query\": 1:5: <x>"}, err);
  EXPECT_EQ(err, R"({"status":"error","errorType":"bad_data","error":)"
                 R"("invalid parameter \"query\": 1:5: \u003cx\u003e"})");
}

TEST(EncodeTest, StoresGroupByComponentType) {
  EndpointStatus a;
  a.name = "prom-0-sidecar:10901";
  a.component_type = "sidecar";
  a.last_check = absl::FromUnixNanos(1755856805123456789);
  a.label_sets = {L({{"cluster", "eu1"}, {"replica", "0"}})};
  a.min_time = 1755770400000;
  a.max_time = std::numeric_limits<int64_t>::max();
  EndpointStatus b;
  b.name = "store-gw:10901";
  b.component_type = "store";
  b.last_check = absl::FromUnixMillis(1755856804900);
  b.last_error = "rpc error: code = Unavailable";
  b.min_time = 1;
  b.max_time = 2;
  EndpointStatus unknown;
  unknown.name = "new:1";
  EXPECT_EQ(StoresData({b, unknown, a}),
            R"({"sidecar":[{"name":"prom-0-sidecar:10901","lastCheck":)"
            R"("2025-08-22T10:00:05.123456789Z","lastError":null,"labelSets":)"
            R"([{"cluster":"eu1","replica":"0"}],"minTime":1755770400000,)"
            R"("maxTime":9223372036854775807}],"store":[{"name":"store-gw:10901",)"
            R"("lastCheck":"2025-08-22T10:00:04.9Z","lastError":"rpc error: code = Unavailable",)"
            R"("labelSets":[],"minTime":1,"maxTime":2}]})");
  EXPECT_EQ(StoresData({}), "{}");
}

TEST(EncodeTest, StatusData) {
  BuildInfo info{"0.43.0", "abc", "HEAD", "root@h", "20260822-10:55:20", "c++20"};
  EXPECT_EQ(BuildInfoData(info),
            R"({"version":"0.43.0","revision":"abc","branch":"HEAD","buildUser":"root@h",)"
            R"("buildDate":"20260822-10:55:20","goVersion":"c++20"})");
  EXPECT_EQ(FlagsData({{"query.timeout", "2m"}, {"http-address", "0.0.0.0:10902"}}),
            R"({"http-address":"0.0.0.0:10902","query.timeout":"2m"})");
  EXPECT_EQ(MetadataData({{"up", {{"gauge", "Up.", ""}}}}),
            R"({"up":[{"type":"gauge","help":"Up.","unit":""}]})");
  EXPECT_EQ(MetadataData({}), "{}");
}

}  // namespace
}  // namespace paodin::http
