// Sends the same requests to a real Prometheus 2.42 (/usr/bin/prometheus, empty TSDB) and to
// our HTTP API over the real engine with an empty store, and requires byte-identical bodies
// and equal status codes. Only requests whose answers do not depend on data, on "now" or on
// the build are compared; where Thanos' behaviour deliberately differs from Prometheus (see
// reference/http-api.md: optional step, end < start on metadata endpoints, limit) the case is
// checked against the expected Thanos answer instead.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/exec/engine.h"
#include "engine/storage/memory_queryable.h"
#include "gtest/gtest.h"
#include "http/api.h"
#include "http/selector.h"
#include "http/server.h"
#include "http/testing/fakes.h"
#include "http/testing/http_client.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace paodin::http {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";

class PrometheusProcess {
 public:
  bool Start() {
    char tmpl[] = "/tmp/paodin_http_compat_XXXXXX";
    if (mkdtemp(tmpl) == nullptr)
      return false;
    dir_ = tmpl;
    std::ofstream(dir_ + "/prometheus.yml") << "global: {}\n";
    port_ = testing::FreePort();
    std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
    std::string config = "--config.file=" + dir_ + "/prometheus.yml";
    std::string storage = "--storage.tsdb.path=" + dir_ + "/data";
    pid_ = fork();
    if (pid_ == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execl(kPrometheus, kPrometheus, config.c_str(), storage.c_str(), listen.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid_ < 0)
      return false;
    return testing::WaitFor(
        [&] {
          testing::HttpClient c(port_);
          return c.Send("GET", "/-/ready").status == 200;
        },
        60000);
  }

  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

class PrometheusCompatTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access(kPrometheus, X_OK) != 0)
      return;
    prometheus_ = new PrometheusProcess();
    if (!prometheus_->Start()) {
      prometheus_->Stop();
      delete prometheus_;
      prometheus_ = nullptr;
      return;
    }
    backend_ = new testing::FakeBackend();
    engine_ = new engine::Engine(engine::EngineOptions{});
    store_ = new engine::MemoryQueryable();
    backend_->on_instant = [](const InstantQueryRequest& r, const engine::QueryContext& ctx) {
      engine::QueryOptions o;
      o.cancel = ctx.cancelled;
      o.lookback_delta_ms = r.params.lookback_delta_ms;
      return engine_->InstantQuery(*store_, r.params.query, r.time_ms, o);
    };
    backend_->on_range = [](const RangeQueryRequest& r, const engine::QueryContext& ctx) {
      engine::QueryOptions o;
      o.cancel = ctx.cancelled;
      o.lookback_delta_ms = r.params.lookback_delta_ms;
      return engine_->RangeQuery(*store_, r.params.query, r.start_ms, r.end_ms, r.step_ms, o);
    };
    ApiOptions api_options;
    api_options.parse_selector = ParsePromqlSelector;
    api_ = new Api(backend_, std::move(api_options));
    ServerOptions server_options;
    server_options.address = "127.0.0.1:0";
    auto server = Server::Start(api_, server_options);
    if (server.ok())
      server_ = server->release();
  }

  static void TearDownTestSuite() {
    delete server_;
    delete api_;
    delete backend_;
    delete store_;
    delete engine_;
    if (prometheus_ != nullptr)
      prometheus_->Stop();
    delete prometheus_;
    server_ = nullptr;
    prometheus_ = nullptr;
  }

  void SetUp() override {
    if (prometheus_ == nullptr)
      GTEST_SKIP() << "no runnable " << kPrometheus;
    ASSERT_NE(server_, nullptr);
  }

  struct Pair {
    testing::Reply prom;
    testing::Reply ours;
  };

  Pair Both(const std::string& method, const std::string& target, const std::string& body = "") {
    testing::HttpClient p(prometheus_->port());
    testing::HttpClient o(server_->port());
    return Pair{p.Send(method, target, body), o.Send(method, target, body)};
  }

  static PrometheusProcess* prometheus_;
  static testing::FakeBackend* backend_;
  static engine::Engine* engine_;
  static engine::MemoryQueryable* store_;
  static Api* api_;
  static Server* server_;
};

PrometheusProcess* PrometheusCompatTest::prometheus_ = nullptr;
testing::FakeBackend* PrometheusCompatTest::backend_ = nullptr;
engine::Engine* PrometheusCompatTest::engine_ = nullptr;
engine::MemoryQueryable* PrometheusCompatTest::store_ = nullptr;
Api* PrometheusCompatTest::api_ = nullptr;
Server* PrometheusCompatTest::server_ = nullptr;

struct Case {
  const char* method;
  const char* target;
  const char* body;
};

void ExpectSame(const testing::Reply& prom, const testing::Reply& ours, const Case& c) {
  ASSERT_TRUE(prom.ok) << c.target;
  ASSERT_TRUE(ours.ok) << c.target;
  EXPECT_EQ(ours.status, prom.status) << c.method << " " << c.target << " " << c.body;
  EXPECT_EQ(ours.body, prom.body) << c.method << " " << c.target << " " << c.body;
  if (prom.status != 404 && prom.status != 405) {
    EXPECT_EQ(ours.Header("content-type"), prom.Header("content-type")) << c.target;
  }
}

TEST_F(PrometheusCompatTest, TheOracleIsPrometheus242) {
  testing::HttpClient p(prometheus_->port());
  testing::Reply r = p.Send("GET", "/api/v1/status/buildinfo");
  ASSERT_TRUE(r.ok);
  EXPECT_NE(r.body.find(R"("version":"2.42.)"), std::string::npos) << r.body;
}

TEST_F(PrometheusCompatTest, ConstantExpressionsEncodeIdentically) {
  const Case cases[] = {
      {"GET", "/api/v1/query?query=1e-7&time=10", ""},
      {"GET", "/api/v1/query?query=1/0&time=10.5", ""},
      {"GET", "/api/v1/query?query=-1/0&time=10", ""},
      {"GET", "/api/v1/query?query=0/0&time=1435781451.781", ""},
      {"GET", "/api/v1/query?query=-0&time=1", ""},
      {"GET", "/api/v1/query?query=time()&time=1700000000.5", ""},
      {"GET", "/api/v1/query?query=time()&time=-1.0015", ""},
      {"GET", "/api/v1/query?query=vector(1.5)&time=1700000000.5", ""},
      {"GET", "/api/v1/query?query=vector(time())&time=-1.0015", ""},
      {"GET", "/api/v1/query?query=vector(1e21)&time=10.001", ""},
      {"GET", "/api/v1/query?query=vector(1e-7)&time=1", ""},
      {"GET", "/api/v1/query?query=vector(0.1%2B0.2)&time=1", ""},
      {"GET", "/api/v1/query?query=vector(123456789012345678901234)&time=1", ""},
      {"GET", "/api/v1/query?query=vector(5e-324)&time=1", ""},
      {"GET", "/api/v1/query?query=5e-324&time=1", ""},
      {"GET", "/api/v1/query?query=vector(1)/0&time=10", ""},
      {"GET", "/api/v1/query?query=%22hello%22&time=1.100", ""},
      {"GET", "/api/v1/query?query=%22%3C%26%3E%5Cu2028%5Cxff%22&time=1", ""},
      {"GET",
       "/api/v1/query?query=label_replace(vector(1),%22a%22,%22%3C%26%3E%5C%22%C3%A9%22,%22%22,"
       "%22%22)&time=1",
       ""},
      {"GET", "/api/v1/query?query=up&time=2015-07-01T20:10:51.781Z", ""},
      {"POST", "/api/v1/query", "query=1%2B1&time=4"},
      {"POST", "/api/v1/query?query=1", "query=2&time=3"},
      {"POST", "/api/v1/query?time=5", "query=2"},
      {"GET", "/api/v1/query_range?query=vector(0.5)&start=0&end=60&step=15", ""},
      {"GET", "/api/v1/query_range?query=time()&start=1&end=3.5&step=1.2", ""},
      {"GET",
       "/api/v1/query_range?query=1e-7&start=2015-07-01T20:10:30.781Z"
       "&end=2015-07-01T20:11:00.781Z&step=15s",
       ""},
      {"GET", "/api/v1/query_range?query=0/0&start=0&end=2&step=1", ""},
      {"GET", "/api/v1/query_range?query=up&start=0&end=3600&step=60", ""},
      {"POST", "/api/v1/query_range", "query=vector(2)&start=10&end=20&step=5"},
  };
  for (const Case& c : cases) {
    Pair r = Both(c.method, c.target, c.body);
    ExpectSame(r.prom, r.ours, c);
  }
}

TEST_F(PrometheusCompatTest, ParameterErrorsAreIdentical) {
  const Case cases[] = {
      {"GET", "/api/v1/query?query=1&time=x", ""},
      {"GET", "/api/v1/query?query=1&time=1e400", ""},
      {"GET", "/api/v1/query?query=1&timeout=x", ""},
      {"GET", "/api/v1/query?query=1&timeout=-1s", ""},
      {"GET", "/api/v1/query_range?query=1&start=x&end=1&step=1", ""},
      {"GET", "/api/v1/query_range?query=1&start=1&end=y&step=1", ""},
      {"GET", "/api/v1/query_range?query=1&start=1&end=0&step=1", ""},
      {"GET", "/api/v1/query_range?query=1&start=1&end=2&step=abc", ""},
      {"GET", "/api/v1/query_range?query=1&start=1&end=2&step=0", ""},
      {"GET", "/api/v1/query_range?query=1&start=1&end=2&step=-1", ""},
      {"GET", "/api/v1/query_range?query=1&start=1&end=2&step=9223372037", ""},
      {"GET", "/api/v1/query_range?query=vector(1)&start=0&end=110010&step=10", ""},
      {"GET", "/api/v1/query_range?query=1&start=1&end=2&step=1&timeout=z", ""},
      {"GET", "/api/v1/series", ""},
      {"GET", "/api/v1/series?match[]=up&start=x", ""},
      {"GET", "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D", ""},
      {"GET", "/api/v1/series?match[]=up&x=%zz", ""},
      {"GET", "/api/v1/labels?start=x", ""},
      {"GET", "/api/v1/labels?match[]=%7Ba%3D%22%22%7D", ""},
      {"GET", "/api/v1/label/job/values?end=x", ""},
      {"GET", "/api/v1/label/a.b/values", ""},
      {"GET", "/api/v1/label/1a/values", ""},
      {"GET", "/api/v1/query_exemplars?query=up&start=x", ""},
      {"GET", "/api/v1/nope", ""},
      {"POST", "/api/v1/label/job/values", ""},
      {"DELETE", "/api/v1/query", ""},
  };
  for (const Case& c : cases) {
    Pair r = Both(c.method, c.target, c.body);
    ExpectSame(r.prom, r.ours, c);
  }
}

TEST_F(PrometheusCompatTest, QueryParseErrorsAreIdentical) {
  const Case cases[] = {
      {"GET", "/api/v1/query?query=sum(", ""},
      {"GET", "/api/v1/query?query=", ""},
      {"GET", "/api/v1/query", ""},
      {"GET", "/api/v1/query?query=sum(%3C)", ""},
      {"GET", "/api/v1/query?query=1;x=2&time=5", ""},
      {"GET", "/api/v1/query_range?query=up[5m]&start=1&end=2&step=1", ""},
      {"GET", "/api/v1/query_range?query=sum(&start=1&end=2&step=1", ""},
      {"GET", "/api/v1/query_range?query=%22a%22&start=1&end=2&step=1", ""},
      {"GET", "/api/v1/query?query=up[5m]&time=1", ""},
      {"GET", "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D&match[]=%7Ba%3D~%22(%22%7D", ""},
  };
  for (const Case& c : cases) {
    Pair r = Both(c.method, c.target, c.body);
    ExpectSame(r.prom, r.ours, c);
  }
}

// Known gap: match[] goes through the full PromQL parser (http/selector.h), not a dedicated
// ParseMetricSelector, so a non-selector expression gets a different message. Enable once the
// parser offers that entry point.
TEST_F(PrometheusCompatTest, DISABLED_SelectorParseErrorsAreIdentical) {
  const Case cases[] = {
      {"GET", "/api/v1/series?match[]=up[5m]", ""},
      {"GET", "/api/v1/series?match[]=1", ""},
      {"GET", "/api/v1/labels?match[]=sum(up)", ""},
  };
  for (const Case& c : cases) {
    Pair r = Both(c.method, c.target, c.body);
    ExpectSame(r.prom, r.ours, c);
  }
}

TEST_F(PrometheusCompatTest, EmptyMetadataIsIdentical) {
  const Case cases[] = {
      {"GET", "/api/v1/labels", ""},
      {"GET", "/api/v1/labels?match[]=up&start=1&end=2", ""},
      {"GET", "/api/v1/label/job/values", ""},
      {"GET", "/api/v1/series?match[]=up", ""},
      {"POST", "/api/v1/series", "match[]=up&start=1&end=2"},
      {"GET", "/api/v1/metadata", ""},
      {"GET", "/api/v1/query_exemplars?query=up&start=1700000000000&end=1700000001000", ""},
  };
  for (const Case& c : cases) {
    Pair r = Both(c.method, c.target, c.body);
    ExpectSame(r.prom, r.ours, c);
  }
}

TEST_F(PrometheusCompatTest, ThanosDifferencesAreDeliberate) {
  testing::HttpClient o(server_->port());
  // Thanos makes step optional: max(range/250, --query.default-step).
  testing::Reply r = o.Send("GET", "/api/v1/query_range?query=vector(1)&start=0&end=1000");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body, R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},)"
              R"("values":[[0,"1"],[4,"1"],)" +
                  [] {
                    std::string s;
                    for (int t = 8; t <= 1000; t += 4)
                      s += "[" + std::to_string(t) + ",\"1\"],";
                    s.pop_back();
                    return s;
                  }() +
                  "]}]}}");
  // Thanos rejects end < start on metadata endpoints (Prometheus 2.42 answers []).
  r = o.Send("GET", "/api/v1/labels?start=10&end=5");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"status":"error","errorType":"bad_data","error":"end timestamp must not be )"
            R"(before start time"})");
  EXPECT_EQ(r.Header("cache-control"), "no-store");
}

}  // namespace
}  // namespace paodin::http
