#include "storeapi/proxy/proxy.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/client/endpoint_set.h"
#include "storeapi/client/testing/fake_store.h"
#include "storeapi/proxy/label_cache.h"
#include "storeapi/proxy/test_series.h"

namespace paodin::storeapi {
namespace {

using ::paodin::storeapi::testing::FakeStore;
using ::paodin::storeapi::testing::FakeStoreConfig;
using ::paodin::storeapi::testing::MakeSeries;
using ::paodin::storeapi::testing::RegularSamples;
using ::paodin::storeapi::testing::TS;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

engine::Matcher M(engine::MatchType t, std::string n, std::string v) {
  return *engine::Matcher::Make(t, std::move(n), std::move(v));
}

struct Result {
  std::vector<std::string> labels;
  std::vector<std::vector<TS>> samples;
  std::vector<std::string> warnings;
  absl::Status status;
};

Result Collect(engine::Queryable& q, std::vector<engine::Matcher> matchers, int64_t mint = 0,
               int64_t maxt = 1'000'000'000, std::string func = "") {
  Result r;
  engine::SelectHints hints;
  hints.start_ms = mint;
  hints.end_ms = maxt;
  hints.func = std::move(func);
  auto set = q.Select(hints, matchers, engine::QueryContext{});
  if (!set.ok()) {
    r.status = set.status();
    return r;
  }
  while ((*set)->Next()) {
    r.labels.push_back((*set)->labels().ToString());
    auto it = (*set)->Samples();
    auto samples = storeapi::testing::ReadAll(*it, 64);
    if (!samples.ok()) {
      r.status = samples.status();
      return r;
    }
    r.samples.push_back(*samples);
  }
  r.status = (*set)->status();
  r.warnings = (*set)->warnings();
  return r;
}

// A store per cluster/replica with series up{job=...}.
FakeStoreConfig ClusterStore(std::string cluster, std::string replica,
                             std::vector<std::string> jobs, int64_t start = 0) {
  FakeStoreConfig cfg;
  cfg.external_labels = {{"cluster", cluster}};
  if (!replica.empty())
    cfg.external_labels.push_back({"replica", replica});
  for (const std::string& job : jobs) {
    cfg.series.push_back(
        MakeSeries({{"__name__", "up"}, {"job", job}}, RegularSamples(start, 15000, 40)));
  }
  return cfg;
}

class ProxyTest : public ::testing::Test {
 protected:
  FakeStore& AddStore(FakeStoreConfig cfg) {
    stores_.push_back(std::make_unique<FakeStore>(std::move(cfg)));
    EXPECT_TRUE(stores_.back()->Start().ok());
    return *stores_.back();
  }

  std::unique_ptr<Proxy> MakeProxy(ProxyOptions options = {}) {
    EndpointSetOptions eo;
    for (auto& s : stores_)
      eo.endpoints.push_back(s->address());
    eo.info_timeout = std::chrono::milliseconds(500);
    auto set = std::make_shared<EndpointSet>(eo);
    set->Refresh();
    return std::make_unique<Proxy>(set, std::move(options));
  }

  std::vector<std::unique_ptr<FakeStore>> stores_;
};

const std::vector<engine::Matcher> kUp = {M(engine::MatchType::kEqual, "__name__", "up")};

TEST_F(ProxyTest, MergesStoresInLabelOrder) {
  AddStore(ClusterStore("b", "", {"api", "db"}));
  AddStore(ClusterStore("a", "", {"web"}));
  auto proxy = MakeProxy();
  Result r = Collect(*proxy, kUp);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.labels, ElementsAre(R"({__name__="up", cluster="a", job="web"})",
                                    R"({__name__="up", cluster="b", job="api"})",
                                    R"({__name__="up", cluster="b", job="db"})"));
  EXPECT_EQ(r.samples[0].size(), 40u);
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST_F(ProxyTest, ExternalLabelsPruneStoresBeforeAnyStreamOpens) {
  FakeStore& host = AddStore(ClusterStore("host", "", {"api"}));
  FakeStore& member = AddStore(ClusterStore("member", "", {"api"}));
  auto proxy = MakeProxy();
  std::vector<engine::Matcher> m = kUp;
  m.push_back(M(engine::MatchType::kEqual, "cluster", "member"));
  Result r = Collect(*proxy, m);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.labels.size(), 1u);
  EXPECT_EQ(host.series_calls(), 0);
  EXPECT_EQ(member.series_calls(), 1);
}

TEST_F(ProxyTest, NoMatchingStoreIsAnEmptyResultWithoutWarnings) {
  AddStore(ClusterStore("host", "", {"api"}));
  auto proxy = MakeProxy();
  std::vector<engine::Matcher> m = kUp;
  m.push_back(M(engine::MatchType::kEqual, "cluster", "nowhere"));
  Result r = Collect(*proxy, m);
  EXPECT_TRUE(r.status.ok());
  EXPECT_THAT(r.labels, IsEmpty());
  EXPECT_THAT(r.warnings, IsEmpty());
}

TEST_F(ProxyTest, StoreMatchRestrictsByAddress) {
  FakeStore& a = AddStore(ClusterStore("a", "", {"api"}));
  FakeStore& b = AddStore(ClusterStore("b", "", {"api"}));
  auto proxy = MakeProxy();
  RequestOptions req;
  req.store_matchers = {{M(engine::MatchType::kEqual, "__address__", b.address())}};
  auto q = proxy->ForRequest(req);
  Result r = Collect(*q, kUp);
  EXPECT_THAT(r.labels, ElementsAre(R"({__name__="up", cluster="b", job="api"})"));
  EXPECT_EQ(a.series_calls(), 0);
}

TEST_F(ProxyTest, SendsTheRequestFieldsAndTenant) {
  FakeStore& a = AddStore(ClusterStore("a", "", {"api"}));
  ProxyOptions options;
  options.default_tenant = "default-tenant";
  auto proxy = MakeProxy(options);
  RequestOptions req;
  req.tenant = "team-x";
  req.partial_response = PartialResponseStrategy::kAbort;
  auto q = proxy->ForRequest(req);
  engine::SelectHints hints;
  hints.start_ms = 1000;
  hints.end_ms = 2000;
  hints.step_ms = 15000;
  hints.range_ms = 300000;
  hints.func = "rate";
  hints.by = true;
  hints.grouping = {"job"};
  auto set = q->Select(hints, kUp, engine::QueryContext{});
  ASSERT_TRUE(set.ok());
  while ((*set)->Next()) {
  }
  const thanos::SeriesRequest got = a.last_request();
  EXPECT_EQ(got.min_time(), 1000);
  EXPECT_EQ(got.max_time(), 2000);
  ASSERT_EQ(got.matchers_size(), 1);
  EXPECT_EQ(got.matchers(0).name(), "__name__");
  EXPECT_EQ(got.partial_response_strategy(), thanos::ABORT);
  // A short selection asks for more series per frame (its series are small).
  EXPECT_EQ(got.response_batch_size(), 64 * 13);
  EXPECT_EQ(got.query_hints().func().name(), "rate");
  EXPECT_EQ(got.query_hints().range().millis(), 300000);
  EXPECT_EQ(got.query_hints().step_millis(), 15000);
  EXPECT_TRUE(got.query_hints().grouping().by());
  EXPECT_THAT(got.aggregates(), ElementsAre(thanos::COUNTER));
  EXPECT_EQ(a.last_tenant(), "team-x");
  EXPECT_THAT(got.without_replica_labels(), IsEmpty());

  // Frames of about the same size: the batch shrinks as the selection (and so each series'
  // chunks) grows, down to ProxyOptions::response_batch_size from 6 h on.
  constexpr int64_t kHour = 3'600'000;
  for (const auto& [range, want] : std::vector<std::pair<int64_t, int64_t>>{
           {kHour, 64 * 13 / 3}, {6 * kHour, 64}, {30 * 24 * kHour, 64}}) {
    SCOPED_TRACE(range);
    Collect(*q, kUp, 0, range);
    EXPECT_EQ(a.last_request().response_batch_size(), want);
  }
}

TEST_F(ProxyTest, DeduplicatesReplicasAcrossStoresThatStripAndStoresThatDoNot) {
  FakeStoreConfig r0 = ClusterStore("a", "0", {"api"});
  FakeStoreConfig r1 = ClusterStore("a", "1", {"api"}, 1000);
  r1.supports_without_replica_labels = false;
  FakeStore& s0 = AddStore(r0);
  AddStore(r1);
  ProxyOptions options;
  options.replica_labels = {"replica"};
  auto proxy = MakeProxy(options);
  Result r = Collect(*proxy, kUp);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.labels, ElementsAre(R"({__name__="up", cluster="a", job="api"})"));
  EXPECT_EQ(r.samples[0].size(), 40u);  // one replica's worth, not two
  EXPECT_THAT(s0.last_request().without_replica_labels(), ElementsAre("replica"));

  RequestOptions no_dedup;
  no_dedup.dedup = false;
  Result both = Collect(*proxy->ForRequest(no_dedup), kUp);
  EXPECT_EQ(both.labels.size(), 2u);
}

TEST_F(ProxyTest, WarnTurnsAFailingStoreIntoAWarning) {
  AddStore(ClusterStore("a", "", {"api", "db", "web"}));
  FakeStoreConfig bad = ClusterStore("b", "", {"api", "db", "web"});
  bad.fail_after_frames = 1;
  FakeStore& b = AddStore(bad);
  auto proxy = MakeProxy();
  Result r = Collect(*proxy, kUp);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.labels.size(), 4u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], HasSubstr("receive series from " + b.address()));
}

TEST_F(ProxyTest, AbortFailsTheSelectNamingTheStore) {
  AddStore(ClusterStore("a", "", {"api"}));
  FakeStoreConfig bad = ClusterStore("b", "", {"api", "db"});
  bad.fail_after_frames = 1;
  FakeStore& b = AddStore(bad);
  ProxyOptions options;
  options.default_partial_response = PartialResponseStrategy::kAbort;
  auto proxy = MakeProxy(options);
  Result r = Collect(*proxy, kUp);
  EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr(b.address()));
}

TEST_F(ProxyTest, StalledStoreTimesOutIntoAWarning) {
  AddStore(ClusterStore("a", "", {"api"}));
  FakeStoreConfig stall = ClusterStore("b", "", {"api", "db"});
  stall.stall_after_frames = 1;
  FakeStore& b = AddStore(stall);
  ProxyOptions options;
  options.response_timeout = std::chrono::milliseconds(200);
  auto proxy = MakeProxy(options);
  Result r = Collect(*proxy, kUp);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.labels.size(), 2u);
  EXPECT_THAT(r.warnings, ElementsAre("failed to receive any data in 200ms from " + b.address()));
}

TEST_F(ProxyTest, QueryTimeoutBoundsTheSelect) {
  FakeStoreConfig stall = ClusterStore("b", "", {"api"});
  stall.stall_after_frames = 0;
  AddStore(stall);
  ProxyOptions options;
  options.query_timeout = std::chrono::milliseconds(200);
  auto proxy = MakeProxy(options);
  Result r = Collect(*proxy, kUp);
  EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(ProxyTest, SeriesAndSampleLimitsHoldWithBatchFrames) {
  FakeStoreConfig cfg = ClusterStore("a", "", {"a", "b", "c", "d", "e"});
  cfg.batch_size = 64;
  AddStore(cfg);
  ProxyOptions options;
  options.max_series_per_select = 3;
  Result r = Collect(*MakeProxy(options), kUp);
  EXPECT_THAT(r.status, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(std::string(r.status.message()), HasSubstr("series limit"));
  options.max_series_per_select = 0;
  options.max_samples_per_select = 100;  // 40 samples per series
  Result s = Collect(*MakeProxy(options), kUp);
  EXPECT_THAT(s.status, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(s.labels.size(), 2u);
}

TEST_F(ProxyTest, IdenticalChunksFromTwoStoresAreKeptOnce) {
  FakeStoreConfig cfg = ClusterStore("a", "", {"api"});
  AddStore(cfg);
  AddStore(cfg);
  Result r = Collect(*MakeProxy(), kUp);
  ASSERT_EQ(r.labels.size(), 1u);
  EXPECT_EQ(r.samples[0].size(), 40u);
}

TEST_F(ProxyTest, SeriesFuncSkipsChunks) {
  FakeStore& a = AddStore(ClusterStore("a", "", {"api"}));
  Result r = Collect(*MakeProxy(), kUp, 0, 1'000'000'000, "series");
  EXPECT_EQ(r.labels.size(), 1u);
  EXPECT_TRUE(a.last_request().skip_chunks());
}

TEST_F(ProxyTest, SelectorLabelsGateTheRequestAndAreNotSentToStores) {
  FakeStore& a = AddStore(ClusterStore("a", "", {"api"}));
  ProxyOptions options;
  options.selector_labels = *engine::Labels::FromPairs({{"region", "eu"}});
  auto proxy = MakeProxy(options);

  // A matcher on the selector label that accepts its value is dropped before the fan-out.
  std::vector<engine::Matcher> eu = kUp;
  eu.push_back(M(engine::MatchType::kRegexMatch, "region", "eu|us"));
  Result r = Collect(*proxy, eu);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.labels.size(), 1u);
  ASSERT_EQ(a.series_calls(), 1);
  ASSERT_EQ(a.last_request().matchers_size(), 1);
  EXPECT_EQ(a.last_request().matchers(0).name(), "__name__");

  // One that rejects it gives an empty answer without asking any store.
  std::vector<engine::Matcher> us = kUp;
  us.push_back(M(engine::MatchType::kEqual, "region", "us"));
  Result none = Collect(*proxy, us);
  EXPECT_TRUE(none.status.ok());
  EXPECT_THAT(none.labels, IsEmpty());
  EXPECT_THAT(none.warnings, IsEmpty());
  EXPECT_EQ(a.series_calls(), 1);

  // A Select left without matchers is refused, as Thanos does.
  Result only = Collect(*proxy, {M(engine::MatchType::kEqual, "region", "eu")});
  EXPECT_THAT(only.status, StatusIs(absl::StatusCode::kInvalidArgument,
                                    "no matchers specified (excluding selector labels)"));

  // Label calls: a rejecting matcher empties the answer; an empty matcher list is fine.
  auto names = proxy->LabelNamesWithWarnings({}, 0, 1000000, us, 0, engine::QueryContext{});
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(names->values, IsEmpty());
  const std::vector<engine::Matcher> only_eu = {M(engine::MatchType::kEqual, "region", "eu")};
  auto values =
      proxy->LabelValuesWithWarnings({}, "job", 0, 1000000, only_eu, 0, engine::QueryContext{});
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(values->values, ElementsAre("api"));
}

TEST_F(ProxyTest, LabelCallsMergeSortedUniqueAndWarn) {
  AddStore(ClusterStore("a", "", {"api", "db"}));
  AddStore(ClusterStore("b", "", {"db", "web"}));
  FakeStoreConfig bad = ClusterStore("c", "", {"zzz"});
  bad.fail_after_frames = 0;
  FakeStore& c = AddStore(bad);
  auto proxy = MakeProxy();
  auto names = proxy->LabelNamesWithWarnings({}, 0, 1000000, {}, 0, engine::QueryContext{});
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(names->values, ElementsAre("__name__", "cluster", "job"));
  ASSERT_EQ(names->warnings.size(), 1u);
  EXPECT_THAT(names->warnings[0], HasSubstr(c.address()));
  auto values =
      proxy->LabelValuesWithWarnings({}, "job", 0, 1000000, kUp, 0, engine::QueryContext{});
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(values->values, ElementsAre("api", "db", "web"));
  auto limited =
      proxy->LabelValuesWithWarnings({}, "job", 0, 1000000, kUp, 2, engine::QueryContext{});
  EXPECT_THAT(limited->values, ElementsAre("api", "db"));
  RequestOptions abort;
  abort.partial_response = PartialResponseStrategy::kAbort;
  EXPECT_THAT(proxy->LabelNamesWithWarnings(abort, 0, 1000000, {}, 0, engine::QueryContext{}),
              StatusIs(absl::StatusCode::kUnavailable));
  auto plain = proxy->LabelValues("cluster", 0, 1000000, {}, engine::QueryContext{});
  ASSERT_TRUE(plain.ok());
  EXPECT_THAT(*plain, ElementsAre("a", "b"));
}

// Records every Observe call.
class RecordingObserver final : public StoreRequestObserver {
 public:
  struct Call {
    std::string store;
    std::string method;
    grpc::StatusCode code;
  };

  void Observe(std::string_view store, std::string_view method, double seconds,
               const grpc::Status& status) override {
    EXPECT_GE(seconds, 0);
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back({std::string(store), std::string(method), status.error_code()});
  }

  std::vector<std::string> Calls(std::string_view method) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const Call& c : calls_) {
      if (c.method == method)
        out.push_back(c.store + " " + std::to_string(static_cast<int>(c.code)));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Call> calls_;
};

TEST_F(ProxyTest, ObserverSeesEveryStoreCallWithItsOutcome) {
  FakeStore& a = AddStore(ClusterStore("a", "", {"api"}));
  FakeStoreConfig bad = ClusterStore("b", "", {"db"});
  bad.fail_after_frames = 0;
  FakeStore& b = AddStore(bad);
  auto observer = std::make_shared<RecordingObserver>();
  ProxyOptions options;
  options.observer = observer;
  auto proxy = MakeProxy(options);
  Result r = Collect(*proxy, kUp);  // the set and its streams are gone afterwards
  ASSERT_TRUE(r.status.ok()) << r.status;
  const std::string ok = std::to_string(static_cast<int>(grpc::StatusCode::OK));
  const std::string unavailable = std::to_string(static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  std::vector<std::string> want = {a.address() + " " + ok, b.address() + " " + unavailable};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(observer->Calls("Series"), want);
  ASSERT_TRUE(proxy->LabelNamesWithWarnings({}, 0, 1000000, {}, 0, engine::QueryContext{}).ok());
  EXPECT_EQ(observer->Calls("LabelNames"), want);
  ASSERT_TRUE(
      proxy->LabelValuesWithWarnings({}, "job", 0, 1000000, kUp, 0, engine::QueryContext{}).ok());
  EXPECT_EQ(observer->Calls("LabelValues"), want);
}

TEST_F(ProxyTest, LabelAnswersOfSettledStoresAreReusedOthersAreAskedEveryTime) {
  // a serves blocks that ended long ago; b is a sidecar (data until forever); c is settled
  // but fails.
  FakeStoreConfig settled = ClusterStore("a", "", {"api"});
  settled.component_type = "store";
  settled.min_time = 0;
  settled.max_time = 585000;
  FakeStore& a = AddStore(settled);
  FakeStore& b = AddStore(ClusterStore("b", "", {"db"}));
  FakeStoreConfig failing = settled;
  failing.external_labels = {{"cluster", "c"}};
  failing.fail_after_frames = 0;
  FakeStore& c = AddStore(failing);
  auto observer = std::make_shared<RecordingObserver>();
  ProxyOptions options;
  options.observer = observer;
  options.label_cache = std::make_shared<LabelCache>(LabelCacheOptions{});
  auto proxy = MakeProxy(options);
  constexpr int kRounds = 3;
  for (int i = 0; i < kRounds; ++i) {
    auto names = proxy->LabelNamesWithWarnings({}, 0, 1000000, {}, 0, engine::QueryContext{});
    ASSERT_TRUE(names.ok());
    EXPECT_THAT(names->values, ElementsAre("__name__", "cluster", "job"));
    EXPECT_EQ(names->warnings.size(), 1u);
    auto values =
        proxy->LabelValuesWithWarnings({}, "job", 0, 1000000, kUp, 0, engine::QueryContext{});
    ASSERT_TRUE(values.ok());
    EXPECT_THAT(values->values, ElementsAre("api", "db"));
  }
  const std::string ok = std::to_string(static_cast<int>(grpc::StatusCode::OK));
  const std::string unavailable = std::to_string(static_cast<int>(grpc::StatusCode::UNAVAILABLE));
  std::vector<std::string> want = {a.address() + " " + ok};
  for (int i = 0; i < kRounds; ++i) {
    want.push_back(b.address() + " " + ok);
    want.push_back(c.address() + " " + unavailable);
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(observer->Calls("LabelNames"), want);
  EXPECT_EQ(observer->Calls("LabelValues"), want);
  // Another request (here a limit) is another answer: a is asked again.
  auto limited =
      proxy->LabelValuesWithWarnings({}, "job", 0, 1000000, kUp, 1, engine::QueryContext{});
  ASSERT_TRUE(limited.ok());
  EXPECT_THAT(limited->values, ElementsAre("api"));
  EXPECT_EQ(observer->Calls("LabelValues").size(), want.size() + 3);
  // Answering from the cache alone is not possible while b (or c) has to be asked.
  EXPECT_EQ(proxy->CachedLabelNames({}, 0, 1000000, {}, 0), std::nullopt);
}

TEST_F(ProxyTest, CachedLabelAnswersNeedEveryStoreInTheCache) {
  FakeStoreConfig a = ClusterStore("a", "", {"api"});
  a.component_type = "store";
  a.min_time = 0;
  a.max_time = 585000;
  FakeStoreConfig b = a;
  b.external_labels = {{"cluster", "b"}};
  b.series = ClusterStore("b", "", {"db"}).series;
  AddStore(a);
  AddStore(b);
  ProxyOptions options;
  options.label_cache = std::make_shared<LabelCache>(LabelCacheOptions{});
  auto proxy = MakeProxy(options);
  EXPECT_EQ(proxy->CachedLabelValues({}, "job", 0, 1000000, kUp, 0), std::nullopt);
  auto asked =
      proxy->LabelValuesWithWarnings({}, "job", 0, 1000000, kUp, 0, engine::QueryContext{});
  ASSERT_TRUE(asked.ok());
  std::optional<LabelResult> cached = proxy->CachedLabelValues({}, "job", 0, 1000000, kUp, 0);
  ASSERT_TRUE(cached.has_value());
  EXPECT_THAT(cached->values, ElementsAre("api", "db"));
  EXPECT_THAT(cached->warnings, IsEmpty());
  // Another request is not in the cache; one no store is selected for needs none.
  EXPECT_EQ(proxy->CachedLabelNames({}, 0, 1000000, {}, 0), std::nullopt);
  std::optional<LabelResult> none = proxy->CachedLabelNames({}, 2000000, 3000000, {}, 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_THAT(none->values, IsEmpty());
  // Without a cache nothing is answered this way.
  auto uncached = MakeProxy();
  EXPECT_EQ(uncached->CachedLabelValues({}, "job", 0, 1000000, kUp, 0), std::nullopt);
}

}  // namespace
}  // namespace paodin::storeapi
