#include "storeapi/server/memstore_backend.h"

#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/chunkenc/xor.h"

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

std::string Text(const thanos::Series& s) {
  std::string out;
  for (const thanos::Label& l : s.labels()) {
    out += (out.empty() ? "" : ",") + l.name() + "=" + l.value();
  }
  return out;
}

thanos::LabelMatcher* AddMatcher(google::protobuf::RepeatedPtrField<thanos::LabelMatcher>* ms,
                                 thanos::LabelMatcher::Type type, std::string name,
                                 std::string value) {
  thanos::LabelMatcher* m = ms->Add();
  m->set_type(type);
  m->set_name(std::move(name));
  m->set_value(std::move(value));
  return m;
}

class MemStoreBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_shared<MemStore>();
    // Insertion order differs from every expected output order.
    Add({{"__name__", "m"}, {"replica", "b"}, {"x", "1"}}, 1000);
    Add({{"__name__", "m"}, {"replica", "a"}, {"x", "2"}}, 1000);
    Add({{"__name__", "m"}, {"cluster", "b"}, {"i", "1"}}, 1000);
    Add({{"__name__", "m"}, {"cluster", "a"}, {"i", "2"}}, 1000);
    Add({{"__name__", "long"}}, 250);
  }

  void Add(std::vector<std::pair<std::string, std::string>> pairs, int n) {
    Labels l = L(std::move(pairs));
    for (int i = 0; i < n; ++i) {
      ASSERT_THAT(store_->Append(l, i * 1000, i), IsOk());
    }
  }

  MemStoreBackend Backend(std::vector<std::pair<std::string, std::string>> ext = {}) {
    return MemStoreBackend(store_, L(std::move(ext)));
  }

  static thanos::SeriesRequest Request(std::string name, int64_t mint = 0,
                                       int64_t maxt = 10'000'000) {
    thanos::SeriesRequest r;
    r.set_min_time(mint);
    r.set_max_time(maxt);
    AddMatcher(r.mutable_matchers(), thanos::LabelMatcher::EQ, "__name__", std::move(name));
    return r;
  }

  static absl::StatusOr<std::vector<thanos::Series>> Drain(StoreBackend& backend,
                                                           const thanos::SeriesRequest& r,
                                                           const CallContext& ctx = {}) {
    absl::StatusOr<std::unique_ptr<SeriesResponseStream>> stream = backend.Series(r, ctx);
    if (!stream.ok()) {
      return stream.status();
    }
    std::vector<thanos::Series> out;
    for (;;) {
      thanos::SeriesResponse frame;
      absl::StatusOr<bool> more = (*stream)->Next(&frame);
      if (!more.ok()) {
        return more.status();
      }
      if (!*more) {
        return out;
      }
      EXPECT_TRUE(frame.has_series());
      out.push_back(frame.series());
    }
  }

  static std::vector<std::string> Texts(const std::vector<thanos::Series>& ss) {
    std::vector<std::string> out;
    for (const auto& s : ss) {
      out.push_back(Text(s));
    }
    return out;
  }

  std::shared_ptr<MemStore> store_;
};

TEST_F(MemStoreBackendTest, ExternalLabelsOverrideSeriesLabelsAndKeepOrder) {
  MemStoreBackend backend = Backend({{"cluster", "host"}});
  auto series = Drain(backend, Request("m"));
  ASSERT_THAT(series, IsOk());
  EXPECT_THAT(Texts(*series),
              ElementsAre("__name__=m,cluster=host,i=1", "__name__=m,cluster=host,i=2",
                          "__name__=m,cluster=host,replica=a,x=2",
                          "__name__=m,cluster=host,replica=b,x=1"));
}

TEST_F(MemStoreBackendTest, MatchersApplyToFinalLabels) {
  MemStoreBackend backend = Backend({{"cluster", "host"}});
  auto r = Request("m");
  AddMatcher(r.mutable_matchers(), thanos::LabelMatcher::EQ, "cluster", "host");
  auto series = Drain(backend, r);
  ASSERT_THAT(series, IsOk());
  EXPECT_EQ(series->size(), 4u);

  // The store's series labelled cluster="a" are cluster="host" on the wire: none match "a".
  auto other = Request("m");
  AddMatcher(other.mutable_matchers(), thanos::LabelMatcher::EQ, "cluster", "a");
  series = Drain(backend, other);
  ASSERT_THAT(series, IsOk());
  EXPECT_THAT(*series, IsEmpty());

  auto member = Request("m");
  AddMatcher(member.mutable_matchers(), thanos::LabelMatcher::RE, "cluster", "member|edge");
  series = Drain(backend, member);
  ASSERT_THAT(series, IsOk());
  EXPECT_THAT(*series, IsEmpty());
}

TEST_F(MemStoreBackendTest, ReplicaLabelsAreStrippedAndOutputResorted) {
  MemStoreBackend backend = Backend();
  auto r = Request("m");
  r.add_without_replica_labels("replica");
  r.add_without_replica_labels("nonexistent");
  auto series = Drain(backend, r);
  ASSERT_THAT(series, IsOk());
  EXPECT_THAT(Texts(*series), ElementsAre("__name__=m,cluster=a,i=2", "__name__=m,cluster=b,i=1",
                                          "__name__=m,x=1", "__name__=m,x=2"));
  // Replica stripping also applies to external labels.
  MemStoreBackend with_ext = Backend({{"replica", "r0"}, {"cluster", "host"}});
  series = Drain(with_ext, r);
  ASSERT_THAT(series, IsOk());
  EXPECT_THAT(Texts(*series),
              ElementsAre("__name__=m,cluster=host,i=1", "__name__=m,cluster=host,i=2",
                          "__name__=m,cluster=host,x=1", "__name__=m,cluster=host,x=2"));
}

TEST_F(MemStoreBackendTest, WithoutReplicaLabelsSeriesCanCollide) {
  Add({{"__name__", "dup"}, {"replica", "a"}}, 3);
  Add({{"__name__", "dup"}, {"replica", "b"}}, 3);
  MemStoreBackend backend = Backend();
  auto r = Request("dup");
  r.add_without_replica_labels("replica");
  auto series = Drain(backend, r);
  ASSERT_THAT(series, IsOk());
  EXPECT_THAT(Texts(*series), ElementsAre("__name__=dup", "__name__=dup"));
}

TEST_F(MemStoreBackendTest, ChunksAreRawXorOverlappingTheInclusiveRange) {
  MemStoreBackend backend = Backend();
  auto series = Drain(backend, Request("long", 119'000, 120'000));
  ASSERT_THAT(series, IsOk());
  ASSERT_EQ(series->size(), 1u);
  const thanos::Series& s = (*series)[0];
  ASSERT_EQ(s.chunks_size(), 2);
  EXPECT_EQ(s.chunks(0).min_time(), 0);
  EXPECT_EQ(s.chunks(0).max_time(), 119'000);
  EXPECT_EQ(s.chunks(1).min_time(), 120'000);
  EXPECT_EQ(s.chunks(1).max_time(), 239'000);
  for (const thanos::AggrChunk& c : s.chunks()) {
    EXPECT_TRUE(c.has_raw());
    EXPECT_FALSE(c.has_count());
    EXPECT_EQ(c.raw().type(), thanos::Chunk::XOR);
    EXPECT_EQ(c.raw().hash(), ChunkHash(c.raw().data()));
    EXPECT_EQ(*XorNumSamples(c.raw().data()), 120);
  }
  std::vector<int64_t> ts(120);
  std::vector<double> vs(120);
  ASSERT_THAT(DecodeXorChunk(s.chunks(1).raw().data(), ts, vs), IsOk());
  EXPECT_EQ(ts[0], 120'000);
  EXPECT_EQ(vs[119], 239);

  series = Drain(backend, Request("long", 250'000, 300'000));
  ASSERT_THAT(series, IsOk());
  EXPECT_THAT(*series, IsEmpty());
  series = Drain(backend, Request("long", 249'000, 249'000));
  ASSERT_THAT(series, IsOk());
  ASSERT_EQ(series->size(), 1u);
  EXPECT_EQ((*series)[0].chunks_size(), 1);
}

TEST_F(MemStoreBackendTest, SkipChunksAndLimit) {
  MemStoreBackend backend = Backend();
  auto r = Request("m");
  r.set_skip_chunks(true);
  r.set_limit(3);
  auto series = Drain(backend, r);
  ASSERT_THAT(series, IsOk());
  ASSERT_EQ(series->size(), 3u);
  for (const auto& s : *series) {
    EXPECT_EQ(s.chunks_size(), 0);
  }
  EXPECT_EQ(Text((*series)[0]), "__name__=m,cluster=a,i=2");
  r.set_limit(0);
  series = Drain(backend, r);
  EXPECT_EQ(series->size(), 4u);
}

TEST_F(MemStoreBackendTest, BadRequestsAreInvalidArgument) {
  MemStoreBackend backend = Backend({{"cluster", "host"}});
  thanos::SeriesRequest none;
  none.set_max_time(10);
  EXPECT_THAT(backend.Series(none, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "no matchers specified (excluding external labels)"));
  thanos::SeriesRequest only_external = none;
  AddMatcher(only_external.mutable_matchers(), thanos::LabelMatcher::EQ, "cluster", "host");
  EXPECT_THAT(backend.Series(only_external, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  auto bad_regex = Request("m");
  AddMatcher(bad_regex.mutable_matchers(), thanos::LabelMatcher::RE, "x", "(");
  EXPECT_THAT(backend.Series(bad_regex, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(backend.Series(Request("m", 10, 9), {}),
              StatusIs(absl::StatusCode::kInvalidArgument, "min_time 10 is after max_time 9"));
  thanos::LabelNamesRequest names;
  AddMatcher(names.mutable_matchers(), thanos::LabelMatcher::NRE, "x", "[");
  EXPECT_THAT(backend.LabelNames(names, {}), StatusIs(absl::StatusCode::kInvalidArgument));
  thanos::LabelValuesRequest values;
  EXPECT_THAT(backend.LabelValues(values, {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(MemStoreBackendTest, CancelledCallStopsTheStream) {
  MemStoreBackend backend = Backend();
  std::atomic<bool> cancelled{true};
  CallContext ctx;
  ctx.query.cancelled = &cancelled;
  EXPECT_THAT(Drain(backend, Request("m"), ctx), StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(MemStoreBackendTest, LabelNamesIncludeExternalLabelsMinusReplicas) {
  MemStoreBackend backend = Backend({{"cluster", "host"}, {"zone", "z1"}});
  thanos::LabelNamesRequest r;
  r.set_start(0);
  r.set_end(10'000'000);
  auto names = backend.LabelNames(r, {});
  ASSERT_THAT(names, IsOk());
  EXPECT_THAT(names->names(), ElementsAre("__name__", "cluster", "i", "replica", "x", "zone"));
  r.add_without_replica_labels("replica");
  r.set_limit(4);
  names = backend.LabelNames(r, {});
  EXPECT_THAT(names->names(), ElementsAre("__name__", "cluster", "i", "x"));
  AddMatcher(r.mutable_matchers(), thanos::LabelMatcher::EQ, "zone", "z2");
  names = backend.LabelNames(r, {});
  EXPECT_THAT(names->names(), IsEmpty());
  // No series in range: no external labels either.
  thanos::LabelNamesRequest late;
  late.set_start(20'000'000);
  late.set_end(30'000'000);
  EXPECT_THAT(backend.LabelNames(late, {})->names(), IsEmpty());
}

TEST_F(MemStoreBackendTest, LabelValuesOfExternalAndReplicaLabels) {
  MemStoreBackend backend = Backend({{"cluster", "host"}});
  thanos::LabelValuesRequest r;
  r.set_start(0);
  r.set_end(10'000'000);
  r.set_label("cluster");
  EXPECT_THAT(backend.LabelValues(r, {})->values(), ElementsAre("host"));
  r.set_label("x");
  EXPECT_THAT(backend.LabelValues(r, {})->values(), ElementsAre("1", "2"));
  r.set_limit(1);
  EXPECT_THAT(backend.LabelValues(r, {})->values(), ElementsAre("1"));
  r.set_limit(0);
  r.add_without_replica_labels("x");
  EXPECT_THAT(backend.LabelValues(r, {})->values(), IsEmpty());
  r.clear_without_replica_labels();
  AddMatcher(r.mutable_matchers(), thanos::LabelMatcher::EQ, "cluster", "member");
  EXPECT_THAT(backend.LabelValues(r, {})->values(), IsEmpty());
  r.clear_matchers();
  r.set_label("cluster");
  AddMatcher(r.mutable_matchers(), thanos::LabelMatcher::EQ, "__name__", "nope");
  EXPECT_THAT(backend.LabelValues(r, {})->values(), IsEmpty());
}

TEST_F(MemStoreBackendTest, InfoDescribesTheStore) {
  MemStoreBackend backend = Backend({{"cluster", "host"}});
  auto info = backend.Info();
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->componenttype(), "store");
  ASSERT_EQ(info->label_sets_size(), 1);
  ASSERT_EQ(info->label_sets(0).labels_size(), 1);
  EXPECT_EQ(info->label_sets(0).labels(0).name(), "cluster");
  EXPECT_EQ(info->label_sets(0).labels(0).value(), "host");
  EXPECT_EQ(info->store().min_time(), 0);
  EXPECT_EQ(info->store().max_time(), 999'000);
  EXPECT_TRUE(info->store().supports_without_replica_labels());
  ASSERT_EQ(info->store().tsdb_infos_size(), 1);
  EXPECT_EQ(info->store().tsdb_infos(0).labels().labels_size(), 1);

  MemStoreBackend empty(std::make_shared<MemStore>(), Labels());
  info = empty.Info();
  EXPECT_EQ(info->label_sets_size(), 0);
  EXPECT_EQ(info->store().min_time(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(info->store().max_time(), std::numeric_limits<int64_t>::max());
}

}  // namespace
}  // namespace paodin::storeapi
