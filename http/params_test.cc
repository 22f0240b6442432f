#include "http/params.h"

#include <string>
#include <vector>

#include "engine/model/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/testing/fakes.h"

namespace paodin::http {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Form Get(std::string_view query) { return Form::Parse("GET", query, "", ""); }

constexpr int64_t kNow = 1700000000123;

struct ErrorCase {
  const char* query;
  const char* message;
};

TEST(ParamsTest, InstantQueryDefaultsAndValues) {
  ParamDefaults d;
  d.replica_labels = {"replica"};
  auto p = ParseInstantQuery(Get("query=up"), d, testing::FakeParseSelector, kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->request.time_ms, kNow);
  EXPECT_EQ(p->timeout_ms, 120000);
  EXPECT_EQ(p->request.params.query, "up");
  EXPECT_TRUE(p->request.params.dedup);
  EXPECT_TRUE(p->request.params.partial_response);
  EXPECT_THAT(p->request.params.replica_labels, ElementsAre("replica"));
  EXPECT_EQ(p->request.params.engine, "prometheus");
  EXPECT_FALSE(p->request.params.stats);

  p = ParseInstantQuery(
      Get("query=x&time=1435781451.781&timeout=30s&dedup=false&partial_response=0"
          "&replicaLabels[]=a&replicaLabels[]=b&storeMatch[]={__address__=\"s:1\"}"
          "&max_source_resolution=5m&engine=thanos&lookback_delta=1m&stats=all"),
      d, testing::FakeParseSelector, kNow);
  ASSERT_TRUE(p.ok()) << p.status();
  const QueryParams& q = p->request.params;
  EXPECT_EQ(p->request.time_ms, 1435781451781);
  EXPECT_EQ(p->timeout_ms, 30000);
  EXPECT_FALSE(q.dedup);
  EXPECT_FALSE(q.partial_response);
  EXPECT_THAT(q.replica_labels, ElementsAre("a", "b"));
  ASSERT_EQ(q.store_matchers.size(), 1u);
  EXPECT_EQ(q.store_matchers[0][0].ToString(), "__address__=\"s:1\"");
  EXPECT_EQ(q.max_source_resolution_ms, 300000);
  EXPECT_EQ(q.engine, "thanos");
  EXPECT_EQ(q.lookback_delta_ms, 60000);
  EXPECT_TRUE(q.stats);
}

TEST(ParamsTest, TimeoutIsCappedByTheFlag) {
  ParamDefaults d;
  d.query_timeout_ms = 10000;
  auto p = ParseInstantQuery(Get("timeout=1h"), d, testing::FakeParseSelector, kNow);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->timeout_ms, 10000);
  p = ParseInstantQuery(Get("timeout=0"), d, testing::FakeParseSelector, kNow);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->timeout_ms, 0);
}

TEST(ParamsTest, InstantQueryErrors) {
  const ErrorCase cases[] = {
      {"time=x",
       "invalid parameter \"time\": Invalid time value for 'time': cannot parse \"x\" to a valid "
       "timestamp"},
      {"time=1e400",
       "invalid parameter \"time\": Invalid time value for 'time': cannot parse \"1e400\" to a "
       "valid timestamp"},
      {"timeout=x", "invalid parameter \"timeout\": cannot parse \"x\" to a valid duration"},
      {"timeout=-1s", "invalid parameter \"timeout\": cannot parse \"-1s\" to a valid duration"},
      {"dedup=yes", "'dedup' parameter: strconv.ParseBool: parsing \"yes\": invalid syntax"},
      {"storeMatch[]=1+1", "1:1: parse error: unexpected input \"1 1\""},
      {"partial_response=2",
       "'partial_response' parameter: strconv.ParseBool: parsing \"2\": invalid syntax"},
      {"max_source_resolution=x",
       "'max_source_resolution' parameter: cannot parse \"x\" to a valid duration"},
      {"max_source_resolution=-300",
       "negative 'max_source_resolution' is not accepted. Try a positive integer"},
      {"engine=duck", "'duck' bad engine"},
      {"lookback_delta=1x", "'lookback_delta' parameter: cannot parse \"1x\" to a valid duration"},
  };
  for (const ErrorCase& c : cases) {
    auto p = ParseInstantQuery(Get(c.query), ParamDefaults{}, testing::FakeParseSelector, kNow);
    ASSERT_FALSE(p.ok()) << c.query;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(), c.message) << c.query;
  }
}

TEST(ParamsTest, ErrorsComeInPrometheusOrder) {
  auto p = ParseInstantQuery(Get("timeout=x&time=y&dedup=z"), ParamDefaults{},
                             testing::FakeParseSelector, kNow);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), ::testing::HasSubstr("\"time\""));
  auto r = ParseRangeQuery(Get("start=1&end=2&step=x&timeout=y"), ParamDefaults{},
                           testing::FakeParseSelector);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("\"step\""));
}

TEST(ParamsTest, MaxSourceResolutionAutoAndDefaults) {
  ParamDefaults d;
  auto r = ParseRangeQuery(Get("start=0&end=3600&step=60&max_source_resolution=auto"), d,
                           testing::FakeParseSelector);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request.params.max_source_resolution_ms, 12000);
  r = ParseRangeQuery(Get("start=0&end=3600&step=60"), d, testing::FakeParseSelector);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request.params.max_source_resolution_ms, 0);
  d.auto_downsampling = true;
  r = ParseRangeQuery(Get("start=0&end=3600&step=60"), d, testing::FakeParseSelector);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request.params.max_source_resolution_ms, 12000);
  d.instant_max_source_resolution_ms = 3600000;
  auto i = ParseInstantQuery(Get(""), d, testing::FakeParseSelector, kNow);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->request.params.max_source_resolution_ms, 3600000);
}

TEST(ParamsTest, RangeQueryValues) {
  auto r = ParseRangeQuery(
      Get("query=up&start=2015-07-01T20:10:30.781Z&end=2015-07-01T20:11:00.781Z&step=15s"),
      ParamDefaults{}, testing::FakeParseSelector);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->request.start_ms, 1435781430781);
  EXPECT_EQ(r->request.end_ms, 1435781460781);
  EXPECT_EQ(r->request.step_ms, 15000);
  EXPECT_EQ(r->request.params.query, "up");
}

TEST(ParamsTest, RangeStepDefaultsLikeThanos) {
  struct Case {
    const char* query;
    int64_t default_step_ms;
    int64_t want_step_ms;
  };

  const Case cases[] = {
      {"start=0&end=3600", 1000, 14000},     // 3600/250 = 14 (integer seconds)
      {"start=0&end=100", 1000, 1000},       // max(0, 1)
      {"start=0&end=100", 30000, 30000},     // the flag wins
      {"start=0&end=86400", 60000, 345000},  // 86400/250 = 345
      {"start=0&end=1000.9", 1000, 4000},    // whole seconds of the range
      {"start=0&end=0", 1000, 1000},
  };
  for (const Case& c : cases) {
    ParamDefaults d;
    d.default_step_ms = c.default_step_ms;
    auto r = ParseRangeQuery(Get(c.query), d, testing::FakeParseSelector);
    ASSERT_TRUE(r.ok()) << c.query << r.status();
    EXPECT_EQ(r->request.step_ms, c.want_step_ms) << c.query;
  }
  ParamDefaults sub_second;
  sub_second.default_step_ms = 500;
  auto r = ParseRangeQuery(Get("start=0&end=100"), sub_second, testing::FakeParseSelector);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("zero or negative"));
}

TEST(ParamsTest, RangeQueryErrors) {
  const ErrorCase cases[] = {
      {"end=1", "invalid parameter \"start\": cannot parse \"\" to a valid timestamp"},
      {"start=x&end=1", "invalid parameter \"start\": cannot parse \"x\" to a valid timestamp"},
      {"start=1", "invalid parameter \"end\": cannot parse \"\" to a valid timestamp"},
      {"start=1&end=0", "invalid parameter \"end\": end timestamp must not be before start time"},
      {"start=1&end=2&step=abc",
       "invalid parameter \"step\": cannot parse \"abc\" to a valid duration"},
      {"start=1&end=2&step=9223372037",
       "invalid parameter \"step\": cannot parse \"9223372037\" to a valid duration. It "
       "overflows int64"},
      {"start=1&end=2&step=0",
       "invalid parameter \"step\": zero or negative query resolution step widths are not "
       "accepted. Try a positive integer"},
      {"start=1&end=2&step=-1",
       "invalid parameter \"step\": zero or negative query resolution step widths are not "
       "accepted. Try a positive integer"},
      {"start=0&end=110010&step=10",
       "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
       "resolution (?step=XX)"},
      {"start=1&end=2&step=1&timeout=z",
       "invalid parameter \"timeout\": cannot parse \"z\" to a valid duration"},
      {"start=1&end=2&step=1&dedup=nope",
       "'dedup' parameter: strconv.ParseBool: parsing \"nope\": invalid syntax"},
      {"start=1&end=2&step=1&max_source_resolution=-1",
       "negative 'max_source_resolution' is not accepted. Try a positive integer"},
      {"start=1&end=2&step=1&engine=x", "'x' bad engine"},
  };
  for (const ErrorCase& c : cases) {
    auto r = ParseRangeQuery(Get(c.query), ParamDefaults{}, testing::FakeParseSelector);
    ASSERT_FALSE(r.ok()) << c.query;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message) << c.query;
  }
}

TEST(ParamsTest, ElevenThousandStepsAreAccepted) {
  // The check divides integers: exactly 11000 steps (11001 points) pass.
  auto r = ParseRangeQuery(Get("start=0&end=110000&step=10"), ParamDefaults{},
                           testing::FakeParseSelector);
  EXPECT_TRUE(r.ok());
  r = ParseRangeQuery(Get("start=0&end=110009.999&step=10"), ParamDefaults{},
                      testing::FakeParseSelector);
  EXPECT_TRUE(r.ok());
  // The whole representable range saturates like Go's time.Sub and is rejected only by the
  // resolution check.
  r = ParseRangeQuery(
      Get("start=-292273086-05-16T16:47:06Z&end=292277025-08-18T07:12:54.999999999Z&step=1e9"),
      ParamDefaults{}, testing::FakeParseSelector);
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(ParamsTest, MetadataDefaultsToAllTime) {
  auto r = ParseMetadataRequest(MetadataEndpoint::kLabelNames, Get(""), ParamDefaults{},
                                testing::FakeParseSelector, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->start_ms, engine::kMinApiTime);
  EXPECT_EQ(r->end_ms, engine::kMaxApiTime);
  EXPECT_THAT(r->matchers, IsEmpty());
  EXPECT_EQ(r->limit, 0);

  ParamDefaults d;
  d.metadata_time_range_ms = 3600000;
  r = ParseMetadataRequest(MetadataEndpoint::kLabelValues, Get("limit=5"), d,
                           testing::FakeParseSelector, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->start_ms, kNow - 3600000);
  EXPECT_EQ(r->end_ms, kNow);
  EXPECT_EQ(r->limit, 5);
}

TEST(ParamsTest, SeriesReadsDedupAndReplicaLabels) {
  ParamDefaults d;
  d.replica_labels = {"r"};
  auto r = ParseMetadataRequest(
      MetadataEndpoint::kSeries,
      Get("match[]=up&match[]={job=\"a\"}&dedup=false&replicaLabels[]=x&start=1&end=2"), d,
      testing::FakeParseSelector, kNow);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->matchers.size(), 2u);
  EXPECT_FALSE(r->dedup);
  EXPECT_THAT(r->replica_labels, ElementsAre("x"));
  EXPECT_EQ(r->start_ms, 1000);
  EXPECT_EQ(r->end_ms, 2000);

  // Label endpoints take no replica labels, as Thanos does.
  r = ParseMetadataRequest(MetadataEndpoint::kLabelNames, Get("replicaLabels[]=x"), d,
                           testing::FakeParseSelector, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->replica_labels, IsEmpty());
}

TEST(ParamsTest, MetadataErrors) {
  struct Case {
    MetadataEndpoint endpoint;
    const char* query;
    const char* message;
  };

  const Case cases[] = {
      {MetadataEndpoint::kSeries, "", "no match[] parameter provided"},
      {MetadataEndpoint::kSeries, "match[]=up&x=%zz",
       "error parsing form values: invalid URL escape \"%zz\""},
      {MetadataEndpoint::kSeries, "match[]=up&start=x",
       "invalid parameter \"start\": Invalid time value for 'start': cannot parse \"x\" to a "
       "valid timestamp"},
      {MetadataEndpoint::kLabelNames, "end=x",
       "invalid parameter \"end\": Invalid time value for 'end': cannot parse \"x\" to a valid "
       "timestamp"},
      {MetadataEndpoint::kLabelNames, "start=10&end=5",
       "end timestamp must not be before start time"},
      {MetadataEndpoint::kSeries, "match[]={job=~\".*\"}",
       "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"},
      {MetadataEndpoint::kLabelNames, "match[]={a=\"\"}",
       "match[] must contain at least one non-empty matcher"},
      {MetadataEndpoint::kSeries, "match[]=1",
       "invalid parameter \"match[]\": 1:1: parse error: unexpected input \"1\""},
      {MetadataEndpoint::kLabelValues, "match[]=up&match[]=1",
       "1:1: parse error: unexpected input \"1\""},
      {MetadataEndpoint::kLabelNames, "limit=x",
       "invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax"},
      {MetadataEndpoint::kLabelNames, "limit=99999999999999999999",
       "invalid parameter \"limit\": strconv.Atoi: parsing \"99999999999999999999\": value out "
       "of range"},
      {MetadataEndpoint::kLabelNames, "limit=-1",
       "invalid parameter \"limit\": limit must be non-negative"},
      {MetadataEndpoint::kSeries, "match[]=up&dedup=x",
       "'dedup' parameter: strconv.ParseBool: parsing \"x\": invalid syntax"},
      {MetadataEndpoint::kLabelNames, "partial_response=x",
       "'partial_response' parameter: strconv.ParseBool: parsing \"x\": invalid syntax"},
      {MetadataEndpoint::kLabelNames, "storeMatch[]=%7B",
       "1:1: parse error: unexpected input \"{\""},
  };
  for (const Case& c : cases) {
    auto r = ParseMetadataRequest(c.endpoint, Get(c.query), ParamDefaults{},
                                  testing::FakeParseSelector, kNow);
    ASSERT_FALSE(r.ok()) << c.query;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), c.message) << c.query;
  }
}

TEST(ParamsTest, MatchersAreAllParsedBeforeTheEmptyCheck) {
  // Prometheus parses every selector first, so a later parse error wins over an earlier
  // all-empty selector.
  auto r = ParseMatchers({"{a=\"\"}", "1"}, testing::FakeParseSelector);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "1:1: parse error: unexpected input \"1\"");
  r = ParseMatchers({"{__name__!=\"\"}", "{job=~\".+\"}", "up"}, testing::FakeParseSelector);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
}

TEST(ParamsTest, LabelNameValidation) {
  for (const char* ok : {"job", "_a1", "__name__", "A"}) {
    EXPECT_TRUE(ValidateLabelName(ok).ok()) << ok;
  }

  struct Case {
    std::string name;
    const char* message;
  };

  const Case bad[] = {
      {"a.b", "invalid label name: \"a.b\""},
      {"1a", "invalid label name: \"1a\""},
      {"", "invalid label name: \"\""},
      {"\xff", "invalid label name: \"\\xff\""},
  };
  for (const Case& c : bad) {
    absl::Status s = ValidateLabelName(c.name);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), c.message);
  }
}

TEST(ParamsTest, GoBoolAndInt) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"})
    EXPECT_TRUE(*ParseGoBool(t));
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"})
    EXPECT_FALSE(*ParseGoBool(f));
  EXPECT_FALSE(ParseGoBool("tRue").ok());
  EXPECT_FALSE(ParseGoBool("").ok());
  EXPECT_EQ(*ParseGoInt("+42"), 42);
  EXPECT_EQ(*ParseGoInt("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(*ParseGoInt("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(ParseGoInt("9223372036854775808").ok());
  EXPECT_FALSE(ParseGoInt(" 1").ok());
  EXPECT_FALSE(ParseGoInt("-").ok());
  EXPECT_FALSE(ParseGoInt("1e3").ok());
}

}  // namespace
}  // namespace paodin::http
