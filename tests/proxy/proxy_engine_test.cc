// The real PromQL engine over the StoreAPI proxy with two threads: concurrent Selects (binary
// operators evaluate both sides at once), iterators of different series drained from different
// threads, iterators kept after their SeriesSet is gone. Results must equal the same queries
// on one thread over a MemStore holding the deduplicated data. Stores are in-process fake
// stores on 127.0.0.1, so the test also runs under the sanitizers.
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/exec/engine.h"
#include "storeapi/client/endpoint_set.h"
#include "storeapi/client/testing/fake_store.h"
#include "storeapi/memstore/memstore.h"
#include "storeapi/proxy/proxy.h"

namespace paodin::tests {
namespace {

using storeapi::testing::FakeStore;
using storeapi::testing::FakeStoreConfig;
using storeapi::testing::MakeSeries;
using storeapi::testing::Sample;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kStep = 15000;
constexpr int kSamples = 240;  // one hour
constexpr int kJobs = 4;
constexpr int kInstances = 40;

// A counter per (job, instance) with its own rate; same samples in every replica.
std::vector<Sample> CounterSamples(int job, int instance) {
  std::vector<Sample> out;
  double v = 0;
  for (int i = 0; i < kSamples; ++i) {
    v += 1 + ((job * 7 + instance * 3 + i) % 11);
    if (i == 100 + instance)
      v = 0;  // a real reset, kept by dedup
    out.push_back({i * kStep, v});
  }
  return out;
}

std::string Name(const char* prefix, int i) { return prefix + std::to_string(i); }

// One store of `cluster` (and `replica`, when not empty); `samples_per_chunk` differs between
// replicas so their chunks differ and dedup really merges two lanes.
FakeStoreConfig StoreConfig(const std::string& cluster, const std::string& replica,
                            int samples_per_chunk) {
  FakeStoreConfig cfg;
  cfg.external_labels = {{"cluster", cluster}};
  if (!replica.empty())
    cfg.external_labels.push_back({"replica", replica});
  cfg.batch_size = 16;
  for (int job = 0; job < kJobs; ++job) {
    for (int inst = 0; inst < kInstances; ++inst) {
      char instance[16];
      std::snprintf(instance, sizeof instance, "i%03d", inst);
      cfg.series.push_back(MakeSeries(
          {{"__name__", "requests_total"}, {"instance", instance}, {"job", Name("job", job)}},
          CounterSamples(job, inst), samples_per_chunk));
    }
  }
  return cfg;
}

class ProxyEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Cluster a: two replicas; cluster b: one store.
    for (auto [cluster, replica, per_chunk] :
         {std::tuple{"a", "0", 120}, std::tuple{"a", "1", 90}, std::tuple{"b", "", 120}}) {
      stores_.push_back(std::make_unique<FakeStore>(StoreConfig(cluster, replica, per_chunk)));
      ASSERT_TRUE(stores_.back()->Start().ok());
    }
    // The oracle: the deduplicated data in memory.
    for (const char* cluster : {"a", "b"}) {
      for (int job = 0; job < kJobs; ++job) {
        for (int inst = 0; inst < kInstances; ++inst) {
          char instance[16];
          std::snprintf(instance, sizeof instance, "i%03d", inst);
          engine::Labels labels = *engine::Labels::FromPairs({{"__name__", "requests_total"},
                                                              {"cluster", cluster},
                                                              {"instance", instance},
                                                              {"job", Name("job", job)}});
          for (const Sample& s : CounterSamples(job, inst))
            ASSERT_TRUE(oracle_.Append(labels, s.t, s.v).ok());
        }
      }
    }
    storeapi::EndpointSetOptions eo;
    for (auto& s : stores_)
      eo.endpoints.push_back(s->address());
    eo.info_timeout = std::chrono::milliseconds(2000);
    endpoints_ = std::make_shared<storeapi::EndpointSet>(eo);
    endpoints_->Refresh();
    ASSERT_EQ(endpoints_->Stores().size(), 3u);
    storeapi::ProxyOptions options;
    options.replica_labels = {"replica"};
    options.query_timeout = std::chrono::seconds(60);
    // Small buffers: streams pause and resume while the engine reads on other threads.
    options.max_buffered_bytes_per_store = 8 << 10;
    proxy_ = std::make_unique<storeapi::Proxy>(endpoints_, options);
  }

  static engine::EngineOptions Options(int threads) {
    engine::EngineOptions o;
    o.threads = threads;
    o.parallel_min_series = 1;  // take the parallel paths even on this small data
    return o;
  }

  std::vector<std::unique_ptr<FakeStore>> stores_;
  storeapi::MemStore oracle_;
  std::shared_ptr<storeapi::EndpointSet> endpoints_;
  std::unique_ptr<storeapi::Proxy> proxy_;
};

void ExpectSameResult(const engine::QueryResult& got, const engine::QueryResult& want,
                      const std::string& query) {
  ASSERT_EQ(got.series.size(), want.series.size()) << query;
  for (size_t i = 0; i < want.series.size(); ++i) {
    const engine::ResultSeries& g = got.series[i];
    const engine::ResultSeries& w = want.series[i];
    ASSERT_EQ(g.labels.ToString(), w.labels.ToString()) << query;
    ASSERT_EQ(g.ts, w.ts) << query << " " << w.labels.ToString();
    for (size_t k = 0; k < w.vs.size(); ++k) {
      if (std::isnan(w.vs[k])) {
        EXPECT_TRUE(std::isnan(g.vs[k])) << query;
      } else {
        // Sums may add in another order on several threads.
        EXPECT_NEAR(g.vs[k], w.vs[k], 1e-9 * std::max(1.0, std::fabs(w.vs[k])))
            << query << " " << w.labels.ToString() << " at " << w.ts[k];
      }
    }
  }
}

TEST_F(ProxyEngineTest, TwoThreadsOverTheProxyEqualOneThreadOverMemory) {
  const std::vector<std::string> queries = {
      "requests_total",
      "rate(requests_total[2m])",
      "sum by (cluster, job) (rate(requests_total[5m]))",
      // Both sides are selected and evaluated at once.
      "requests_total{cluster=\"a\"} - on(job, instance) requests_total{cluster=\"b\"}",
      "sum by (job) (increase(requests_total{cluster=\"a\"}[10m])) / "
      "sum by (job) (increase(requests_total{cluster=\"b\"}[10m]))",
      "count(resets(requests_total[30m]) > 0) + count(max_over_time(requests_total[1m]))",
      "topk(3, irate(requests_total{job=~\"job[12]\"}[1m]))",
  };
  const engine::Engine parallel(Options(2));
  const engine::Engine serial(Options(1));
  const int64_t start = 5 * 60 * 1000;
  const int64_t end = (kSamples - 1) * kStep;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& q : queries) {
      auto got = parallel.RangeQuery(*proxy_, q, start, end, 30000);
      ASSERT_TRUE(got.ok()) << q << ": " << got.status();
      auto want = serial.RangeQuery(oracle_, q, start, end, 30000);
      ASSERT_TRUE(want.ok()) << q << ": " << want.status();
      EXPECT_THAT(got->warnings, IsEmpty()) << q;
      ExpectSameResult(*got, *want, q);
    }
  }
}

TEST_F(ProxyEngineTest, ConcurrentQueriesShareTheProxy) {
  const engine::Engine parallel(Options(2));
  const std::string q = "sum by (cluster) (rate(requests_total[5m]))";
  auto want = engine::Engine(Options(1)).InstantQuery(oracle_, q, 50 * 60 * 1000);
  ASSERT_TRUE(want.ok());
  std::vector<absl::StatusOr<engine::QueryResult>> got(4, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = parallel.InstantQuery(*proxy_, q, 50 * 60 * 1000); });
  }
  for (std::thread& t : threads)
    t.join();
  for (const auto& g : got) {
    ASSERT_TRUE(g.ok()) << g.status();
    ExpectSameResult(*g, *want, q);
  }
}

TEST_F(ProxyEngineTest, IteratorsOutliveTheirSetAndDrainOnOtherThreads) {
  engine::SelectHints hints;
  hints.start_ms = 0;
  hints.end_ms = kSamples * kStep;
  hints.func = "rate";
  const std::vector<engine::Matcher> m = {
      *engine::Matcher::Make(engine::MatchType::kEqual, "__name__", "requests_total")};
  std::vector<std::unique_ptr<engine::SampleIterator>> its;
  {
    auto set = proxy_->Select(hints, m, engine::QueryContext{});
    ASSERT_TRUE(set.ok());
    while ((*set)->Next())
      its.push_back((*set)->Samples());
    ASSERT_TRUE((*set)->status().ok());
  }  // the set (and its streams) are gone
  ASSERT_EQ(its.size(), 2u * kJobs * kInstances);
  std::vector<int64_t> counts(its.size(), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      int64_t ts[37];
      double vs[37];
      for (size_t i = t; i < its.size(); i += 2) {
        for (;;) {
          absl::StatusOr<size_t> n = its[i]->Next(ts, vs);
          if (!n.ok() || *n == 0)
            break;
          counts[i] += static_cast<int64_t>(*n);
        }
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  for (size_t i = 0; i < counts.size(); ++i)
    EXPECT_EQ(counts[i], kSamples) << i;
}

// A store that sends one series with a corrupt chunk (its data cut short).
std::unique_ptr<FakeStore> CorruptStore() {
  FakeStoreConfig cfg;
  cfg.external_labels = {{"cluster", "c"}};
  cfg.series.push_back(
      MakeSeries({{"__name__", "requests_total"}, {"job", "broken"}}, CounterSamples(0, 0), 120));
  std::string* data = cfg.series[0].mutable_chunks(0)->mutable_raw()->mutable_data();
  data->resize(data->size() / 3);
  auto store = std::make_unique<FakeStore>(std::move(cfg));
  EXPECT_TRUE(store->Start().ok());
  return store;
}

TEST_F(ProxyEngineTest, CorruptChunkWarningIsInTheSetOnceItsIteratorDecoded) {
  stores_.push_back(CorruptStore());
  storeapi::EndpointSetOptions eo;
  for (auto& s : stores_)
    eo.endpoints.push_back(s->address());
  auto set_of_endpoints = std::make_shared<storeapi::EndpointSet>(eo);
  set_of_endpoints->Refresh();
  storeapi::Proxy proxy(set_of_endpoints, {});
  engine::SelectHints hints;
  hints.end_ms = kSamples * kStep;
  const std::vector<engine::Matcher> m = {
      *engine::Matcher::Make(engine::MatchType::kEqual, "job", "broken")};
  auto set = proxy.Select(hints, m, engine::QueryContext{});
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE((*set)->Next());
  auto it = (*set)->Samples();
  EXPECT_FALSE((*set)->Next());
  // Nothing is decoded yet, so nothing is known to be wrong.
  EXPECT_THAT((*set)->warnings(), IsEmpty());
  int64_t ts[64];
  double vs[64];
  while (*it->Next(ts, vs) > 0) {
  }
  ASSERT_EQ((*set)->warnings().size(), 1u);
  EXPECT_THAT((*set)->warnings()[0], HasSubstr("corrupt chunk from " + stores_.back()->address()));
}

// The engine reads SeriesSet::warnings() after the query's iterators ran, so a warning found
// while decoding (a corrupt chunk) reaches QueryResult::warnings.
TEST_F(ProxyEngineTest, CorruptChunkWarningReachesTheQueryResult) {
  stores_.push_back(CorruptStore());
  storeapi::EndpointSetOptions eo;
  for (auto& s : stores_)
    eo.endpoints.push_back(s->address());
  auto set_of_endpoints = std::make_shared<storeapi::EndpointSet>(eo);
  set_of_endpoints->Refresh();
  storeapi::Proxy proxy(set_of_endpoints, {});
  for (int threads : {1, 2}) {
    auto r = engine::Engine(Options(threads))
                 .RangeQuery(proxy, "rate(requests_total{job=\"broken\"}[5m])", 600000,
                             (kSamples - 1) * kStep, 30000);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->warnings.size(), 1u) << threads;
    EXPECT_THAT(r->warnings[0], HasSubstr("corrupt chunk from"));
  }
}

}  // namespace
}  // namespace paodin::tests
