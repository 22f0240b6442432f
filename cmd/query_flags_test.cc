#include "cmd/query_flags.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

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
  EXPECT_NE(c->proxy.label_cache, nullptr);
}

TEST(QueryFlagsTest, AZeroLabelCacheTtlTurnsTheCacheOff) {
  QueryFlags f;
  f.stores = {"a:1"};
  f.label_cache_ttl = "0s";
  absl::StatusOr<QueryConfig> c = ResolveQueryFlags(f);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->proxy.label_cache, nullptr);
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
      {"label cache", [](QueryFlags& f) { f.label_cache_ttl = "soon"; }, "--query.label-cache-ttl"},
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

// Files with PEM markers in a temporary directory: ResolveQueryFlags reads the TLS files but
// leaves their parsing to gRPC (the loopback tests in tls_test.cc use real certificates).
class QueryTlsFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/paodin_query_flags_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    cert_ = dir_ + "/cert.pem";
    key_ = dir_ + "/key.pem";
    std::ofstream(cert_) << "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    std::ofstream(key_) << "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string cert_;
  std::string key_;
};

TEST_F(QueryTlsFlagsTest, ClientTlsFlagsReachTheEndpointSet) {
  QueryFlags f;
  f.grpc_client_tls_secure = true;
  f.grpc_client_tls_skip_verify = true;
  f.grpc_client_tls_cert = cert_;
  f.grpc_client_tls_key = key_;
  f.grpc_client_tls_ca = cert_;
  f.grpc_client_server_name = "store.example";
  absl::StatusOr<QueryConfig> c = ResolveQueryFlags(f);
  ASSERT_THAT(c, IsOk());
  const storeapi::ClientTlsOptions& tls = c->endpoints.tls;
  EXPECT_TRUE(tls.secure);
  EXPECT_TRUE(tls.skip_verify);
  EXPECT_EQ(tls.cert_file, cert_);
  EXPECT_EQ(tls.key_file, key_);
  EXPECT_EQ(tls.ca_file, cert_);
  EXPECT_EQ(tls.server_name, "store.example");
  EXPECT_FALSE(c->grpc_server_tls.enabled());
  EXPECT_THAT(IgnoredClientTlsFlags(f), ::testing::IsEmpty());
}

TEST_F(QueryTlsFlagsTest, ServerTlsFlagsReachTheGrpcServer) {
  QueryFlags f;
  f.grpc_server_tls_cert = cert_;
  f.grpc_server_tls_key = key_;
  f.grpc_server_tls_client_ca = cert_;
  absl::StatusOr<QueryConfig> c = ResolveQueryFlags(f);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->grpc_server_tls.cert_file, cert_);
  EXPECT_EQ(c->grpc_server_tls.key_file, key_);
  EXPECT_EQ(c->grpc_server_tls.client_ca_file, cert_);
  EXPECT_FALSE(c->endpoints.tls.secure);
}

TEST_F(QueryTlsFlagsTest, WithoutSecureTheClientFlagsAreIgnoredAsInThanos) {
  QueryFlags f;
  f.grpc_client_tls_cert = "/nonexistent/cert.pem";  // not read: no --grpc-client-tls-secure
  f.grpc_client_tls_ca = "/nonexistent/ca.pem";
  f.grpc_client_server_name = "store.example";
  absl::StatusOr<QueryConfig> c = ResolveQueryFlags(f);
  ASSERT_THAT(c, IsOk());
  EXPECT_FALSE(c->endpoints.tls.secure);
  EXPECT_THAT(
      IgnoredClientTlsFlags(f),
      ElementsAre("--grpc-client-tls-cert", "--grpc-client-tls-ca", "--grpc-client-server-name"));
}

TEST_F(QueryTlsFlagsTest, BadTlsFlagsFailAtStartNamingTheFlagOrFile) {
  struct Case {
    const char* name;
    std::function<void(QueryFlags&)> set;
    std::string message;
  };

  const std::vector<Case> cases = {
      {"client cert without key",
       [&](QueryFlags& f) {
         f.grpc_client_tls_secure = true;
         f.grpc_client_tls_cert = cert_;
       },
       "--grpc-client-tls-key"},
      {"client key without cert",
       [&](QueryFlags& f) {
         f.grpc_client_tls_secure = true;
         f.grpc_client_tls_key = key_;
       },
       "--grpc-client-tls-cert"},
      {"unreadable client CA",
       [&](QueryFlags& f) {
         f.grpc_client_tls_secure = true;
         f.grpc_client_tls_ca = dir_ + "/missing-ca.pem";
       },
       dir_ + "/missing-ca.pem"},
      {"unreadable client cert",
       [&](QueryFlags& f) {
         f.grpc_client_tls_secure = true;
         f.grpc_client_tls_cert = dir_ + "/missing-cert.pem";
         f.grpc_client_tls_key = key_;
       },
       dir_ + "/missing-cert.pem"},
      {"server cert without key", [&](QueryFlags& f) { f.grpc_server_tls_cert = cert_; },
       "--grpc-server-tls-key"},
      {"server key without cert", [&](QueryFlags& f) { f.grpc_server_tls_key = key_; },
       "--grpc-server-tls-cert"},
      {"client CA without server cert", [&](QueryFlags& f) { f.grpc_server_tls_client_ca = cert_; },
       "--grpc-server-tls-client-ca needs"},
      {"unreadable server key",
       [&](QueryFlags& f) {
         f.grpc_server_tls_cert = cert_;
         f.grpc_server_tls_key = dir_ + "/missing-key.pem";
       },
       "--grpc-server-tls-key file " + dir_ + "/missing-key.pem"},
      {"server key that is no key",
       [&](QueryFlags& f) {
         f.grpc_server_tls_cert = cert_;
         f.grpc_server_tls_key = cert_;
       },
       "no PEM PRIVATE KEY block"},
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

TEST(QueryFlagsTest, FlagValuesAreSortedAndComplete) {
  QueryFlags f;
  f.replica_labels = {"a", "b"};
  std::vector<std::pair<std::string, std::string>> v = QueryFlagValues(f);
  EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  EXPECT_THAT(
      v, ::testing::Contains(std::pair<std::string, std::string>("query.replica-label", "a,b")));
  EXPECT_THAT(v, ::testing::Contains(
                     std::pair<std::string, std::string>("query.partial-response", "true")));
  EXPECT_THAT(
      v, ::testing::Contains(std::pair<std::string, std::string>("query.label-cache-ttl", "1m")));
  EXPECT_EQ(v.size(), 41u);
}

}  // namespace
}  // namespace paodin::cmd
