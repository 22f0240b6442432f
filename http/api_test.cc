#include "http/api.h"

#include <map>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/testing/fakes.h"
#include "prometheus/registry.h"

namespace paodin::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class RecordingWriter : public ResponseWriter {
 public:
  void SetStatus(int s) override { status = s; }

  void SetHeader(std::string_view name, std::string_view value) override {
    headers[std::string(name)] = std::string(value);
  }

  absl::Status Write(std::string_view data) override {
    body.append(data);
    return absl::OkStatus();
  }

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }

  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
};

engine::Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *engine::Labels::FromPairs(std::move(pairs));
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeApi(); }

  void MakeApi(std::string prefix = "", bool disable_cors = false) {
    ApiOptions o;
    o.route_prefix = std::move(prefix);
    o.disable_cors = disable_cors;
    o.parse_selector = testing::FakeParseSelector;
    o.registry = registry_;
    o.now = [] { return absl::FromUnixMillis(1700000000000); };
    api_ = std::make_unique<Api>(&backend_, std::move(o));
  }

  RecordingWriter Do(std::string_view method, std::string_view target, std::string_view body = "",
                     std::string_view content_type = "application/x-www-form-urlencoded") {
    RecordingWriter w;
    api_->Handle(HttpRequest{method, target, content_type, body}, RequestContext{}, w);
    return w;
  }

  testing::FakeBackend backend_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<Api> api_;
};

TEST_F(ApiTest, HealthCheckQueryAnswersScalar) {
  backend_.on_instant = [](const InstantQueryRequest& r, const engine::QueryContext&) {
    return testing::ScalarResult(r.time_ms, 2);
  };
  RecordingWriter w = Do("POST", "/api/v1/query", "query=1%2B1&time=4");
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.Header("Content-Type"), "application/json");
  EXPECT_EQ(w.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(w.Header("Cache-Control"), "");
  EXPECT_EQ(w.body, R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  EXPECT_EQ(backend_.last_instant.params.query, "1+1");
}

TEST_F(ApiTest, UrlParametersJoinAPostBody) {
  RecordingWriter w = Do("POST", "/api/v1/query?dedup=false&query=ignored", "query=up&time=7");
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(backend_.last_instant.params.query, "up");
  EXPECT_EQ(backend_.last_instant.time_ms, 7000);
  EXPECT_FALSE(backend_.last_instant.params.dedup);
}

TEST_F(ApiTest, TimeDefaultsToNow) {
  Do("GET", "/api/v1/query?query=up");
  EXPECT_EQ(backend_.last_instant.time_ms, 1700000000000);
}

TEST_F(ApiTest, BadParameterIsBadData) {
  RecordingWriter w = Do("GET", "/api/v1/query?query=up&time=x");
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(w.Header("Cache-Control"), "no-store");
  EXPECT_EQ(w.Header("Content-Type"), "application/json");
  EXPECT_EQ(w.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": )"
            R"(Invalid time value for 'time': cannot parse \"x\" to a valid timestamp"})");
}

TEST_F(ApiTest, BackendErrorsMapToTypesAndCodes) {
  struct Case {
    absl::Status status;
    int code;
    const char* body;
  };

  const Case cases[] = {
      {absl::InvalidArgumentError("1:5: parse error: unclosed left parenthesis"), 400,
       R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left )"
       R"(parenthesis"})"},
      {absl::DeadlineExceededError("query timed out in expression evaluation"), 503,
       R"({"status":"error","errorType":"timeout","error":"query timed out in expression )"
       R"(evaluation"})"},
      {absl::CancelledError("query was canceled in expression evaluation"), 503,
       R"({"status":"error","errorType":"canceled","error":"query was canceled in expression )"
       R"(evaluation"})"},
      {absl::UnavailableError("receive series from store: down"), 500,
       R"({"status":"error","errorType":"internal","error":"receive series from store: down"})"},
      {absl::FailedPreconditionError("many-to-many matching not allowed"), 422,
       R"({"status":"error","errorType":"execution","error":"many-to-many matching not )"
       R"(allowed"})"},
  };
  for (const Case& c : cases) {
    backend_.on_range = [&](const RangeQueryRequest&, const engine::QueryContext&) {
      return absl::StatusOr<QueryResult>(c.status);
    };
    RecordingWriter w = Do("GET", "/api/v1/query_range?query=x&start=1&end=2&step=1");
    EXPECT_EQ(w.status, c.code) << c.body;
    EXPECT_EQ(w.body, c.body);
    EXPECT_EQ(w.Header("Cache-Control"), "no-store");
  }
}

TEST_F(ApiTest, InstantQueryExpressionErrorsNameTheParameter) {
  backend_.on_instant = [](const InstantQueryRequest&, const engine::QueryContext&) {
    return absl::StatusOr<QueryResult>(
        absl::InvalidArgumentError("1:5: parse error: unclosed left parenthesis"));
  };
  RecordingWriter w = Do("GET", "/api/v1/query?query=sum(");
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(w.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": )"
            R"(1:5: parse error: unclosed left parenthesis"})");
}

TEST_F(ApiTest, WarningsDisableCaching) {
  backend_.on_instant = [](const InstantQueryRequest&, const engine::QueryContext&) {
    QueryResult res;
    res.type = ResultType::kVector;
    res.series.push_back(testing::MakeSeries({{"a", "1"}}, {{1000, 1}}));
    res.warnings = {"No StoreAPIs matched for this query"};
    return res;
  };
  RecordingWriter w = Do("GET", "/api/v1/query?query=a&time=1");
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.Header("Cache-Control"), "no-store");
  EXPECT_EQ(w.body,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},)"
            R"("value":[1,"1"]}]},"warnings":["No StoreAPIs matched for this query"]})");
}

TEST_F(ApiTest, QueryContextCarriesTimeoutAndCancellation) {
  std::atomic<bool> cancelled{false};
  engine::QueryContext seen;
  backend_.on_instant = [&](const InstantQueryRequest&, const engine::QueryContext& ctx) {
    seen = ctx;
    return absl::StatusOr<QueryResult>(QueryResult{});
  };
  RecordingWriter w;
  api_->Handle(HttpRequest{"GET", "/api/v1/query?query=up&timeout=1.5", "", ""},
               RequestContext{&cancelled, 1000000}, w);
  EXPECT_EQ(seen.cancelled, &cancelled);
  EXPECT_EQ(seen.deadline_steady_ms, 1001500);
}

TEST_F(ApiTest, Routing) {
  RecordingWriter w = Do("GET", "/api/v1/nope");
  EXPECT_EQ(w.status, 404);
  EXPECT_EQ(w.body, "404 page not found\n");
  EXPECT_EQ(w.Header("Content-Type"), "text/plain; charset=utf-8");

  w = Do("POST", "/api/v1/label/job/values");
  EXPECT_EQ(w.status, 405);
  EXPECT_EQ(w.Header("Allow"), "GET, OPTIONS");
  EXPECT_EQ(w.body, "Method Not Allowed\n");

  w = Do("DELETE", "/api/v1/query");
  EXPECT_EQ(w.status, 405);
  EXPECT_EQ(w.Header("Allow"), "GET, OPTIONS, POST");

  w = Do("OPTIONS", "/api/v1/anything/at/all");
  EXPECT_EQ(w.status, 204);
  EXPECT_EQ(w.body, "");
  EXPECT_EQ(w.Header("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(w.Header("Access-Control-Allow-Headers"),
            "Accept, Accept-Encoding, Authorization, Content-Type, Origin");

  for (const char* path : {"/api/v1/query/", "/api/v1", "/", "/api/v1/label//values",
                           "/api/v1/label/a/b/values", "/-/healthy/"}) {
    EXPECT_EQ(Do("GET", path).status, 404) << path;
  }
  EXPECT_EQ(Do("GET", "/api/v1/qu%zzery").status, 400);
  EXPECT_EQ(Do("GET", "/api/v1/%71uery?query=1").status, 200);
}

TEST_F(ApiTest, CorsCanBeDisabled) {
  MakeApi("", /*disable_cors=*/true);
  RecordingWriter w = Do("GET", "/api/v1/labels");
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.Header("Access-Control-Allow-Origin"), "");
}

TEST_F(ApiTest, RoutePrefix) {
  MakeApi("thanos/");
  EXPECT_EQ(Do("GET", "/thanos/api/v1/labels").status, 200);
  EXPECT_EQ(Do("GET", "/api/v1/labels").status, 404);
  EXPECT_EQ(Do("GET", "/thanos/-/healthy").status, 200);
  EXPECT_EQ(Do("GET", "/-/healthy").status, 200);
  EXPECT_EQ(Do("GET", "/thanos/metrics").status, 200);
  EXPECT_EQ(Do("GET", "/thanosx/api/v1/labels").status, 404);
  EXPECT_EQ(api_->Classify("GET", "/thanos/api/v1/query?query=1"), Work::kQuery);
  EXPECT_EQ(api_->Classify("GET", "/api/v1/query"), Work::kInline);
}

TEST_F(ApiTest, Classify) {
  EXPECT_EQ(api_->Classify("POST", "/api/v1/query_range"), Work::kQuery);
  EXPECT_EQ(api_->Classify("GET", "/api/v1/series?match[]=up"), Work::kMetadata);
  EXPECT_EQ(api_->Classify("GET", "/api/v1/label/job/values"), Work::kMetadata);
  EXPECT_EQ(api_->Classify("GET", "/api/v1/status/buildinfo"), Work::kInline);
  EXPECT_EQ(api_->Classify("OPTIONS", "/api/v1/query"), Work::kInline);
  EXPECT_EQ(api_->Classify("GET", "/metrics"), Work::kInline);
}

TEST_F(ApiTest, HealthAndReadiness) {
  RecordingWriter w = Do("GET", "/-/healthy");
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.body, "OK");
  backend_.ready = false;
  w = Do("GET", "/-/ready");
  EXPECT_EQ(w.status, 503);
  EXPECT_EQ(w.body, "NOT OK\n");
  backend_.ready = true;
  w = Do("GET", "/-/ready");
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.body, "OK");
}

TEST_F(ApiTest, MetricsCountRequestsByHandlerAndCode) {
  Do("GET", "/api/v1/query?query=up");
  Do("GET", "/api/v1/query?time=bad");
  RecordingWriter w = Do("GET", "/metrics");
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(w.body,
              HasSubstr("http_requests_total{code=\"200\",handler=\"query\",method=\"get\"} 1"));
  EXPECT_THAT(w.body,
              HasSubstr("http_requests_total{code=\"400\",handler=\"query\",method=\"get\"} 1"));
  EXPECT_THAT(w.body, HasSubstr("thanos_query_concurrent_gate_queries_max 20"));
  EXPECT_THAT(w.body, HasSubstr("thanos_query_concurrent_gate_queries_total 1"));
  EXPECT_THAT(w.body, HasSubstr("http_request_duration_seconds_bucket"));
}

TEST_F(ApiTest, SeriesLabelsAndValues) {
  backend_.on_series = [](const MetadataRequest&) {
    SeriesResult r;
    r.series = {L({{"__name__", "up"}, {"job", "a"}}), L({{"__name__", "up"}, {"job", "b"}})};
    return r;
  };
  RecordingWriter w = Do("POST", "/api/v1/series?match[]=x", "match[]=up&start=1&end=2");
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(
      w.body,
      R"({"status":"success","data":[{"__name__":"up","job":"a"},{"__name__":"up","job":"b"}]})");
  EXPECT_EQ(backend_.last_metadata.matchers.size(), 2u);
  EXPECT_EQ(backend_.last_metadata.start_ms, 1000);

  w = Do("GET", "/api/v1/series?match[]=up&limit=1");
  EXPECT_EQ(w.body, R"({"status":"success","data":[{"__name__":"up","job":"a"}],)"
                    R"("warnings":["results truncated due to limit"]})");
  EXPECT_EQ(w.Header("Cache-Control"), "no-store");

  EXPECT_EQ(Do("GET", "/api/v1/series").body,
            R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");

  backend_.on_label_names = [](const MetadataRequest&) {
    return StringsResult{{"__name__", "instance", "job"}, {}};
  };
  w = Do("GET", "/api/v1/labels?limit=2");
  EXPECT_EQ(w.body, R"({"status":"success","data":["__name__","instance"],)"
                    R"("warnings":["results truncated due to limit"]})");
  EXPECT_EQ(Do("GET", "/api/v1/labels").body,
            R"({"status":"success","data":["__name__","instance","job"]})");

  w = Do("GET", "/api/v1/label/job/values?match[]=up");
  EXPECT_EQ(w.body, R"({"status":"success","data":[]})");
  EXPECT_EQ(backend_.last_label_name, "job");

  w = Do("GET", "/api/v1/label/a.b/values");
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(w.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid label name: \"a.b\""})");

  backend_.on_label_values = [](std::string_view, const MetadataRequest&) {
    return absl::StatusOr<StringsResult>(absl::UnavailableError("store down"));
  };
  w = Do("GET", "/api/v1/label/job/values");
  EXPECT_EQ(w.status, 422);
  EXPECT_EQ(w.body, R"({"status":"error","errorType":"execution","error":"store down"})");
}

TEST_F(ApiTest, LabelAnswersAtHandAreGivenWithoutWaiting) {
  auto without_waiting = [&](std::string_view method, std::string_view target,
                             std::string_view body = "") {
    RecordingWriter w;
    const bool done = api_->HandleWithoutWaiting(
        HttpRequest{method, target, "application/x-www-form-urlencoded", body}, w);
    return std::make_pair(done, w);
  };
  // Nothing at hand: nothing written, the worker path answers.
  auto [done, w] = without_waiting("GET", "/api/v1/labels");
  EXPECT_FALSE(done);
  EXPECT_EQ(w.body, "");
  EXPECT_TRUE(w.headers.empty());

  backend_.on_label_names_at_hand = [](const MetadataRequest& r) -> std::optional<StringsResult> {
    if (r.start_ms != 1000)
      return std::nullopt;
    return StringsResult{{"__name__", "instance", "job"}, {}};
  };
  std::tie(done, w) = without_waiting("GET", "/api/v1/labels?start=1&end=2&limit=2");
  EXPECT_TRUE(done);
  EXPECT_EQ(w.status, 200);
  EXPECT_EQ(w.body, R"({"status":"success","data":["__name__","instance"],)"
                    R"("warnings":["results truncated due to limit"]})");
  EXPECT_EQ(w.Header("Access-Control-Allow-Origin"), "*");
  // Form parameters count as they do on the worker path.
  std::tie(done, w) = without_waiting("POST", "/api/v1/labels", "start=1&end=2");
  EXPECT_TRUE(done);
  EXPECT_EQ(w.body, R"({"status":"success","data":["__name__","instance","job"]})");
  std::tie(done, w) = without_waiting("GET", "/api/v1/labels?start=5");
  EXPECT_FALSE(done);

  backend_.on_label_values_at_hand = [](std::string_view name, const MetadataRequest&) {
    return std::optional<StringsResult>(StringsResult{{std::string(name) + "-1"}, {}});
  };
  std::tie(done, w) = without_waiting("GET", "/api/v1/label/job/values?match[]=up");
  EXPECT_TRUE(done);
  EXPECT_EQ(w.body, R"({"status":"success","data":["job-1"]})");
  // Bad input, other endpoints and other methods are left to the worker path and its errors.
  EXPECT_FALSE(without_waiting("GET", "/api/v1/label/a.b/values").first);
  EXPECT_FALSE(without_waiting("GET", "/api/v1/labels?start=x").first);
  EXPECT_FALSE(without_waiting("GET", "/api/v1/series?match[]=up").first);
  EXPECT_FALSE(without_waiting("GET", "/api/v1/query?query=up").first);
  EXPECT_FALSE(without_waiting("DELETE", "/api/v1/labels").first);
  // Large answers go to a worker, which streams and compresses them.
  backend_.on_label_values_at_hand = [](std::string_view, const MetadataRequest&) {
    StringsResult r;
    for (int i = 0; i < 10000; ++i)
      r.values.push_back("value-" + std::to_string(i));
    return std::optional<StringsResult>(std::move(r));
  };
  EXPECT_FALSE(without_waiting("GET", "/api/v1/label/job/values").first);
  // Answers given this way are counted like the others.
  const std::string metrics = Do("GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr(R"(http_requests_total{code="200",handler="label_names",)"
                                 R"(method="get"} 1)"));
  EXPECT_THAT(metrics, HasSubstr(R"(http_requests_total{code="200",handler="label_names",)"
                                 R"(method="post"} 1)"));
}

TEST_F(ApiTest, StatusEndpoints) {
  backend_.build_info = {"0.43.0", "rev", "HEAD", "u@h", "d", "c++"};
  backend_.flags = {{"query.timeout", "2m"}};
  EXPECT_EQ(Do("GET", "/api/v1/status/buildinfo").body,
            R"({"status":"success","data":{"version":"0.43.0","revision":"rev","branch":"HEAD",)"
            R"("buildUser":"u@h","buildDate":"d","goVersion":"c++"}})");
  EXPECT_EQ(Do("GET", "/api/v1/status/flags").body,
            R"({"status":"success","data":{"query.timeout":"2m"}})");
  RecordingWriter w = Do("GET", "/api/v1/status/runtimeinfo");
  EXPECT_EQ(w.status, 200);
  EXPECT_THAT(w.body, HasSubstr(R"("startTime":"2023-11-14T22:13:20Z","CWD":)"));
  EXPECT_THAT(w.body, HasSubstr(R"("GOGC":"","GODEBUG":""})"));
  EXPECT_EQ(Do("GET", "/api/v1/stores").body, R"({"status":"success","data":{}})");
  EXPECT_EQ(Do("POST", "/api/v1/stores").status, 405);
  EXPECT_EQ(Do("GET", "/api/v1/metadata").body, R"({"status":"success","data":{}})");
  EXPECT_EQ(
      Do("GET", "/api/v1/metadata?limit=x").body,
      R"({"status":"error","errorType":"bad_data","error":"invalid metric metadata limit='0'"})");
}

TEST_F(ApiTest, ExemplarsAreEmptyButValidated) {
  EXPECT_EQ(
      Do("GET", "/api/v1/query_exemplars?query=up&start=1700000000000&end=1700000001000").body,
      R"({"status":"success","data":[]})");
  RecordingWriter w = Do("POST", "/api/v1/query_exemplars", "query=up&start=x");
  EXPECT_EQ(w.status, 400);
  EXPECT_EQ(w.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": )"
            R"(Invalid time value for 'start': cannot parse \"x\" to a valid timestamp"})");
  w = Do("GET", "/api/v1/query_exemplars?start=10&end=5");
  EXPECT_EQ(w.status, 400);
}

}  // namespace
}  // namespace paodin::http
