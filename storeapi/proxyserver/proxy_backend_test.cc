#include "storeapi/proxyserver/proxy_backend.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/chunkenc/xor.h"
#include "storeapi/client/endpoint_set.h"
#include "storeapi/memstore/memstore.h"
#include "storeapi/server/memstore_backend.h"
#include "storeapi/server/server.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;
using ::paodin::testing::IsOk;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

std::string Text(const google::protobuf::RepeatedPtrField<thanos::Label>& labels) {
  std::string out;
  for (const thanos::Label& l : labels) {
    out += (out.empty() ? "" : ",") + l.name() + "=" + l.value();
  }
  return out;
}

void AddMatcher(google::protobuf::RepeatedPtrField<thanos::LabelMatcher>* ms,
                thanos::LabelMatcher::Type type, std::string name, std::string value) {
  thanos::LabelMatcher* m = ms->Add();
  m->set_type(type);
  m->set_name(std::move(name));
  m->set_value(std::move(value));
}

// Everything a Series call returned.
struct Collected {
  std::vector<std::string> labels;
  // Per series: decoded samples and chunk sizes.
  std::vector<std::vector<std::pair<int64_t, double>>> samples;
  std::vector<std::vector<int>> chunk_sizes;
  std::vector<std::string> warnings;
};

absl::StatusOr<Collected> Drain(SeriesResponseStream& stream) {
  Collected c;
  for (;;) {
    thanos::SeriesResponse resp;
    absl::StatusOr<bool> more = stream.Next(&resp);
    if (!more.ok()) {
      return more.status();
    }
    if (!*more) {
      return c;
    }
    if (resp.has_warning()) {
      c.warnings.push_back(resp.warning());
      continue;
    }
    c.labels.push_back(Text(resp.series().labels()));
    std::vector<std::pair<int64_t, double>> samples;
    std::vector<int> sizes;
    for (const thanos::AggrChunk& chunk : resp.series().chunks()) {
      std::vector<int64_t> ts(200);
      std::vector<double> vs(200);
      absl::StatusOr<size_t> n = DecodeXorChunk(chunk.raw().data(), ts, vs);
      if (!n.ok()) {
        return n.status();
      }
      if (*n > 0 && (ts[0] != chunk.min_time() || ts[*n - 1] != chunk.max_time())) {
        return absl::InternalError("chunk bounds do not match its samples");
      }
      if (chunk.raw().hash() != ChunkHash(chunk.raw().data())) {
        return absl::InternalError("chunk hash mismatch");
      }
      sizes.push_back(static_cast<int>(*n));
      for (size_t i = 0; i < *n; ++i) {
        samples.emplace_back(ts[i], vs[i]);
      }
    }
    c.samples.push_back(std::move(samples));
    c.chunk_sizes.push_back(std::move(sizes));
  }
}

CallContext MakeContext(const std::atomic<bool>* cancelled) {
  CallContext ctx;
  ctx.query.cancelled = cancelled;
  return ctx;
}

// Two replicas of cluster "a" (replica 1 misses the samples from 100 s to 200 s) and one
// store of cluster "b", each behind a real StoreServer, found by an EndpointSet.
class ProxyBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartStore({{"cluster", "a"}, {"replica", "0"}}, /*gap=*/false, 1);
    StartStore({{"cluster", "a"}, {"replica", "1"}}, /*gap=*/true, 1);
    StartStore({{"cluster", "b"}}, /*gap=*/false, 10);
    EndpointSetOptions eo;
    for (const auto& s : servers_) {
      eo.endpoints.push_back(s->address());
    }
    endpoints_ = std::make_shared<EndpointSet>(eo);
    endpoints_->Refresh();
    ASSERT_EQ(endpoints_->Stores().size(), 3u);
    proxy_ = std::make_unique<Proxy>(endpoints_, ProxyOptions{});
  }

  void TearDown() override {
    for (auto& s : servers_) {
      s->Shutdown(0);
    }
  }

  void StartStore(std::vector<std::pair<std::string, std::string>> external, bool gap,
                  double scale) {
    auto store = std::make_shared<MemStore>();
    const Labels series = L({{"__name__", "up"}, {"job", "node"}});
    for (int i = 0; i < 300; ++i) {
      if (gap && i >= 100 && i < 200) {
        continue;
      }
      ASSERT_THAT(store->Append(series, i * 1000, i * scale), IsOk());
    }
    StoreServerOptions so;
    so.address = "127.0.0.1:0";
    so.workers = 2;
    auto server =
        StoreServer::Start(std::make_shared<MemStoreBackend>(store, L(std::move(external))), so);
    ASSERT_THAT(server, IsOk());
    servers_.push_back(std::move(*server));
  }

  ProxyStoreBackend Backend(ProxyBackendOptions options) {
    return ProxyStoreBackend(proxy_.get(), endpoints_, std::move(options));
  }

  thanos::SeriesRequest UpRequest() {
    thanos::SeriesRequest req;
    req.set_min_time(0);
    req.set_max_time(1'000'000);
    AddMatcher(req.mutable_matchers(), thanos::LabelMatcher::EQ, "__name__", "up");
    return req;
  }

  std::atomic<bool> cancelled_{false};
  CallContext ctx_ = MakeContext(&cancelled_);
  std::vector<std::unique_ptr<StoreServer>> servers_;
  std::shared_ptr<EndpointSet> endpoints_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyBackendTest, InfoAnnouncesQueryWithUnionOfLabelSetsAndRanges) {
  ProxyBackendOptions o;
  o.replica_labels = {"replica"};
  o.selector_labels = L({{"region", "eu"}});
  ProxyStoreBackend backend = Backend(o);
  absl::StatusOr<thanos::info::InfoResponse> info = backend.Info();
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->componenttype(), "query");
  std::vector<std::string> sets;
  for (const thanos::ZLabelSet& s : info->label_sets()) {
    sets.push_back(Text(s.labels()));
  }
  EXPECT_THAT(sets, ElementsAre("cluster=a,region=eu", "cluster=b,region=eu"));
  EXPECT_EQ(info->store().min_time(), 0);
  EXPECT_EQ(info->store().max_time(), 299'000);
  EXPECT_FALSE(info->store().supports_without_replica_labels());
}

TEST_F(ProxyBackendTest, InfoWithoutStoresClaimsAllTime) {
  ProxyBackendOptions o;
  o.selector_labels = L({{"region", "eu"}});
  Proxy empty_proxy(std::make_shared<StaticStoreProvider>(std::vector<StoreRef>{}), {});
  ProxyStoreBackend backend(&empty_proxy,
                            std::make_shared<StaticStoreProvider>(std::vector<StoreRef>{}), o);
  absl::StatusOr<thanos::info::InfoResponse> info = backend.Info();
  ASSERT_THAT(info, IsOk());
  ASSERT_EQ(info->label_sets_size(), 1);
  EXPECT_EQ(Text(info->label_sets(0).labels()), "region=eu");
  EXPECT_EQ(info->store().min_time(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(info->store().max_time(), std::numeric_limits<int64_t>::max());
}

TEST_F(ProxyBackendTest, SeriesAreDeduplicatedAndReencodedIn120SampleChunks) {
  ProxyBackendOptions o;
  o.replica_labels = {"replica"};
  ProxyStoreBackend backend = Backend(o);
  auto stream = backend.Series(UpRequest(), ctx_);
  ASSERT_THAT(stream, IsOk());
  absl::StatusOr<Collected> c = Drain(**stream);
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(c->labels,
              ElementsAre("__name__=up,cluster=a,job=node", "__name__=up,cluster=b,job=node"));
  ASSERT_EQ(c->samples.size(), 2u);
  // The gap of replica 1 is filled by replica 0: every second is there exactly once.
  ASSERT_EQ(c->samples[0].size(), 300u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(c->samples[0][i].first, i * 1000);
    EXPECT_EQ(c->samples[0][i].second, i);
  }
  EXPECT_THAT(c->chunk_sizes[0], ElementsAre(120, 120, 60));
  EXPECT_EQ(c->samples[1][299].second, 2990);
  EXPECT_THAT(c->warnings, IsEmpty());
}

TEST_F(ProxyBackendTest, WithoutReplicaLabelsReplicasStaySeparate) {
  ProxyStoreBackend backend = Backend({});
  auto stream = backend.Series(UpRequest(), ctx_);
  ASSERT_THAT(stream, IsOk());
  absl::StatusOr<Collected> c = Drain(**stream);
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(c->labels, ElementsAre("__name__=up,cluster=a,job=node,replica=0",
                                     "__name__=up,cluster=a,job=node,replica=1",
                                     "__name__=up,cluster=b,job=node"));
  EXPECT_EQ(c->samples[1].size(), 200u);
}

TEST_F(ProxyBackendTest, SkipChunksSendsLabelsOnly) {
  ProxyBackendOptions o;
  o.replica_labels = {"replica"};
  ProxyStoreBackend backend = Backend(o);
  thanos::SeriesRequest req = UpRequest();
  req.set_skip_chunks(true);
  auto stream = backend.Series(req, ctx_);
  ASSERT_THAT(stream, IsOk());
  absl::StatusOr<Collected> c = Drain(**stream);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->labels.size(), 2u);
  EXPECT_THAT(c->samples[0], IsEmpty());
}

TEST_F(ProxyBackendTest, SelectorLabelsFilterRequests) {
  ProxyBackendOptions o;
  o.selector_labels = L({{"region", "eu"}});
  ProxyStoreBackend backend = Backend(o);
  thanos::SeriesRequest other = UpRequest();
  AddMatcher(other.mutable_matchers(), thanos::LabelMatcher::EQ, "region", "us");
  auto stream = backend.Series(other, ctx_);
  ASSERT_THAT(stream, IsOk());
  absl::StatusOr<Collected> c = Drain(**stream);
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(c->labels, IsEmpty());

  thanos::SeriesRequest same = UpRequest();
  AddMatcher(same.mutable_matchers(), thanos::LabelMatcher::EQ, "region", "eu");
  stream = backend.Series(same, ctx_);
  ASSERT_THAT(stream, IsOk());
  c = Drain(**stream);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->labels.size(), 3u);
}

TEST_F(ProxyBackendTest, SeriesRejectsBadRequests) {
  ProxyBackendOptions o;
  o.selector_labels = L({{"region", "eu"}});
  ProxyStoreBackend backend = Backend(o);
  thanos::SeriesRequest only_selector;
  only_selector.set_max_time(10);
  AddMatcher(only_selector.mutable_matchers(), thanos::LabelMatcher::EQ, "region", "eu");
  EXPECT_THAT(backend.Series(only_selector, ctx_), StatusIs(absl::StatusCode::kInvalidArgument));

  thanos::SeriesRequest none;
  EXPECT_THAT(backend.Series(none, ctx_), StatusIs(absl::StatusCode::kInvalidArgument));

  thanos::SeriesRequest reversed = UpRequest();
  reversed.set_min_time(20);
  reversed.set_max_time(10);
  EXPECT_THAT(backend.Series(reversed, ctx_), StatusIs(absl::StatusCode::kInvalidArgument));

  thanos::SeriesRequest bad_regex = UpRequest();
  AddMatcher(bad_regex.mutable_matchers(), thanos::LabelMatcher::RE, "job", "(");
  EXPECT_THAT(backend.Series(bad_regex, ctx_), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ProxyBackendTest, CancelledCallStops) {
  ProxyStoreBackend backend = Backend({});
  auto stream = backend.Series(UpRequest(), ctx_);
  ASSERT_THAT(stream, IsOk());
  cancelled_ = true;
  thanos::SeriesResponse resp;
  EXPECT_THAT((*stream)->Next(&resp), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(ProxyBackendTest, FailedStoreBecomesWarningOrError) {
  ProxyStoreBackend backend = Backend({});
  servers_[2]->Shutdown(0);  // cluster b goes away; the endpoint set has not noticed yet
  auto stream = backend.Series(UpRequest(), ctx_);
  ASSERT_THAT(stream, IsOk());
  absl::StatusOr<Collected> c = Drain(**stream);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->labels.size(), 2u);
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_THAT(c->warnings[0], ::testing::HasSubstr(servers_[2]->address()));

  thanos::SeriesRequest abort = UpRequest();
  abort.set_partial_response_strategy(thanos::ABORT);
  absl::StatusOr<std::unique_ptr<SeriesResponseStream>> s2 = backend.Series(abort, ctx_);
  if (s2.ok()) {
    EXPECT_FALSE(Drain(**s2).ok());
  }
}

TEST_F(ProxyBackendTest, LabelCallsHideReplicaLabels) {
  ProxyBackendOptions o;
  o.replica_labels = {"replica"};
  ProxyStoreBackend backend = Backend(o);
  thanos::LabelNamesRequest names;
  names.set_end(1'000'000);
  absl::StatusOr<thanos::LabelNamesResponse> n = backend.LabelNames(names, ctx_);
  ASSERT_THAT(n, IsOk());
  EXPECT_THAT(n->names(), ElementsAre("__name__", "cluster", "job"));

  names.set_limit(2);
  n = backend.LabelNames(names, ctx_);
  ASSERT_THAT(n, IsOk());
  EXPECT_THAT(n->names(), ElementsAre("__name__", "cluster"));

  thanos::LabelValuesRequest values;
  values.set_end(1'000'000);
  values.set_label("cluster");
  absl::StatusOr<thanos::LabelValuesResponse> v = backend.LabelValues(values, ctx_);
  ASSERT_THAT(v, IsOk());
  EXPECT_THAT(v->values(), ElementsAre("a", "b"));

  values.set_label("replica");
  v = backend.LabelValues(values, ctx_);
  ASSERT_THAT(v, IsOk());
  EXPECT_THAT(v->values(), IsEmpty());

  values.set_label("");
  EXPECT_THAT(backend.LabelValues(values, ctx_), StatusIs(absl::StatusCode::kInvalidArgument));

  thanos::LabelNamesRequest bad;
  AddMatcher(bad.mutable_matchers(), thanos::LabelMatcher::RE, "job", "(");
  EXPECT_THAT(backend.LabelNames(bad, ctx_), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ProxyBackendTest, StackedQueryReadsTheDedupedViewOverGrpc) {
  ProxyBackendOptions o;
  o.replica_labels = {"replica"};
  auto backend = std::make_shared<ProxyStoreBackend>(proxy_.get(), endpoints_, o);
  StoreServerOptions so;
  so.address = "127.0.0.1:0";
  so.workers = 2;
  auto server = StoreServer::Start(backend, so);
  ASSERT_THAT(server, IsOk());
  EndpointSetOptions eo;
  eo.endpoints = {(*server)->address()};
  auto upper_endpoints = std::make_shared<EndpointSet>(eo);
  upper_endpoints->Refresh();
  std::vector<EndpointStatus> status = upper_endpoints->Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].component_type, "query");
  Proxy upper(upper_endpoints, {});
  engine::SelectHints hints;
  hints.start_ms = 0;
  hints.end_ms = 1'000'000;
  auto m = engine::Matcher::Make(engine::MatchType::kEqual, "__name__", "up");
  ASSERT_THAT(m, IsOk());
  std::vector<engine::Matcher> ms = {*m};
  auto set = upper.Select(hints, ms, ctx_.query);
  ASSERT_THAT(set, IsOk());
  std::vector<std::string> labels;
  int64_t samples = 0;
  while ((*set)->Next()) {
    labels.push_back((*set)->labels().ToString());
    auto it = (*set)->Samples();
    int64_t ts[64];
    double vs[64];
    for (;;) {
      absl::StatusOr<size_t> n = it->Next(ts, vs);
      ASSERT_THAT(n, IsOk());
      if (*n == 0) {
        break;
      }
      samples += *n;
    }
  }
  EXPECT_THAT((*set)->status(), IsOk());
  EXPECT_THAT(labels, ElementsAre(R"({__name__="up", cluster="a", job="node"})",
                                  R"({__name__="up", cluster="b", job="node"})"));
  EXPECT_EQ(samples, 600);
  (*server)->Shutdown(0);
}

}  // namespace
}  // namespace paodin::storeapi
