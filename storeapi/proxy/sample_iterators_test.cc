#include "storeapi/proxy/sample_iterators.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/proxy/test_series.h"

namespace paodin::storeapi {
namespace {

using testing::Chunk;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using testing::ReadAll;
using testing::Series;
using testing::TS;

std::vector<TS> Regular(int64_t start, int64_t step, int64_t end, double v0 = 0, double dv = 1) {
  std::vector<TS> out;
  double v = v0;
  for (int64_t t = start; t <= end; t += step, v += dv)
    out.push_back({t, v});
  return out;
}

std::vector<int64_t> Times(const std::vector<TS>& s) {
  std::vector<int64_t> out;
  for (const TS& x : s)
    out.push_back(x.t);
  return out;
}

std::shared_ptr<const StoreSeries> Shared(StoreSeries s) {
  return std::make_shared<const StoreSeries>(std::move(s));
}

std::shared_ptr<IterationContext> Ctx(PartialResponseStrategy s = PartialResponseStrategy::kWarn) {
  auto ctx = std::make_shared<IterationContext>();
  ctx->strategy = s;
  ctx->store_names = {"store-a:1", "store-b:2"};
  return ctx;
}

std::vector<TS> Dedup(const StoreSeries& s, DedupParams p, int64_t mint = INT64_MIN,
                      int64_t maxt = INT64_MAX) {
  auto it = NewDedupSampleIterator(Shared(s), mint, maxt, p, Ctx());
  auto out = ReadAll(*it);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<TS>{};
}

TEST(ChunkSampleIteratorTest, SkipsOverlapsBetweenChunksAndClipsToTheRange) {
  StoreSeries s = Series({{"a", "1"}}, {Chunk(Regular(0, 10, 100)), Chunk(Regular(50, 10, 150))});
  auto it = NewChunkSampleIterator(Shared(std::move(s)), 20, 130, Ctx());
  auto got = ReadAll(*it, 4);
  ASSERT_TRUE(got.ok());
  EXPECT_THAT(Times(*got), ElementsAre(20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130));
  // The overlap comes from the first chunk (values 2..10), the rest from the second.
  EXPECT_EQ((*got)[8].v, 10);
  EXPECT_EQ((*got)[9].v, 6);
}

TEST(ChunkSampleIteratorTest, EmptySeriesIsExhaustedAtOnce) {
  auto it = NewChunkSampleIterator(Shared(Series({{"a", "1"}}, {})), 0, 100, Ctx());
  auto got = ReadAll(*it);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST(SplitOverlappingChunksTest, PutsEachChunkInTheFirstLaneItFits) {
  StoreSeries s = Series({{"a", "1"}}, {Chunk({{0, 0}, {100, 0}}), Chunk({{50, 0}, {150, 0}}),
                                        Chunk({{101, 0}, {200, 0}}), Chunk({{160, 0}, {300, 0}}),
                                        Chunk({{301, 0}, {400, 0}})});
  EXPECT_THAT(SplitOverlappingChunks(s.chunks),
              ElementsAre(ElementsAre(0, 2, 4), ElementsAre(1, 3)));
}

TEST(PenaltyDedupTest, FollowsTheReferenceWorkedExample) {
  // A scrapes 0..45s then has a gap until 90s; B scrapes at 1s, 16s, ..., 106s.
  std::vector<TS> a = {{0, 1}, {15000, 1}, {30000, 1}, {45000, 1}, {90000, 1}, {105000, 1}};
  std::vector<TS> b = Regular(1000, 15000, 106000, 2, 0);
  StoreSeries s = Series({{"a", "1"}}, {Chunk(a), Chunk(b, 1)});
  std::vector<TS> got = Dedup(s, DedupParams{});
  EXPECT_THAT(Times(got), ElementsAre(0, 15000, 30000, 45000, 76000, 91000, 106000));
  EXPECT_EQ(got[3].v, 1);
  EXPECT_EQ(got[4].v, 2);
}

TEST(PenaltyDedupTest, TiesGoToTheFirstLane) {
  StoreSeries s = Series(
      {{"a", "1"}}, {Chunk(Regular(0, 1000, 5000, 1, 0)), Chunk(Regular(0, 1000, 5000, 2, 0))});
  std::vector<TS> got = Dedup(s, DedupParams{});
  EXPECT_EQ(got.size(), 6u);
  for (const TS& x : got)
    EXPECT_EQ(x.v, 1);
}

TEST(PenaltyDedupTest, InitialPenaltyIsConfigurable) {
  StoreSeries s = Series({{"a", "1"}}, {Chunk(Regular(0, 15000, 60000, 1, 0)),
                                        Chunk(Regular(1000, 15000, 61000, 2, 0))});
  DedupParams p;
  EXPECT_THAT(Times(Dedup(s, p)), ElementsAre(0, 15000, 30000, 45000, 60000));
  p.initial_penalty_ms = 0;
  // Without an initial penalty the second replica's first sample is taken too (then the gap
  // penalty of 2 x 1 s lets the first replica's next sample win again).
  EXPECT_THAT(Times(Dedup(s, p)), ElementsAre(0, 1000, 15000, 30000, 45000, 60000));
}

TEST(PenaltyDedupTest, CounterAdjustmentHidesTheReplicaSwitchUnderRate) {
  // Replica A counts 100, 110, ... then stops; replica B restarted and counts from 3.
  std::vector<TS> a = Regular(0, 15000, 45000, 100, 10);
  std::vector<TS> b = Regular(1000, 15000, 106000, 3, 10);
  StoreSeries s = Series({{"a", "1"}}, {Chunk(a), Chunk(b, 1)});
  DedupParams p;
  p.counter = true;
  std::vector<TS> got = Dedup(s, p);
  ASSERT_GE(got.size(), 5u);
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_GE(got[i].v, got[i - 1].v) << "fake reset at " << got[i].t;
  }
  // Without the adjustment (not a counter function) the switch shows a drop.
  p.counter = false;
  std::vector<TS> raw = Dedup(s, p);
  bool dropped = false;
  for (size_t i = 1; i < raw.size(); ++i)
    dropped |= raw[i].v < raw[i - 1].v;
  EXPECT_TRUE(dropped);
}

TEST(PenaltyDedupTest, ThreeReplicasFoldPairwise) {
  StoreSeries s = Series({{"a", "1"}}, {Chunk(Regular(0, 10000, 30000, 1, 0)),
                                        Chunk(Regular(2000, 10000, 92000, 2, 0), 1),
                                        Chunk(Regular(4000, 10000, 124000, 3, 0), 1)});
  std::vector<TS> got = Dedup(s, DedupParams{});
  // Strictly increasing timestamps, ending with the longest replica.
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_GT(got[i].t, got[i - 1].t);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().t, 124000);
  EXPECT_EQ(got.front().v, 1);
}

TEST(PenaltyDedupTest, ClipsLanesToTheSelectRange) {
  StoreSeries s = Series({{"a", "1"}}, {Chunk(Regular(0, 10000, 100000, 1, 0)),
                                        Chunk(Regular(5000, 10000, 105000, 2, 0), 1)});
  std::vector<TS> got = Dedup(s, DedupParams{}, 20000, 60000);
  EXPECT_THAT(Times(got), ElementsAre(20000, 30000, 40000, 50000, 60000));
}

TEST(ChainDedupTest, EmitsEveryTimestampOnce) {
  StoreSeries s = Series({{"a", "1"}}, {Chunk({{0, 1}, {10, 1}, {20, 1}, {40, 1}}),
                                        Chunk({{5, 2}, {10, 2}, {30, 2}}, 1)});
  DedupParams p;
  p.func = DedupFunc::kChain;
  std::vector<TS> got = Dedup(s, p);
  EXPECT_THAT(Times(got), ElementsAre(0, 5, 10, 20, 30, 40));
  EXPECT_EQ(got[2].v, 1);  // the first lane wins a tie
}

TEST(CorruptChunkTest, WarnSkipsTheChunkAndNamesTheStore) {
  StoreChunk bad = Chunk(Regular(100, 10, 200), 1);
  bad.data = bad.data.substr(0, bad.data.size() / 2);
  StoreSeries s = Series({{"a", "1"}}, {Chunk(Regular(0, 10, 50)), bad});
  auto ctx = Ctx();
  auto it = NewChunkSampleIterator(Shared(std::move(s)), 0, 1000, ctx);
  auto got = ReadAll(*it);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Times(*got).front(), 0);
  EXPECT_LE(got->back().t, 200);
  ASSERT_EQ(ctx->warnings->Get().size(), 1u);
  EXPECT_THAT(ctx->warnings->Get()[0],
              HasSubstr("corrupt chunk from store-b:2 in series {a=\"1\"}"));
}

TEST(CorruptChunkTest, AbortFailsTheIterator) {
  StoreChunk bad = Chunk(Regular(100, 10, 200), 1);
  bad.data = "\xff";
  StoreSeries s = Series({{"a", "1"}}, {Chunk(Regular(0, 10, 50)), bad});
  auto it =
      NewChunkSampleIterator(Shared(std::move(s)), 0, 1000, Ctx(PartialResponseStrategy::kAbort));
  EXPECT_THAT(ReadAll(*it), paodin::testing::StatusIs(absl::StatusCode::kDataLoss));
  StoreSeries s2 = Series({{"a", "1"}}, {Chunk(Regular(0, 10, 150)), bad});
  auto dedup = NewDedupSampleIterator(Shared(std::move(s2)), 0, 1000, DedupParams{},
                                      Ctx(PartialResponseStrategy::kAbort));
  EXPECT_THAT(ReadAll(*dedup), paodin::testing::StatusIs(absl::StatusCode::kDataLoss));
}

TEST(IsCounterFuncTest, OnlyRateIncreaseIrateResets) {
  for (const char* f : {"rate", "increase", "irate", "resets"})
    EXPECT_TRUE(IsCounterFunc(f));
  for (const char* f : {"xrate", "delta", "deriv", "", "sum"})
    EXPECT_FALSE(IsCounterFunc(f));
}

}  // namespace
}  // namespace paodin::storeapi
