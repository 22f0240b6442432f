#include "cmd/query_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin::cmd {
namespace {

using ::paodin::testing::IsOk;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(QueryFlagsTest, DefaultsAreThanosDefaults) {
  absl::StatusOr<QueryConfig> c = ResolveQueryFlags(QueryFlags{});
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->http_address, "0.0.0.0:10902");
  EXPECT_EQ(c->grpc_address, "0.0.0.0:10901");
  EXPECT_EQ(c->engine.lookback_delta_ms, 300'000);
  EXPECT_EQ(c->engine.timeout_ms, 120'000);
  EXPECT_EQ(c->engine.default_eval_interval_ms, 60'000);
  EXPECT_EQ(c->proxy.response_timeout.count(), 0);
  EXPECT_EQ(c->endpoints.unhealthy_timeout.count(), 300'000);
  EXPECT_EQ(c->defaults.default_step_ms, 1000);
  EXPECT_TRUE(c->defaults.partial_response);
  EXPECT_EQ(c->max_concurrent, 20);
  EXPECT_EQ(c->route_prefix, "");
}

TEST(QueryFlagsTest, ValuesAreTranslated) {
  QueryFlags f;
  f.stores = {"a:1"};
  f.endpoints = {"b:2"};
  f.replica_labels = {"replica", "prometheus_replica", "replica"};
  f.deduplication_func = "chain";
  f.lookback_delta = "1m";
  f.partial_response = false;
  f.store_response_timeout = "10s";
  f.selector_labels = {"region=\"eu\""};
  f.web_external_prefix = "http://example.com/thanos/";
  f.max_samples = 1000;
  absl::StatusOr<QueryConfig> c = ResolveQueryFlags(f);
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(c->endpoints.endpoints, ElementsAre("a:1", "b:2"));
  EXPECT_THAT(c->proxy.replica_labels, ElementsAre("prometheus_replica", "replica"));
  EXPECT_THAT(c->defaults.replica_labels, ElementsAre("prometheus_replica", "replica"));
  EXPECT_EQ(c->proxy.dedup_func, storeapi::DedupFunc::kChain);
  EXPECT_EQ(c->engine.lookback_delta_ms, 60'000);
  EXPECT_EQ(c->engine.max_samples, 1000);
  EXPECT_EQ(c->proxy.default_partial_response, storeapi::PartialResponseStrategy::kAbort);
  EXPECT_FALSE(c->defaults.partial_response);
  EXPECT_EQ(c->proxy.response_timeout.count(), 10'000);
  EXPECT_EQ(c->selector_labels.ToString(), R"({region="eu"})");
  EXPECT_EQ(c->route_prefix, "/thanos");
  f.web_route_prefix = "api/";
  c = ResolveQueryFlags(f);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->route_prefix, "/api");
}

TEST(QueryFlagsTest, BadValuesNameTheFlag) {
  struct Case {
    const char* name;
    void (*set)(QueryFlags&);
    const char* message;
  };

  const Case cases[] = {
      {"timeout", [](QueryFlags& f) { f.query_timeout = "2 minutes"; }, "--query.timeout"},
      {"zero timeout", [](QueryFlags& f) { f.query_timeout = "0s"; }, "--query.timeout"},
      {"lookback", [](QueryFlags& f) { f.lookback_delta = "x"; }, "--query.lookback-delta"},
      {"step", [](QueryFlags& f) { f.default_step = "-1s"; }, "--query.default-step"},
      {"eval", [](QueryFlags& f) { f.default_evaluation_interval = "1"; },
       "--query.default-evaluation-interval"},
      {"response", [](QueryFlags& f) { f.store_response_timeout = "5x"; },
       "--store.response-timeout"},
      {"unhealthy", [](QueryFlags& f) { f.store_unhealthy_timeout = ""; },
       "--store.unhealthy-timeout"},
      {"sd interval", [](QueryFlags& f) { f.store_sd_interval = "often"; }, "--store.sd-interval"},
      {"replica", [](QueryFlags& f) { f.replica_labels = {"bad-name"}; }, "--query.replica-label"},
      {"dedup func", [](QueryFlags& f) { f.deduplication_func = "max"; }, "--deduplication.func"},
      {"selector", [](QueryFlags& f) { f.selector_labels = {"region=eu"}; }, "--selector-label"},
      {"concurrency", [](QueryFlags& f) { f.max_concurrent = 0; }, "--query.max-concurrent"},
      {"select", [](QueryFlags& f) { f.max_concurrent_select = 0; },
       "--query.max-concurrent-select"},
      {"samples", [](QueryFlags& f) { f.max_samples = 0; }, "--query.max-samples"},
      {"limits", [](QueryFlags& f) { f.store_limits_request_series = -1; }, "--store.limits"},
      {"http", [](QueryFlags& f) { f.http_address = ""; }, "--http-address"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    QueryFlags f;
    c.set(f);
    absl::StatusOr<QueryConfig> r = ResolveQueryFlags(f);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
}

TEST(QueryFlagsTest, TlsIsRejectedClearly) {
  QueryFlags client;
  client.grpc_client_tls_secure = true;
  absl::StatusOr<QueryConfig> r = ResolveQueryFlags(client);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("--grpc-client-tls"));
  QueryFlags server;
  server.grpc_server_tls_cert = "cert.pem";
  r = ResolveQueryFlags(server);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("--grpc-server-tls"));
}

TEST(QueryFlagsTest, FlagValuesAreSortedAndComplete) {
  QueryFlags f;
  f.replica_labels = {"a", "b"};
  std::vector<std::pair<std::string, std::string>> v = QueryFlagValues(f);
  EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  EXPECT_THAT(
      v, ::testing::Contains(std::pair<std::string, std::string>("query.replica-label", "a,b")));
  EXPECT_THAT(v, ::testing::Contains(
                     std::pair<std::string, std::string>("query.partial-response", "true")));
  EXPECT_EQ(v.size(), 40u);
}

}  // namespace
}  // namespace paodin::cmd
