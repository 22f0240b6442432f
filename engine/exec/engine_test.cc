#include "engine/exec/engine.h"

#include <cmath>

#include "engine/storage/memory_queryable.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::engine {
namespace {

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two counters, one sample every 15s for 10 minutes.
    for (int i = 0; i <= 40; ++i) {
      store_.Add(L({{"__name__", "req"}, {"job", "a"}}), i * 15000, i * 10.0);
      store_.Add(L({{"__name__", "req"}, {"job", "b"}}), i * 15000, i * 20.0);
    }
  }

  MemoryQueryable store_;
  Engine engine_;
};

TEST_F(EngineTest, InstantSelector) {
  auto r = engine_.InstantQuery(store_, "req", 600000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->type, ResultType::kVector);
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->series[0].vs[0], 400);
}

TEST_F(EngineTest, SumByRate) {
  auto r = engine_.InstantQuery(store_, "sum by (job) (rate(req[1m]))", 600000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->series.size(), 2u);
  for (const auto& s : r->series) {
    double want = s.labels.Get("job") == "a" ? 10.0 / 15 : 20.0 / 15;
    EXPECT_NEAR(s.vs[0], want, 1e-9);
  }
}

TEST_F(EngineTest, RangeQueryIsSortedAndHasEveryStep) {
  auto r = engine_.RangeQuery(store_, "req * 2", 0, 600000, 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->type, ResultType::kMatrix);
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->series[0].labels.Get("job"), "a");
  EXPECT_EQ(r->series[0].ts.size(), 11u);
  EXPECT_FALSE(r->series[0].labels.Has("__name__"));
}

TEST_F(EngineTest, ScalarResult) {
  auto r = engine_.InstantQuery(store_, "1 + 2", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, ResultType::kScalar);
  EXPECT_EQ(r->scalar, 3);
}

TEST_F(EngineTest, ManyToManyMatchingFails) {
  auto r = engine_.InstantQuery(store_, "req + on() req", 600000);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr("many-to-many"));
}

TEST_F(EngineTest, ParseErrorIsInvalidArgument) {
  auto r = engine_.InstantQuery(store_, "sum(", 0);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, TooManySamples) {
  Engine small(EngineOptions{.max_samples = 10});
  auto r = small.InstantQuery(store_, "rate(req[10m])", 600000);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(EngineTest, Cancellation) {
  std::atomic<bool> cancel{true};
  auto r = engine_.InstantQuery(store_, "req", 0, QueryOptions{.cancel = &cancel});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(EngineTest, StaleMarkerEndsSeries) {
  store_.Add(L({{"__name__", "s"}}), 0, 1);
  store_.Add(L({{"__name__", "s"}}), 10000, StaleNaN());
  auto before = engine_.InstantQuery(store_, "s", 5000);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->series.size(), 1u);
  auto after = engine_.InstantQuery(store_, "s", 20000);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->series.size(), 0u);
}

}  // namespace
}  // namespace paodin::engine
