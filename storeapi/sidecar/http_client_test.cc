#include "storeapi/sidecar/http_client.h"

#include <atomic>
#include <string>

#include "engine/util/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storeapi/sidecar/fake_http_server_test_util.h"

namespace paodin::storeapi {
namespace {

using ::paodin::storeapi::testing::ChunkedReply;
using ::paodin::storeapi::testing::FakeHttpServer;
using ::paodin::storeapi::testing::FakeReply;
using ::paodin::storeapi::testing::FakeRequest;
using ::paodin::storeapi::testing::HttpReply;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;

std::unique_ptr<HttpClient> Client(const std::string& url, int64_t timeout_ms = 5000) {
  HttpClientOptions o;
  o.url = url;
  o.timeout_ms = timeout_ms;
  o.max_body_bytes = 1000;
  return *HttpClient::Create(o);
}

TEST(HttpClientTest, GetReusesKeepAliveConnection) {
  FakeHttpServer server(
      [](const FakeRequest& r) { return HttpReply(200, "application/json", r.target); });
  auto client = Client(server.url() + "/prefix");
  engine::QueryContext ctx;
  absl::StatusOr<HttpResponse> a = client->Get("/a?x=1", ctx);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, "/prefix/a?x=1");
  EXPECT_EQ(a->content_type, "application/json");
  ASSERT_TRUE(client->Get("/b", ctx).ok());
  EXPECT_EQ(client->connections_opened(), 1);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, RetriesOnceWhenAnIdleConnectionWasClosed) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeReply r = HttpReply(200, "text/plain", "ok");
    r.close = true;  // closes without saying Connection: close
    return r;
  });
  auto client = Client(server.url());
  engine::QueryContext ctx;
  ASSERT_TRUE(client->Get("/a", ctx).ok());
  absl::StatusOr<HttpResponse> b = client->Get("/b", ctx);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->body, "ok");
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClientTest, ReturnsErrorStatusesAsResponses) {
  FakeHttpServer server([](const FakeRequest&) { return HttpReply(503, "text/plain", "busy"); });
  auto client = Client(server.url());
  absl::StatusOr<HttpResponse> r = client->Get("/", engine::QueryContext{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503);
}

TEST(HttpClientTest, RefusedConnectionIsUnavailable) {
  int port;
  {
    FakeHttpServer server([](const FakeRequest&) { return FakeReply{}; });
    port = server.port();
  }
  auto client = Client("http://127.0.0.1:" + std::to_string(port));
  EXPECT_THAT(client->Get("/", engine::QueryContext{}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(HttpClientTest, SilentServerTimesOut) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeReply r = HttpReply(200, "text/plain", "late");
    r.delay_ms = 1500;
    return r;
  });
  auto client = Client(server.url(), 100);
  EXPECT_THAT(client->Get("/", engine::QueryContext{}),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST(HttpClientTest, CancelledCallStops) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeReply r = HttpReply(200, "text/plain", "late");
    r.delay_ms = 1500;
    return r;
  });
  auto client = Client(server.url(), 10000);
  std::atomic<bool> cancelled{true};
  engine::QueryContext ctx;
  ctx.cancelled = &cancelled;
  EXPECT_THAT(client->Get("/", ctx), StatusIs(absl::StatusCode::kCancelled));
}

TEST(HttpClientTest, BodyAboveLimitIsResourceExhausted) {
  FakeHttpServer server(
      [](const FakeRequest&) { return HttpReply(200, "text/plain", std::string(5000, 'x')); });
  auto client = Client(server.url());
  EXPECT_THAT(client->Get("/", engine::QueryContext{}),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       "GET http://127.0.0.1:" + std::to_string(server.port()) +
                           "/: response body larger than 1000 bytes"));
}

TEST(HttpClientTest, GarbageResponseIsAnError) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeReply r;
    r.raw = "this is not HTTP at all\r\n\r\n";
    r.close = true;
    return r;
  });
  auto client = Client(server.url());
  EXPECT_THAT(client->Get("/", engine::QueryContext{}), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(HttpClientTest, PostStreamsChunkedBody) {
  std::string body(100000, 'q');
  for (size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>('a' + i % 26);
  }
  FakeHttpServer server([&](const FakeRequest& r) {
    EXPECT_EQ(r.body, "request");
    EXPECT_EQ(r.content_type, "application/x-protobuf");
    return ChunkedReply("application/octet-stream", body);
  });
  auto client = Client(server.url());
  engine::QueryContext ctx;
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<std::unique_ptr<HttpBodyStream>> s =
        client->Post("/read", "request", {{"Content-Type", "application/x-protobuf"}}, ctx);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ((*s)->status(), 200);
    EXPECT_EQ((*s)->content_type(), "application/octet-stream");
    std::string got;
    std::string piece;
    do {
      ASSERT_TRUE((*s)->Read(4096, &piece).ok());
      EXPECT_LE(piece.size(), 4096u);
      got += piece;
    } while (!piece.empty());
    EXPECT_EQ(got, body);
  }
  // The connection went back to the pool after the first body was read to its end.
  EXPECT_EQ(client->connections_opened(), 1);
}

TEST(HttpClientTest, CutStreamIsUnavailable) {
  FakeHttpServer server(
      [](const FakeRequest&) { return ChunkedReply("x/y", std::string(1000, 'z'), 100); });
  auto client = Client(server.url());
  absl::StatusOr<std::unique_ptr<HttpBodyStream>> s =
      client->Post("/read", "", {}, engine::QueryContext{});
  ASSERT_TRUE(s.ok()) << s.status();
  std::string piece;
  absl::Status st;
  size_t total = 0;
  do {
    st = (*s)->Read(4096, &piece);
    total += piece.size();
  } while (st.ok() && !piece.empty());
  EXPECT_THAT(st, StatusHasSubstr("connection closed before the end of the body"));
  EXPECT_LE(total, 100u);
}

}  // namespace
}  // namespace paodin::storeapi
