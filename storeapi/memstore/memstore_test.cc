#include "storeapi/memstore/memstore.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/chunkenc/xor.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;
using engine::Matcher;
using engine::MatchType;
using ::paodin::testing::IsOk;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

Matcher M(MatchType type, std::string name, std::string value) {
  return *Matcher::Make(type, std::move(name), std::move(value));
}

std::vector<std::string> SelectedLabels(const MemStore& store, std::vector<Matcher> matchers,
                                        int64_t mint = 0, int64_t maxt = 1'000'000) {
  std::vector<std::string> out;
  for (MemStore::SeriesRef ref : store.SelectSeries(matchers, mint, maxt)) {
    out.push_back(store.SeriesLabels(ref).ToString());
  }
  return out;
}

// Four series with one sample each at t=10, created in non-sorted order.
class SelectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto pairs : std::vector<std::vector<std::pair<std::string, std::string>>>{
             {{"__name__", "up"}, {"job", "node"}, {"instance", "b"}},
             {{"__name__", "up"}, {"job", "api"}, {"instance", "a"}},
             {{"__name__", "up"}, {"job", "node"}, {"instance", "a"}, {"env", "prod"}},
             {{"__name__", "cpu"}, {"job", "node"}, {"instance", "a"}},
         }) {
      ASSERT_THAT(store_.Append(L(pairs), 10, 1), IsOk());
    }
  }

  MemStore store_;
};

struct SelectionCase {
  std::string name;
  std::vector<Matcher> matchers;
  std::vector<std::string> want;
};

TEST_F(SelectionTest, MatchersSelectSeriesInLabelOrder) {
  const std::vector<SelectionCase> cases = {
      {"equal",
       {M(MatchType::kEqual, "__name__", "up")},
       {R"({__name__="up", env="prod", instance="a", job="node"})",
        R"({__name__="up", instance="a", job="api"})",
        R"({__name__="up", instance="b", job="node"})"}},
      {"two equals",
       {M(MatchType::kEqual, "__name__", "up"), M(MatchType::kEqual, "job", "node")},
       {R"({__name__="up", env="prod", instance="a", job="node"})",
        R"({__name__="up", instance="b", job="node"})"}},
      {"not equal",
       {M(MatchType::kNotEqual, "job", "node")},
       {R"({__name__="up", instance="a", job="api"})"}},
      {"regex",
       {M(MatchType::kRegexMatch, "instance", "a|c"), M(MatchType::kEqual, "job", "node")},
       {R"({__name__="cpu", instance="a", job="node"})",
        R"({__name__="up", env="prod", instance="a", job="node"})"}},
      {"negative regex",
       {M(MatchType::kRegexNoMatch, "__name__", "u.")},
       {R"({__name__="cpu", instance="a", job="node"})"}},
      {"empty equality selects series without the label",
       {M(MatchType::kEqual, "__name__", "up"), M(MatchType::kEqual, "env", "")},
       {R"({__name__="up", instance="a", job="api"})",
        R"({__name__="up", instance="b", job="node"})"}},
      {"not-empty regex selects series with the label",
       {M(MatchType::kRegexMatch, "env", ".+")},
       {R"({__name__="up", env="prod", instance="a", job="node"})"}},
      {"regex matching empty keeps series without the label",
       {M(MatchType::kRegexMatch, "env", "prod|"), M(MatchType::kEqual, "instance", "a")},
       {R"({__name__="cpu", instance="a", job="node"})",
        R"({__name__="up", env="prod", instance="a", job="node"})",
        R"({__name__="up", instance="a", job="api"})"}},
      {"unknown label value", {M(MatchType::kEqual, "job", "nope")}, {}},
      {"unknown label name", {M(MatchType::kEqual, "nope", "x")}, {}},
      {"no matchers selects everything",
       {},
       {R"({__name__="cpu", instance="a", job="node"})",
        R"({__name__="up", env="prod", instance="a", job="node"})",
        R"({__name__="up", instance="a", job="api"})",
        R"({__name__="up", instance="b", job="node"})"}},
  };
  for (const SelectionCase& c : cases) {
    EXPECT_EQ(SelectedLabels(store_, c.matchers), c.want) << c.name;
  }
}

TEST_F(SelectionTest, TimeRangeIsInclusive) {
  std::vector<Matcher> up = {M(MatchType::kEqual, "__name__", "up")};
  EXPECT_EQ(SelectedLabels(store_, up, 10, 10).size(), 3u);
  EXPECT_EQ(SelectedLabels(store_, up, 0, 10).size(), 3u);
  EXPECT_THAT(SelectedLabels(store_, up, 11, 20), IsEmpty());
  EXPECT_THAT(SelectedLabels(store_, up, 0, 9), IsEmpty());
  EXPECT_THAT(SelectedLabels(store_, up, 20, 0), IsEmpty());
}

TEST_F(SelectionTest, SeriesAddedAfterASelectionAreSortedToo) {
  ASSERT_EQ(SelectedLabels(store_, {}).size(), 4u);
  ASSERT_THAT(store_.Append(L({{"__name__", "aaa"}}), 10, 1), IsOk());
  ASSERT_THAT(store_.Append(L({{"__name__", "zzz"}}), 10, 1), IsOk());
  std::vector<std::string> all = SelectedLabels(store_, {});
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all.front(), R"({__name__="aaa"})");
  EXPECT_EQ(all.back(), R"({__name__="zzz"})");
}

TEST(MemStoreTest, ManySeriesMatchLikeABruteForceScan) {
  // Large enough that postings merging (not the direct filter) is used.
  MemStore store;
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::pair<std::string, std::string>> pairs = {
        {"__name__", i % 3 == 0 ? "a" : "b"},
        {"pod", "p" + std::to_string(i)},
        {"zone", "z" + std::to_string(i % 7)}};
    if (i % 5 == 0) {
      pairs.emplace_back("canary", "yes");
    }
    ASSERT_THAT(store.Append(L(pairs), i, i), IsOk());
  }
  std::vector<std::vector<Matcher>> queries = {
      {M(MatchType::kEqual, "__name__", "b"), M(MatchType::kNotEqual, "zone", "z3")},
      {M(MatchType::kRegexMatch, "zone", "z[12]"), M(MatchType::kEqual, "canary", "")},
      {M(MatchType::kRegexNoMatch, "pod", "p1.*"), M(MatchType::kRegexMatch, "canary", "yes|")},
      {M(MatchType::kRegexMatch, "pod", ".*7")},
  };
  for (const auto& matchers : queries) {
    std::vector<std::string> want;
    std::vector<Labels> all;
    for (MemStore::SeriesRef ref : store.SelectSeries({}, 0, 10000)) {
      const Labels& l = store.SeriesLabels(ref);
      if (engine::MatchesLabels(matchers, l)) {
        want.push_back(l.ToString());
      }
    }
    EXPECT_EQ(SelectedLabels(store, matchers, 0, 10000), want);
    EXPECT_FALSE(want.empty());
  }
  // A range selects the series by their single sample time.
  EXPECT_EQ(
      store.SelectSeries(std::vector<Matcher>{M(MatchType::kEqual, "__name__", "a")}, 100, 199)
          .size(),
      33u);
}

std::vector<ChunkView> Chunks(const MemStore& store, MemStore::SeriesRef ref, int64_t mint,
                              int64_t maxt, std::vector<std::string>* storage) {
  std::vector<ChunkView> out;
  storage->clear();
  storage->reserve(100);
  std::vector<ChunkView> scratch;
  store.WithChunks(ref, mint, maxt, &scratch, [&](std::span<const ChunkView> chunks) {
    for (const ChunkView& c : chunks) {
      storage->emplace_back(c.data);
      ChunkView copy = c;
      copy.data = storage->back();
      out.push_back(copy);
    }
  });
  return out;
}

std::vector<std::pair<int64_t, double>> ReadAll(engine::SampleIterator& it, size_t tile) {
  std::vector<std::pair<int64_t, double>> out;
  std::vector<int64_t> ts(tile);
  std::vector<double> vs(tile);
  for (;;) {
    absl::StatusOr<size_t> n = it.Next(ts, vs);
    EXPECT_THAT(n, IsOk());
    if (!n.ok() || *n == 0) {
      break;
    }
    for (size_t i = 0; i < *n; ++i) {
      out.emplace_back(ts[i], vs[i]);
    }
  }
  return out;
}

TEST(MemStoreTest, CutsChunksEvery120Samples) {
  MemStore store;
  auto ref = store.GetOrCreateSeries(L({{"__name__", "x"}}));
  ASSERT_THAT(ref, IsOk());
  for (int i = 0; i < 250; ++i) {
    ASSERT_THAT(store.Append(*ref, i * 1000, i), IsOk());
  }
  std::vector<std::string> bytes;
  std::vector<ChunkView> chunks = Chunks(store, *ref, 0, 1'000'000, &bytes);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0].min_time, 0);
  EXPECT_EQ(chunks[0].max_time, 119'000);
  EXPECT_EQ(chunks[1].min_time, 120'000);
  EXPECT_EQ(chunks[1].max_time, 239'000);
  EXPECT_EQ(chunks[2].min_time, 240'000);
  EXPECT_EQ(chunks[2].max_time, 249'000);
  EXPECT_EQ(*XorNumSamples(chunks[0].data), 120);
  EXPECT_EQ(*XorNumSamples(chunks[2].data), 10);
  for (const ChunkView& c : chunks) {
    EXPECT_EQ(c.hash, ChunkHash(c.data));
  }
  // Chunks are selected by overlap, both ends inclusive.
  EXPECT_EQ(Chunks(store, *ref, 119'000, 120'000, &bytes).size(), 2u);
  EXPECT_EQ(Chunks(store, *ref, 119'001, 239'999, &bytes).size(), 1u);
  EXPECT_EQ(Chunks(store, *ref, 245'000, 300'000, &bytes).size(), 1u);
  EXPECT_EQ(Chunks(store, *ref, 250'000, 300'000, &bytes).size(), 0u);

  MemStoreStats stats = store.Stats();
  EXPECT_EQ(stats.num_series, 1u);
  EXPECT_EQ(stats.num_samples, 250);
  EXPECT_EQ(stats.num_chunks, 3);
  EXPECT_EQ(stats.min_time, 0);
  EXPECT_EQ(stats.max_time, 249'000);
}

TEST(MemStoreTest, SelectionSkipsSeriesWhoseChunksMissTheRange) {
  MemStore store;
  Labels l = L({{"__name__", "x"}});
  for (int i = 0; i < 120; ++i) {
    ASSERT_THAT(store.Append(l, i, 1), IsOk());
  }
  ASSERT_THAT(store.Append(l, 10'000, 1), IsOk());
  std::vector<Matcher> x = {M(MatchType::kEqual, "__name__", "x")};
  EXPECT_EQ(store.SelectSeries(x, 200, 9000).size(), 0u);
  EXPECT_EQ(store.SelectSeries(x, 200, 10'000).size(), 1u);
  EXPECT_EQ(store.SelectSeries(x, 119, 9000).size(), 1u);
}

TEST(MemStoreTest, AppendRejectsOutOfOrderAndConflictingDuplicates) {
  MemStore store;
  Labels l = L({{"__name__", "x"}});
  ASSERT_THAT(store.Append(l, 100, 1), IsOk());
  EXPECT_THAT(store.Append(l, 99, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       R"(out of order sample: timestamp 99 before 100 in {__name__="x"})"));
  EXPECT_THAT(store.Append(l, 100, 1), IsOk());
  EXPECT_THAT(store.Append(l, 100, 2), StatusHasSubstr("duplicate sample for timestamp 100"));
  EXPECT_EQ(store.Stats().num_samples, 1);
  EXPECT_THAT(store.Append(7, 1, 1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store.GetOrCreateSeries(Labels()), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MemStoreTest, OverwriteDuplicatesReplacesTheLastSample) {
  MemStore store(MemStoreOptions{.overwrite_duplicates = true});
  Labels l = L({{"__name__", "x"}});
  for (int i = 0; i < 121; ++i) {
    ASSERT_THAT(store.Append(l, i, i), IsOk());
  }
  ASSERT_THAT(store.Append(l, 120, -1), IsOk());
  ASSERT_THAT(store.Append(l, 120, -2), IsOk());
  EXPECT_THAT(store.Append(l, 119, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(store.Append(l, 121, 5), IsOk());
  engine::SelectHints hints;
  hints.start_ms = 118;
  hints.end_ms = 200;
  auto set = store.Select(hints, {}, {});
  ASSERT_THAT(set, IsOk());
  ASSERT_TRUE((*set)->Next());
  auto samples = ReadAll(*(*set)->Samples(), 8);
  using P = std::pair<int64_t, double>;
  EXPECT_THAT(samples, ElementsAre(P{118, 118}, P{119, 119}, P{120, -2}, P{121, 5}));
  EXPECT_EQ(store.Stats().num_samples, 122);
}

TEST(MemStoreTest, GetOrCreateReturnsTheSameRefForEqualLabels) {
  MemStore store;
  auto a = store.GetOrCreateSeries(L({{"a", "1"}, {"b", "2"}}));
  auto b = store.GetOrCreateSeries(L({{"b", "2"}, {"a", "1"}}));
  auto c = store.GetOrCreateSeries(L({{"a", "1"}}));
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(store.Stats().num_series, 2u);
}

TEST(MemStoreQueryableTest, SelectClipsSamplesToTheRangeAcrossChunks) {
  MemStore store;
  Labels a = L({{"__name__", "m"}, {"i", "a"}});
  Labels b = L({{"__name__", "m"}, {"i", "b"}});
  for (int i = 0; i < 300; ++i) {
    ASSERT_THAT(store.Append(b, i * 10, i), IsOk());
    ASSERT_THAT(store.Append(a, i * 10, -i), IsOk());
  }
  engine::SelectHints hints;
  hints.start_ms = 1195;
  hints.end_ms = 2400;
  std::vector<Matcher> m = {M(MatchType::kEqual, "__name__", "m")};
  for (size_t tile : {1u, 7u, 64u, 1000u}) {
    auto set = store.Select(hints, m, {});
    ASSERT_THAT(set, IsOk());
    ASSERT_TRUE((*set)->Next());
    EXPECT_EQ((*set)->labels().ToString(), R"({__name__="m", i="a"})");
    auto samples = ReadAll(*(*set)->Samples(), tile);
    ASSERT_EQ(samples.size(), 121u) << tile;
    EXPECT_EQ(samples.front(), std::make_pair(int64_t{1200}, -120.0));
    EXPECT_EQ(samples.back(), std::make_pair(int64_t{2400}, -240.0));
    ASSERT_TRUE((*set)->Next());
    EXPECT_EQ((*set)->labels().ToString(), R"({__name__="m", i="b"})");
    EXPECT_EQ(ReadAll(*(*set)->Samples(), tile).size(), 121u);
    EXPECT_FALSE((*set)->Next());
    EXPECT_THAT((*set)->status(), IsOk());
  }
}

TEST(MemStoreQueryableTest, StalenessMarkersKeepTheirBits) {
  MemStore store;
  Labels l = L({{"__name__", "m"}});
  ASSERT_THAT(store.Append(l, 1, 5), IsOk());
  ASSERT_THAT(store.Append(l, 2, engine::StaleNaN()), IsOk());
  ASSERT_THAT(store.Append(l, 3, std::nan("")), IsOk());
  engine::SelectHints hints;
  hints.start_ms = 0;
  hints.end_ms = 10;
  auto set = store.Select(hints, {}, {});
  ASSERT_THAT(set, IsOk());
  ASSERT_TRUE((*set)->Next());
  auto samples = ReadAll(*(*set)->Samples(), 16);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_TRUE(engine::IsStaleNaN(samples[1].second));
  EXPECT_TRUE(std::isnan(samples[2].second));
  EXPECT_FALSE(engine::IsStaleNaN(samples[2].second));
}

TEST(MemStoreQueryableTest, CancelledContextFailsSelect) {
  MemStore store;
  ASSERT_THAT(store.Append(L({{"__name__", "m"}}), 1, 5), IsOk());
  std::atomic<bool> cancelled{true};
  engine::QueryContext ctx;
  ctx.cancelled = &cancelled;
  EXPECT_FALSE(store.Select({}, {}, ctx).ok());
  EXPECT_FALSE(store.LabelNames(0, 10, {}, ctx).ok());
  EXPECT_FALSE(store.LabelValues("__name__", 0, 10, {}, ctx).ok());
}

TEST_F(SelectionTest, LabelNamesAndValuesFollowMatchersAndRange) {
  EXPECT_THAT(*store_.LabelNames(0, 100, {}, {}),
              ElementsAre("__name__", "env", "instance", "job"));
  EXPECT_THAT(
      *store_.LabelNames(0, 100, std::vector<Matcher>{M(MatchType::kEqual, "job", "api")}, {}),
      ElementsAre("__name__", "instance", "job"));
  EXPECT_THAT(*store_.LabelNames(11, 100, {}, {}), IsEmpty());
  EXPECT_THAT(*store_.LabelValues("job", 0, 100, {}, {}), ElementsAre("api", "node"));
  EXPECT_THAT(*store_.LabelValues("job", 10, 10, {}, {}), ElementsAre("api", "node"));
  EXPECT_THAT(*store_.LabelValues("instance", 0, 100,
                                  std::vector<Matcher>{M(MatchType::kEqual, "__name__", "up")}, {}),
              ElementsAre("a", "b"));
  EXPECT_THAT(*store_.LabelValues("env", 0, 100,
                                  std::vector<Matcher>{M(MatchType::kEqual, "job", "api")}, {}),
              IsEmpty());
  EXPECT_THAT(*store_.LabelValues("nope", 0, 100, {}, {}), IsEmpty());
  EXPECT_THAT(*store_.LabelValues("job", 0, 9, {}, {}), IsEmpty());
}

TEST(MemStoreTest, ConcurrentReadersSeeConsistentData) {
  MemStore store;
  for (int s = 0; s < 200; ++s) {
    Labels l = L({{"__name__", "m"}, {"s", std::to_string(s)}});
    for (int i = 0; i < 500; ++i) {
      ASSERT_THAT(store.Append(l, i, i), IsOk());
    }
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      engine::SelectHints hints;
      hints.start_ms = 0;
      hints.end_ms = 1000;
      for (int round = 0; round < 5; ++round) {
        auto set =
            store.Select(hints, std::vector<Matcher>{M(MatchType::kEqual, "__name__", "m")}, {});
        int n = 0;
        while ((*set)->Next()) {
          std::vector<int64_t> ts(1000);
          std::vector<double> vs(1000);
          auto it = (*set)->Samples();
          size_t total = 0;
          for (;;) {
            auto k = it->Next(ts, vs);
            if (!k.ok() || *k == 0) {
              break;
            }
            total += *k;
          }
          if (total != 500) {
            ++failures;
          }
          ++n;
        }
        if (n != 200) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
}

// The engine's pattern with threads > 1: Selects from several threads, iterators taken from
// the set and drained later on other threads after the set is gone, while a writer keeps
// appending (sealing chunks) to the same series and creating new ones. Every iterator must
// yield exactly the samples the series had in range when it was made: increasing timestamps,
// value == timestamp, no gap, at least what was there before the readers started.
TEST(MemStoreTest, IteratorsOutliveTheirSetAndAreDrainedOnOtherThreadsDuringAppends) {
  MemStore store;
  constexpr int kSeries = 64;
  constexpr int kPreloaded = 1000;  // several sealed chunks plus an open head per series
  std::vector<MemStore::SeriesRef> refs;
  for (int s = 0; s < kSeries; ++s) {
    auto ref = store.GetOrCreateSeries(L({{"__name__", "c"}, {"s", std::to_string(s)}}));
    ASSERT_THAT(ref.status(), IsOk());
    refs.push_back(*ref);
    for (int i = 0; i < kPreloaded; ++i) {
      ASSERT_THAT(store.Append(*ref, i, i), IsOk());
    }
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = kPreloaded; !stop.load(); ++i) {
      for (MemStore::SeriesRef ref : refs) {
        if (!store.Append(ref, i, i).ok()) {
          ADD_FAILURE() << "append failed";
          return;
        }
      }
      if (i % 50 == 0) {
        (void)store.Append(L({{"__name__", "new"}, {"i", std::to_string(i)}}), i, i);
      }
    }
  });
  std::atomic<int> failures{0};
  auto drain = [&](engine::SampleIterator& it, int64_t mint, int64_t maxt) {
    std::vector<int64_t> ts(97);  // odd tile size: tiles end inside chunks
    std::vector<double> vs(97);
    int64_t next = mint;
    for (;;) {
      auto k = it.Next(ts, vs);
      if (!k.ok()) {
        ++failures;
        return;
      }
      if (*k == 0) {
        break;
      }
      for (size_t x = 0; x < *k; ++x) {
        if (ts[x] != next || vs[x] != static_cast<double>(ts[x]) || ts[x] > maxt) {
          ++failures;
          return;
        }
        ++next;
      }
    }
    // At least the preloaded samples in range were there when the iterator was made.
    if (next < std::min<int64_t>(maxt + 1, kPreloaded)) {
      ++failures;
    }
  };
  std::vector<std::unique_ptr<engine::SampleIterator>> taken[4];
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      engine::SelectHints hints;
      hints.start_ms = 100 * t;
      hints.end_ms = 1'000'000;
      for (int round = 0; round < 20; ++round) {
        std::vector<std::unique_ptr<engine::SampleIterator>> its;
        {
          auto set =
              store.Select(hints, std::vector<Matcher>{M(MatchType::kEqual, "__name__", "c")}, {});
          if (!set.ok()) {
            ++failures;
            return;
          }
          while ((*set)->Next()) {
            its.push_back((*set)->Samples());
          }
          if (its.size() != kSeries) {
            ++failures;
          }
        }  // the set is destroyed here; its iterators live on
        // Drain half now on this thread, hand the other half to another reader's slot.
        for (size_t x = 0; x < its.size(); x += 2) {
          drain(*its[x], hints.start_ms, hints.end_ms);
        }
        if (round == 19) {
          for (size_t x = 1; x < its.size(); x += 2) {
            taken[t].push_back(std::move(its[x]));
          }
        }
      }
    });
  }
  for (auto& r : readers) {
    r.join();
  }
  // Iterators made by one thread drained concurrently by others.
  std::vector<std::thread> drainers;
  for (int t = 0; t < 4; ++t) {
    drainers.emplace_back([&, t] {
      for (auto& it : taken[(t + 1) % 4]) {
        drain(*it, 100 * ((t + 1) % 4), 1'000'000);
      }
    });
  }
  for (auto& d : drainers) {
    d.join();
  }
  stop = true;
  writer.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace paodin::storeapi
