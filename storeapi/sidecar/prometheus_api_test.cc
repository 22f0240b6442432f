#include "storeapi/sidecar/prometheus_api.h"

#include <string>
#include <vector>

#include "engine/util/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;
using engine::Matcher;
using engine::MatchType;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

TEST(ParseConfigResponseTest, ReadsExternalLabels) {
  const std::string body =
      R"({"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\n  )"
      R"(external_labels:\n    cluster: host\n    replica: \"a\"\nscrape_configs: []\n"}})";
  EXPECT_EQ(*ParseConfigResponse(200, body), L({{"cluster", "host"}, {"replica", "a"}}));
}

TEST(ParseConfigResponseTest, NoExternalLabelsIsEmpty) {
  const std::string body =
      R"({"status":"success","data":{"yaml":"global:\n  scrape_interval: 1m\n"}})";
  EXPECT_TRUE(ParseConfigResponse(200, body)->empty());
}

TEST(ParseConfigResponseTest, ErrorsAreClear) {
  EXPECT_THAT(ParseConfigResponse(200, "<html>proxy</html>"),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(ParseConfigResponse(502, "<html>bad gateway</html>"),
              StatusHasSubstr("Prometheus answered HTTP 502"));
  EXPECT_THAT(ParseConfigResponse(200, R"({"status":"success","data":{}})"),
              StatusHasSubstr("no data.yaml"));
  EXPECT_THAT(ParseConfigResponse(200, R"({"status":"success","data":{"yaml":"global: [1, 2"}})"),
              StatusHasSubstr("bad configuration YAML"));
  EXPECT_THAT(ParseConfigResponse(
                  200, R"({"status":"success","data":{"yaml":"global:\n  external_labels: 3\n"}})"),
              StatusHasSubstr("not a map"));
}

TEST(ParseLowestTimestampTest, ReadsTheGauge) {
  const std::string text =
      "# HELP prometheus_tsdb_lowest_timestamp Lowest timestamp value stored in the database.\n"
      "# TYPE prometheus_tsdb_lowest_timestamp gauge\n"
      "prometheus_tsdb_lowest_timestamp 1.700000000123e+12\n"
      "prometheus_tsdb_lowest_timestamp_seconds 1.7e+09\n";
  EXPECT_EQ(**ParseLowestTimestamp(text), 1700000000123);
}

TEST(ParseLowestTimestampTest, EmptyTsdbHasNone) {
  EXPECT_FALSE(ParseLowestTimestamp("prometheus_tsdb_lowest_timestamp 9.223372036854776e+18\n")
                   ->has_value());
}

TEST(ParseLowestTimestampTest, MissingOrBadIsAnError) {
  EXPECT_THAT(ParseLowestTimestamp("up 1\n"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ParseLowestTimestamp("prometheus_tsdb_lowest_timestamp abc\n"),
              StatusIs(absl::StatusCode::kInternal));
}

TEST(ParseStringListResponseTest, ReadsLists) {
  EXPECT_THAT(*ParseStringListResponse(200, R"({"status":"success","data":["a","b\u003c"]})"),
              ElementsAre("a", "b<"));
  EXPECT_TRUE(ParseStringListResponse(200, R"({"status":"success","data":[]})")->empty());
  EXPECT_TRUE(ParseStringListResponse(200, R"({"status":"success","data":null})")->empty());
}

TEST(ParseStringListResponseTest, PrometheusErrorBecomesInvalidArgument) {
  EXPECT_THAT(
      ParseStringListResponse(
          400, R"({"status":"error","errorType":"bad_data","error":"invalid parameter"})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "reading Prometheus label API: Prometheus answered HTTP 400: invalid parameter"));
  EXPECT_THAT(ParseStringListResponse(200, R"({"status":"success","data":{"a":1}})"),
              StatusHasSubstr("not a list"));
}

TEST(ParseSeriesResponseTest, ReadsLabelSets) {
  absl::StatusOr<std::vector<Labels>> got = ParseSeriesResponse(
      200, R"({"status":"success","data":[{"__name__":"up","job":"a"},{"__name__":"up"}]})");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(*got, ElementsAre(L({{"__name__", "up"}, {"job", "a"}}), L({{"__name__", "up"}})));
  EXPECT_THAT(ParseSeriesResponse(200, R"({"status":"success","data":["x"]})"),
              StatusHasSubstr("not a map"));
}

TEST(MatchersTest, SelectorAndRemoteForm) {
  std::vector<Matcher> m = {*Matcher::Make(MatchType::kEqual, "__name__", "up"),
                            *Matcher::Make(MatchType::kRegexNoMatch, "job", "a\"b|c")};
  EXPECT_EQ(MatchersToSelector(m), R"({__name__="up",job!~"a\"b|c"})");
  google::protobuf::RepeatedPtrField<prometheus::LabelMatcher> remote;
  MatchersToRemote(m, &remote);
  ASSERT_EQ(remote.size(), 2);
  EXPECT_EQ(remote[0].type(), prometheus::LabelMatcher::EQ);
  EXPECT_EQ(remote[1].type(), prometheus::LabelMatcher::NRE);
  EXPECT_EQ(remote[1].value(), "a\"b|c");
}

TEST(UrlTest, ParsesAndEncodes) {
  absl::StatusOr<HttpClient::Endpoint> e = ParseHttpUrl("http://prom:9090/sub/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "prom");
  EXPECT_EQ(e->port, "9090");
  EXPECT_EQ(e->path_prefix, "/sub");
  EXPECT_EQ(ParseHttpUrl("http://localhost")->port, "80");
  EXPECT_EQ(ParseHttpUrl("http://[::1]:9090")->host, "::1");
  EXPECT_THAT(ParseHttpUrl("https://prom:9090"), StatusHasSubstr("only http://"));
  EXPECT_THAT(ParseHttpUrl("http://:9090"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHttpUrl("http://prom:90x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(UrlEncode(R"({a="b c"})"), "%7Ba%3D%22b%20c%22%7D");
}

}  // namespace
}  // namespace paodin::storeapi
