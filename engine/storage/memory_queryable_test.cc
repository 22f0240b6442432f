#include "engine/storage/memory_queryable.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::engine {
namespace {

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

std::vector<std::pair<int64_t, double>> Drain(SampleIterator& it) {
  std::vector<std::pair<int64_t, double>> out;
  int64_t ts[2];
  double vs[2];
  while (true) {
    size_t n = *it.Next(ts, vs);
    if (n == 0)
      break;
    for (size_t i = 0; i < n; ++i)
      out.emplace_back(ts[i], vs[i]);
  }
  return out;
}

TEST(MemoryQueryableTest, SelectReturnsMatchingSeriesSortedWithSamplesInRange) {
  MemoryQueryable q;
  q.Add(L({{"__name__", "m"}, {"job", "b"}}), 10, 1);
  q.Add(L({{"__name__", "m"}, {"job", "a"}}), 30, 3);
  q.Add(L({{"__name__", "m"}, {"job", "a"}}), 10, 1);
  q.Add(L({{"__name__", "m"}, {"job", "a"}}), 20, 2);
  q.Add(L({{"__name__", "other"}}), 10, 1);
  auto m = *Matcher::Make(MatchType::kEqual, "__name__", "m");
  SelectHints hints;
  hints.start_ms = 15;
  hints.end_ms = 30;
  auto set = *q.Select(hints, std::span<const Matcher>(&m, 1), QueryContext{});
  ASSERT_TRUE(set->Next());
  EXPECT_EQ(set->labels().Get("job"), "a");
  auto it = set->Samples();
  EXPECT_THAT(Drain(*it), ::testing::ElementsAre(std::pair<int64_t, double>(20, 2),
                                                 std::pair<int64_t, double>(30, 3)));
  // job="b" has no sample in [15, 30].
  EXPECT_FALSE(set->Next());
  EXPECT_TRUE(set->status().ok());
}

TEST(MemoryQueryableTest, CancelledContextFailsSelect) {
  MemoryQueryable q;
  std::atomic<bool> cancelled{true};
  QueryContext ctx{.cancelled = &cancelled};
  EXPECT_EQ(q.Select(SelectHints{}, {}, ctx).status().code(), absl::StatusCode::kCancelled);
}

TEST(MemoryQueryableTest, StaleMarkerIsRecognisedByBits) {
  EXPECT_TRUE(IsStaleNaN(StaleNaN()));
  EXPECT_FALSE(IsStaleNaN(std::nan("")));
  EXPECT_FALSE(IsStaleNaN(1.0));
}

TEST(MemoryQueryableTest, LabelNamesAndValues) {
  MemoryQueryable q;
  q.Add(L({{"__name__", "m"}, {"job", "b"}}), 10, 1);
  q.Add(L({{"__name__", "m"}, {"job", "a"}, {"x", "y"}}), 10, 1);
  EXPECT_THAT(*q.LabelNames(0, 100, {}, QueryContext{}),
              ::testing::ElementsAre("__name__", "job", "x"));
  EXPECT_THAT(*q.LabelValues("job", 0, 100, {}, QueryContext{}), ::testing::ElementsAre("a", "b"));
}

}  // namespace
}  // namespace paodin::engine
