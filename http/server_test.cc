#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "http/encode.h"
#include "http/gzip.h"
#include "http/testing/fakes.h"
#include "http/testing/http_client.h"

namespace paodin::http {
namespace {

using ::testing::HasSubstr;
using testing::Reply;
using testing::WaitFor;

engine::Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *engine::Labels::FromPairs(std::move(pairs));
}

class ServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = {}) {
    ApiOptions api_options;
    api_options.parse_selector = testing::FakeParseSelector;
    api_options.max_concurrent_queries = options.max_concurrent_queries;
    api_ = std::make_unique<Api>(&backend_, std::move(api_options));
    options.address = "127.0.0.1:0";
    options.io_threads = 2;
    auto server = Server::Start(api_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
  }

  void TearDown() override {
    if (server_)
      server_->Shutdown();
  }

  testing::FakeBackend backend_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<Server> server_;
};

QueryResult BigMatrix(int series, int points) {
  QueryResult r;
  r.type = ResultType::kMatrix;
  for (int s = 0; s < series; ++s) {
    ResultSeries rs;
    rs.labels = L({{"__name__", "m"}, {"i", std::to_string(s)}});
    for (int p = 0; p < points; ++p) {
      rs.ts.push_back(p * 15000LL);
      rs.vs.push_back(p * 0.25 + s);
    }
    r.series.push_back(std::move(rs));
  }
  return r;
}

std::string Encoded(const QueryResult& r) {
  struct Sink : BodySink {
    absl::Status Write(std::string_view d) override {
      s.append(d);
      return absl::OkStatus();
    }

    std::string s;
  } sink;

  JsonOut out(&sink);
  EXPECT_TRUE(WriteQueryResponse(r, false, {}, out).ok());
  return sink.s;
}

TEST_F(ServerTest, AnswersOverOneKeepAliveConnection) {
  Start();
  backend_.on_instant = [](const InstantQueryRequest& r, const engine::QueryContext&) {
    return testing::ScalarResult(r.time_ms, 2);
  };
  testing::HttpClient c(server_->port());
  Reply a = c.Send("POST", "/api/v1/query", "query=1%2B1&time=4");
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  EXPECT_EQ(a.Header("content-type"), "application/json");
  EXPECT_EQ(a.Header("content-length"), std::to_string(a.body.size()));
  EXPECT_FALSE(a.Header("date").empty());
  Reply b = c.Send("GET", "/api/v1/query?query=x&time=5");
  ASSERT_TRUE(b.ok);
  EXPECT_EQ(b.body, R"({"status":"success","data":{"resultType":"scalar","result":[5,"2"]}})");
  Reply h = c.Send("GET", "/-/healthy");
  EXPECT_EQ(h.body, "OK");
  EXPECT_EQ(server_->open_connections(), 1u);
}

// Each network thread runs its own loop and new connections go to the least busy one: many
// connections open at once are all served, over several requests each, and all are let go.
TEST_F(ServerTest, ManyOpenConnectionsAreServedAcrossNetworkThreads) {
  Start();
  backend_.on_instant = [](const InstantQueryRequest& r, const engine::QueryContext&) {
    return testing::ScalarResult(r.time_ms, 3);
  };
  constexpr int kConnections = 6;
  {
    std::vector<std::unique_ptr<testing::HttpClient>> clients;
    for (int i = 0; i < kConnections; ++i)
      clients.push_back(std::make_unique<testing::HttpClient>(server_->port()));
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < kConnections; ++i) {
        const int t = round * kConnections + i;
        Reply r = clients[i]->Send("GET", "/api/v1/query?query=x&time=" + std::to_string(t));
        ASSERT_TRUE(r.ok) << "connection " << i << " round " << round;
        EXPECT_EQ(r.body, R"({"status":"success","data":{"resultType":"scalar","result":[)" +
                              std::to_string(t) + R"(,"3"]}})");
      }
    }
    EXPECT_EQ(server_->open_connections(), static_cast<size_t>(kConnections));
  }
  EXPECT_TRUE(WaitFor([&] { return server_->open_connections() == 0; }));
}

TEST_F(ServerTest, RoutingErrorsOverTheWire) {
  Start();
  testing::HttpClient c(server_->port());
  Reply r = c.Send("GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "404 page not found\n");
  r = c.Send("POST", "/api/v1/label/job/values");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET, OPTIONS");
  r = c.Send("OPTIONS", "/api/v1/query");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
  EXPECT_EQ(r.body, "");
  r = c.Send("GET", "/api/v1/query?query=up&time=%FF");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": )"
            R"(Invalid time value for 'time': cannot parse \"\\xff\" to a valid timestamp"})");
}

TEST_F(ServerTest, GzipWhenAcceptedAndLargeEnough) {
  Start();
  StringsResult many;
  for (int i = 0; i < 500; ++i)
    many.values.push_back("value_" + std::to_string(i));
  backend_.on_label_names = [&](const MetadataRequest&) { return many; };
  testing::HttpClient c(server_->port());
  Reply plain = c.Send("GET", "/api/v1/labels");
  EXPECT_EQ(plain.Header("content-encoding"), "");
  Reply zipped = c.Send("GET", "/api/v1/labels", "", {{"Accept-Encoding", "gzip, deflate"}});
  EXPECT_EQ(zipped.Header("content-encoding"), "gzip");
  EXPECT_EQ(zipped.Header("vary"), "Accept-Encoding");
  EXPECT_EQ(zipped.body, plain.body);
  EXPECT_THAT(plain.body, HasSubstr("value_499"));
  // Small answers stay plain.
  Reply small = c.Send("GET", "/-/healthy", "", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(small.Header("content-encoding"), "");
  EXPECT_EQ(small.body, "OK");
}

TEST_F(ServerTest, LargeMatrixStreamsChunkedWithAndWithoutGzip) {
  Start();
  QueryResult big = BigMatrix(40, 2000);  // a few MB of JSON
  std::string want = Encoded(big);
  ASSERT_GT(want.size(), 1u << 20);
  backend_.on_range = [&](const RangeQueryRequest&, const engine::QueryContext&) { return big; };
  testing::HttpClient c(server_->port());
  const std::string target = "/api/v1/query_range?query=m&start=0&end=30000&step=15";
  Reply r = c.Send("GET", target);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(r.Header("content-length"), "");
  EXPECT_EQ(r.body, want);
  Reply z = c.Send("GET", target, "", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(z.ok);
  EXPECT_EQ(z.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(z.Header("content-encoding"), "gzip");
  EXPECT_EQ(z.body, want);
}

TEST_F(ServerTest, AtMostMaxConcurrentQueriesRunAndTheRestWait) {
  ServerOptions options;
  options.max_concurrent_queries = 2;
  Start(options);
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  int max_running = 0;
  int started = 0;
  int releases = 0;
  backend_.on_instant = [&](const InstantQueryRequest&, const engine::QueryContext&) {
    std::unique_lock<std::mutex> lock(mu);
    ++running;
    ++started;
    max_running = std::max(max_running, running);
    cv.wait(lock, [&] { return releases > 0; });
    --releases;
    --running;
    QueryResult r;
    r.type = ResultType::kScalar;
    return absl::StatusOr<QueryResult>(r);
  };
  constexpr int kClients = 5;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&] {
      testing::HttpClient c(server_->port());
      if (c.Send("GET", "/api/v1/query?query=1&time=1").status == 200)
        ++ok;
    });
  }
  auto started_is = [&](int n) {
    return WaitFor([&] {
      std::lock_guard<std::mutex> lock(mu);
      return started == n;
    });
  };
  ASSERT_TRUE(started_is(2));
  // Metadata requests do not wait behind queries.
  {
    testing::HttpClient c(server_->port());
    EXPECT_EQ(c.Send("GET", "/api/v1/labels").status, 200);
  }
  for (int step = 3; step <= kClients; ++step) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++releases;
    }
    cv.notify_all();
    ASSERT_TRUE(started_is(step));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    releases += kClients;
  }
  cv.notify_all();
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(max_running, 2);
}

// A label call whose answer is at hand is answered on the network thread: it gets through
// while the only metadata worker is busy.
TEST_F(ServerTest, LabelAnswersAtHandDoNotWaitForAWorker) {
  ServerOptions options;
  options.metadata_threads = 1;
  Start(options);
  std::mutex mu;
  std::condition_variable cv;
  bool busy = false;
  bool release = false;
  backend_.on_series = [&](const MetadataRequest&) {
    std::unique_lock<std::mutex> lock(mu);
    busy = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return absl::StatusOr<SeriesResult>(SeriesResult{});
  };
  backend_.on_label_names_at_hand = [](const MetadataRequest&) {
    return std::optional<StringsResult>(StringsResult{{"__name__", "job"}, {}});
  };
  std::thread blocker([&] {
    testing::HttpClient c(server_->port());
    EXPECT_EQ(c.Send("GET", "/api/v1/series?match[]=up").status, 200);
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return busy; }));
  }
  // Should the label call wait for the worker after all, a watchdog frees the worker after
  // 10 s so that the test fails instead of hanging.
  bool answered = false;
  bool freed_by_watchdog = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return answered; })) {
      freed_by_watchdog = true;
      release = true;
      cv.notify_all();
    }
  });
  testing::HttpClient c(server_->port());
  Reply r = c.Send("GET", "/api/v1/labels");
  {
    std::lock_guard<std::mutex> lock(mu);
    answered = true;
    release = true;
  }
  cv.notify_all();
  watchdog.join();
  blocker.join();
  EXPECT_FALSE(freed_by_watchdog);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"success","data":["__name__","job"]})");
  EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
}

TEST_F(ServerTest, ClientDisconnectCancelsTheRunningQuery) {
  Start();
  std::atomic<bool> entered{false};
  std::atomic<bool> saw_cancel{false};
  backend_.on_instant = [&](const InstantQueryRequest&, const engine::QueryContext& ctx) {
    entered = true;
    // Runs until cancelled (bounded so that a broken server cannot hang the test forever).
    WaitFor([&] { return ctx.cancelled != nullptr && ctx.cancelled->load(); }, 30000);
    saw_cancel = ctx.cancelled != nullptr && ctx.cancelled->load();
    return absl::StatusOr<QueryResult>(absl::CancelledError("query was canceled"));
  };
  testing::HttpClient c(server_->port());
  c.SendRaw("GET /api/v1/query?query=slow HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(WaitFor([&] { return entered.load(); }));
  c.Close();
  EXPECT_TRUE(WaitFor([&] { return saw_cancel.load(); }));
  EXPECT_TRUE(WaitFor([&] { return server_->open_connections() == 0; }));
}

TEST_F(ServerTest, OversizedAndMalformedRequestsGetClearErrors) {
  ServerOptions options;
  options.max_header_bytes = 4096;
  options.max_body_bytes = 1024;
  Start(options);
  {
    testing::HttpClient c(server_->port());
    Reply r = c.Send("GET", "/api/v1/query?query=" + std::string(8000, 'a'));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 431);
    EXPECT_EQ(r.body, "431 Request Header Fields Too Large");
  }
  {
    testing::HttpClient c(server_->port());
    Reply r = c.Send("POST", "/api/v1/query", "query=" + std::string(5000, 'a'));
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 413);
    EXPECT_EQ(r.body, "413 Request Entity Too Large");
  }
  {
    testing::HttpClient c(server_->port());
    c.SendRaw(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 22));
    Reply r = c.Read();
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 400);
    EXPECT_TRUE(c.PeerClosed());
  }
  {
    // A binary query string is answered by the API, not refused by the transport.
    testing::HttpClient c(server_->port());
    backend_.on_instant = [](const InstantQueryRequest& r, const engine::QueryContext&) {
      return absl::StatusOr<QueryResult>(absl::InvalidArgumentError(
          "1:1: parse error: unexpected character: '" + r.params.query.substr(0, 1) + "'"));
    };
    Reply r = c.Send("GET", "/api/v1/query?query=%FF%00%01");
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body,
              R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": )"
              R"(1:1: parse error: unexpected character: '\ufffd'"})");
  }
}

TEST_F(ServerTest, ExpectContinueBodiesAreRead) {
  Start();
  testing::HttpClient c(server_->port());
  std::string body = "query=" + std::string(3000, 'b') + "&time=3";
  Reply r = c.Send("POST", "/api/v1/query", body, {{"Expect", "100-continue"}});
  // The interim 100 response comes first.
  if (r.status == 100)
    r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(backend_.last_instant.params.query, std::string(3000, 'b'));
  EXPECT_EQ(backend_.last_instant.time_ms, 3000);
}

TEST_F(ServerTest, ShutdownCancelsInFlightQueries) {
  Start();
  std::atomic<bool> entered{false};
  std::atomic<bool> saw_cancel{false};
  backend_.on_instant = [&](const InstantQueryRequest&, const engine::QueryContext& ctx) {
    entered = true;
    WaitFor([&] { return ctx.cancelled->load(); }, 30000);
    saw_cancel = ctx.cancelled->load();
    return absl::StatusOr<QueryResult>(absl::CancelledError("canceled"));
  };
  std::thread client([&] {
    testing::HttpClient c(server_->port());
    c.Send("GET", "/api/v1/query?query=slow");
  });
  ASSERT_TRUE(WaitFor([&] { return entered.load(); }));
  server_->Shutdown();
  EXPECT_TRUE(saw_cancel.load());
  client.join();
}

}  // namespace
}  // namespace paodin::http
