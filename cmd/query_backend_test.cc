#include "cmd/query_backend.h"

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "engine/util/status_matchers.h"
#include "storeapi/memstore/memstore.h"
#include "storeapi/proxy/label_cache.h"
#include "storeapi/server/memstore_backend.h"
#include "storeapi/server/server.h"

namespace paodin::cmd {
namespace {

using engine::Labels;
using ::paodin::testing::IsOk;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

engine::Matcher Eq(std::string name, std::string value) {
  return *engine::Matcher::Make(engine::MatchType::kEqual, std::move(name), std::move(value));
}

std::vector<std::string> LabelStrings(const std::vector<http::ResultSeries>& series) {
  std::vector<std::string> out;
  for (const http::ResultSeries& s : series) {
    out.push_back(s.labels.ToString());
  }
  return out;
}

// Cluster "a" in two replicas (replica 1 misses 100..199 s), cluster "b" once; a counter
// `c_total` rising by 1/s (b: 10/s) sampled every second from 0 to 299 s.
class QueryBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartStore({{"cluster", "a"}, {"replica", "0"}}, false, 1);
    StartStore({{"cluster", "a"}, {"replica", "1"}}, true, 1);
    StartStore({{"cluster", "b"}}, false, 10);
    storeapi::EndpointSetOptions eo;
    for (const auto& s : servers_) {
      eo.endpoints.push_back(s->address());
    }
    endpoints_ = std::make_shared<storeapi::EndpointSet>(eo);
    storeapi::ProxyOptions po;
    po.replica_labels = {"replica"};
    proxy_ = std::make_unique<storeapi::Proxy>(endpoints_, po);
    QueryBackendOptions bo;
    bo.registry = registry_;
    bo.flags = {{"query.replica-label", "replica"}};
    bo.build_info.version = "0.1.0";
    backend_ = std::make_unique<QueryBackend>(proxy_.get(), endpoints_.get(), bo);
  }

  void TearDown() override {
    for (auto& s : servers_) {
      s->Shutdown(0);
    }
  }

  void StartStore(std::vector<std::pair<std::string, std::string>> external, bool gap,
                  double scale) {
    auto store = std::make_shared<storeapi::MemStore>();
    const Labels series = L({{"__name__", "c_total"}, {"job", "node"}});
    for (int i = 0; i < 300; ++i) {
      if (gap && i >= 100 && i < 200) {
        continue;
      }
      ASSERT_THAT(store->Append(series, i * 1000, i * scale), IsOk());
    }
    storeapi::StoreServerOptions so;
    so.address = "127.0.0.1:0";
    so.workers = 2;
    auto server = storeapi::StoreServer::Start(
        std::make_shared<storeapi::MemStoreBackend>(store, L(std::move(external))), so);
    ASSERT_THAT(server, IsOk());
    servers_.push_back(std::move(*server));
  }

  http::InstantQueryRequest Instant(std::string query, int64_t t_ms) {
    http::InstantQueryRequest r;
    r.params.query = std::move(query);
    r.params.replica_labels = {"replica"};
    r.time_ms = t_ms;
    return r;
  }

  http::MetadataRequest Meta(std::vector<http::MatcherSet> matchers) {
    http::MetadataRequest r;
    r.matchers = std::move(matchers);
    r.start_ms = 0;
    r.end_ms = 1'000'000;
    r.replica_labels = {"replica"};
    return r;
  }

  std::atomic<bool> cancelled_{false};
  engine::QueryContext ctx_{.cancelled = &cancelled_};
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::vector<std::unique_ptr<storeapi::StoreServer>> servers_;
  std::shared_ptr<storeapi::EndpointSet> endpoints_;
  std::unique_ptr<storeapi::Proxy> proxy_;
  std::unique_ptr<QueryBackend> backend_;
};

TEST_F(QueryBackendTest, NotReadyUntilTheFirstRefresh) {
  EXPECT_FALSE(backend_->Ready());
  endpoints_->Refresh();
  EXPECT_TRUE(backend_->Ready());
}

TEST_F(QueryBackendTest, InstantQueryDeduplicatesReplicas) {
  endpoints_->Refresh();
  absl::StatusOr<http::QueryResult> r =
      backend_->InstantQuery(Instant("sum by (cluster) (rate(c_total[1m]))", 150'000), ctx_);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->type, engine::ResultType::kVector);
  ASSERT_THAT(LabelStrings(r->series), ElementsAre(R"({cluster="a"})", R"({cluster="b"})"));
  EXPECT_DOUBLE_EQ(r->series[0].vs[0], 1);
  EXPECT_DOUBLE_EQ(r->series[1].vs[0], 10);
  EXPECT_GT(r->stats.samples_scanned, 0);
}

TEST_F(QueryBackendTest, DedupFalseKeepsReplicas) {
  endpoints_->Refresh();
  http::InstantQueryRequest req = Instant("c_total", 299'000);
  req.params.dedup = false;
  absl::StatusOr<http::QueryResult> r = backend_->InstantQuery(req, ctx_);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->series.size(), 3u);
}

TEST_F(QueryBackendTest, RangeQueryGivesAMatrix) {
  endpoints_->Refresh();
  http::RangeQueryRequest req;
  req.params.query = "c_total{cluster=\"a\"}";
  req.params.replica_labels = {"replica"};
  req.start_ms = 0;
  req.end_ms = 290'000;
  req.step_ms = 10'000;
  absl::StatusOr<http::QueryResult> r = backend_->RangeQuery(req, ctx_);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->type, engine::ResultType::kMatrix);
  ASSERT_EQ(r->series.size(), 1u);
  EXPECT_EQ(r->series[0].ts.size(), 30u);
  EXPECT_DOUBLE_EQ(r->series[0].vs[15], 150);  // inside replica 1's gap
}

TEST_F(QueryBackendTest, ParseErrorIsInvalidArgument) {
  endpoints_->Refresh();
  EXPECT_THAT(backend_->InstantQuery(Instant("sum(", 0), ctx_),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(QueryBackendTest, CancelledQueryStops) {
  endpoints_->Refresh();
  cancelled_ = true;
  EXPECT_THAT(backend_->InstantQuery(Instant("c_total", 100'000), ctx_),
              StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(QueryBackendTest, StoreFailureIsAWarningOrAnError) {
  endpoints_->Refresh();
  servers_[2]->Shutdown(0);
  absl::StatusOr<http::QueryResult> r = backend_->InstantQuery(Instant("c_total", 100'000), ctx_);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->series.size(), 1u);
  ASSERT_FALSE(r->warnings.empty());
  EXPECT_THAT(r->warnings[0], HasSubstr(servers_[2]->address()));

  http::InstantQueryRequest abort = Instant("c_total", 100'000);
  abort.params.partial_response = false;
  absl::StatusOr<http::QueryResult> failed = backend_->InstantQuery(abort, ctx_);
  EXPECT_FALSE(failed.ok());
}

TEST_F(QueryBackendTest, SeriesUnionOfMatchersWithLimit) {
  endpoints_->Refresh();
  absl::StatusOr<http::SeriesResult> r =
      backend_->Series(Meta({{Eq("job", "node"), Eq("cluster", "b")},
                             {Eq("__name__", "c_total"), Eq("cluster", "a")}}),
                       ctx_);
  ASSERT_THAT(r, IsOk());
  std::vector<std::string> got;
  for (const Labels& l : r->series) {
    got.push_back(l.ToString());
  }
  EXPECT_THAT(got, ElementsAre(R"({__name__="c_total", cluster="a", job="node"})",
                               R"({__name__="c_total", cluster="b", job="node"})"));
  http::MetadataRequest limited = Meta({{Eq("__name__", "c_total")}});
  limited.limit = 1;
  r = backend_->Series(limited, ctx_);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->series.size(), 2u);  // one more than the limit: the HTTP layer warns
}

TEST_F(QueryBackendTest, LabelCallsListReplicaLabels) {
  endpoints_->Refresh();
  absl::StatusOr<http::StringsResult> names = backend_->LabelNames(Meta({}), ctx_);
  ASSERT_THAT(names, IsOk());
  EXPECT_THAT(names->values, ElementsAre("__name__", "cluster", "job", "replica"));
  absl::StatusOr<http::StringsResult> values =
      backend_->LabelValues("cluster", Meta({{Eq("job", "node")}, {Eq("cluster", "b")}}), ctx_);
  ASSERT_THAT(values, IsOk());
  EXPECT_THAT(values->values, ElementsAre("a", "b"));
  EXPECT_THAT(values->warnings, IsEmpty());
}

TEST_F(QueryBackendTest, LabelAnswersOfSettledStoresAreAtHandAfterTheFirstCall) {
  // These stores hold data from 1970: settled.
  storeapi::ProxyOptions po;
  po.replica_labels = {"replica"};
  po.label_cache = std::make_shared<storeapi::LabelCache>(storeapi::LabelCacheOptions{});
  storeapi::Proxy proxy(endpoints_, po);
  auto registry = std::make_shared<prometheus::Registry>();
  QueryBackendOptions bo;
  bo.registry = registry;
  QueryBackend backend(&proxy, endpoints_.get(), bo);
  endpoints_->Refresh();
  const http::MetadataRequest all = Meta({});
  EXPECT_EQ(backend.LabelNamesAtHand(all), std::nullopt);
  absl::StatusOr<http::StringsResult> names = backend.LabelNames(all, ctx_);
  ASSERT_THAT(names, IsOk());
  std::optional<http::StringsResult> at_hand = backend.LabelNamesAtHand(all);
  ASSERT_TRUE(at_hand.has_value());
  EXPECT_EQ(at_hand->values, names->values);
  const http::MetadataRequest two_sets = Meta({{Eq("job", "node")}, {Eq("cluster", "b")}});
  EXPECT_EQ(backend.LabelValuesAtHand("cluster", two_sets), std::nullopt);
  ASSERT_THAT(backend.LabelValues("cluster", two_sets, ctx_), IsOk());
  at_hand = backend.LabelValuesAtHand("cluster", two_sets);
  ASSERT_TRUE(at_hand.has_value());
  EXPECT_THAT(at_hand->values, ElementsAre("a", "b"));
  backend.UpdateStoreMetrics();
  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  // Hits: 3 stores for the names, 3 + 1 (cluster="b" selects one store) for the values.
  EXPECT_THAT(text, HasSubstr("paodin_query_label_cache_hits_total 7"));
  EXPECT_THAT(text, HasSubstr("paodin_query_label_cache_entries 7"));
}

TEST_F(QueryBackendTest, StoresAndMetricsReportEndpoints) {
  endpoints_->Refresh();
  std::vector<http::EndpointStatus> stores = backend_->Stores();
  ASSERT_EQ(stores.size(), 3u);
  for (const http::EndpointStatus& s : stores) {
    EXPECT_EQ(s.component_type, "store");
    EXPECT_FALSE(s.last_error.has_value());
    EXPECT_EQ(s.min_time, 0);
  }
  ASSERT_THAT(backend_->InstantQuery(Instant("c_total", 100'000), ctx_), IsOk());
  backend_->UpdateStoreMetrics();
  const std::string text = prometheus::TextSerializer().Serialize(registry_->Collect());
  EXPECT_THAT(text, HasSubstr("paodin_query_samples_scanned_total"));
  EXPECT_THAT(text, HasSubstr("paodin_store_nodes_grpc_connections{external_labels="));
  EXPECT_THAT(text, HasSubstr("paodin_store_node_healthy{address=\"" + servers_[0]->address()));
  EXPECT_THAT(text, HasSubstr("paodin_query_queries_total{result=\"success\",type=\"instant\"} 1"));
}

TEST_F(QueryBackendTest, QueryOptionsCarryDeadlineAndLookback) {
  engine::QueryContext ctx;
  ctx.deadline_steady_ms = engine::NowSteadyMs() + 60'000;
  engine::QueryOptions o = ToQueryOptions(1234, ctx);
  EXPECT_EQ(o.lookback_delta_ms, 1234);
  EXPECT_GT(o.timeout_ms, 50'000);
  EXPECT_LE(o.timeout_ms, 60'000);
  ctx.deadline_steady_ms = 1;  // long past
  EXPECT_EQ(ToQueryOptions(0, ctx).timeout_ms, 1);
}

}  // namespace
}  // namespace paodin::cmd
