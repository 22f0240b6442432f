#include "storeapi/sidecar/relabel.h"

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/util/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storeapi/server/convert.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;
using ::paodin::testing::StatusIs;

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

Labels FromProto(const thanos::Series& s) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const thanos::Label& l : s.labels()) {
    pairs.emplace_back(l.name(), l.value());
  }
  return L(std::move(pairs));
}

// The series as Prometheus' remote read returns it: with the external labels added where the
// series has no label of that name.
Labels AsPrometheusReturns(const Labels& own, const SeriesRelabeler& relabeler) {
  engine::LabelsBuilder b(own);
  for (engine::Label e : relabeler.external()) {
    if (!own.Has(e.name)) {
      b.Set(e.name, e.value);
    }
  }
  return b.Build();
}

// Pushes `inputs` (sorted by their own labels) through a queue, popping as it goes; returns the
// output labels and the chunk tags (min_time of the first chunk = input index) in output order.
std::vector<std::pair<Labels, int>> RunQueue(const std::vector<Labels>& inputs,
                                             const SeriesRelabeler& relabeler, size_t* max_held) {
  bool clean = true;
  for (const Labels& in : inputs) {
    clean = clean && !relabeler.Touches(in);
  }
  OrderedRelabelQueue queue(relabeler, clean);
  std::vector<std::pair<Labels, int>> out;
  thanos::Series s;
  for (size_t i = 0; i < inputs.size(); ++i) {
    thanos::Series in;
    in.add_chunks()->set_min_time(static_cast<int64_t>(i));
    EXPECT_TRUE(queue.Push(AsPrometheusReturns(inputs[i], relabeler), std::move(in)).ok());
    while (queue.Pop(&s)) {
      out.emplace_back(FromProto(s), static_cast<int>(s.chunks(0).min_time()));
    }
  }
  EXPECT_TRUE(queue.Finish().ok());
  while (queue.Pop(&s)) {
    out.emplace_back(FromProto(s), static_cast<int>(s.chunks(0).min_time()));
  }
  EXPECT_EQ(queue.held(), 0u);
  if (max_held != nullptr) {
    *max_held = queue.max_held();
  }
  return out;
}

TEST(SeriesRelabelerTest, ExternalLabelsOverrideAndReplicaLabelsGo) {
  SeriesRelabeler r(L({{"cluster", "host"}, {"replica", "a"}}), {"replica", "replica"});
  EXPECT_FALSE(r.identity());
  EXPECT_EQ(r.add_min_name(), "cluster");
  EXPECT_TRUE(r.adds_labels());
  EXPECT_FALSE(SeriesRelabeler(L({{"replica", "a"}}), {"replica"}).adds_labels());
  EXPECT_EQ(r.Apply(L({{"__name__", "up"}, {"cluster", "other"}, {"replica", "x"}})),
            L({{"__name__", "up"}, {"cluster", "host"}}));
  EXPECT_EQ(r.Apply(L({{"__name__", "up"}})), L({{"__name__", "up"}, {"cluster", "host"}}));
  EXPECT_TRUE(r.Touches(L({{"replica", "1"}})));
  EXPECT_FALSE(r.Touches(L({{"__name__", "up"}, {"job", "x"}})));
}

TEST(SeriesRelabelerTest, NothingToDoIsIdentity) {
  SeriesRelabeler r(Labels(), {});
  EXPECT_TRUE(r.identity());
  const Labels in = L({{"a", "1"}});
  EXPECT_EQ(r.Apply(in), in);
}

TEST(OrderedRelabelQueueTest, PrefixSeriesMovesBehindItsExtension) {
  // {a=1} < {a=1,b=2}, but with c="x" added {a=1,b=2,c=x} < {a=1,c=x}.
  SeriesRelabeler r(L({{"c", "x"}}), {});
  const auto out =
      RunQueue({L({{"a", "1"}}), L({{"a", "1"}, {"b", "2"}}), L({{"a", "2"}})}, r, nullptr);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, L({{"a", "1"}, {"b", "2"}, {"c", "x"}}));
  EXPECT_EQ(out[1].first, L({{"a", "1"}, {"c", "x"}}));
  EXPECT_EQ(out[2].first, L({{"a", "2"}, {"c", "x"}}));
  EXPECT_EQ(out[0].second, 1);
}

TEST(OrderedRelabelQueueTest, CleanSeriesAreHeldOnlyUntilTheNextOne) {
  SeriesRelabeler r(L({{"cluster", "host"}}), {"replica"});
  std::vector<Labels> in;
  for (int i = 0; i < 100; ++i) {
    in.push_back(
        L({{"__name__", "up"}, {"instance", "host:" + std::to_string(1000 + i)}, {"job", "node"}}));
  }
  OrderedRelabelQueue queue(r, /*clean=*/true);
  thanos::Series s;
  ASSERT_TRUE(queue.Push(in[0], thanos::Series()).ok());
  EXPECT_FALSE(queue.Pop(&s));  // the next one could extend it
  ASSERT_TRUE(queue.Push(in[1], thanos::Series()).ok());
  ASSERT_TRUE(queue.Pop(&s));
  EXPECT_EQ(
      FromProto(s),
      L({{"__name__", "up"}, {"cluster", "host"}, {"instance", "host:1000"}, {"job", "node"}}));
  size_t max_held = 0;
  RunQueue(in, r, &max_held);
  EXPECT_EQ(max_held, 1u);
}

TEST(OrderedRelabelQueueTest, IdentityHoldsNothing) {
  OrderedRelabelQueue queue(SeriesRelabeler(Labels(), {}), /*clean=*/false);
  thanos::Series s;
  ASSERT_TRUE(queue.Push(L({{"a", "1"}}), thanos::Series()).ok());
  EXPECT_TRUE(queue.Pop(&s));
  EXPECT_EQ(queue.max_held(), 0u);
}

TEST(OrderedRelabelQueueTest, PrometheusAddedExternalLabelsAreNotTheSortKey) {
  // Prometheus sorts by the series' own labels and then adds its external labels, so as
  // returned {a=1,cluster=host} comes before {a=1,b=2,cluster=host}.
  SeriesRelabeler r(L({{"cluster", "host"}, {"replica", "r1"}}), {});
  OrderedRelabelQueue queue(r, /*clean=*/true);
  ASSERT_TRUE(
      queue.Push(L({{"a", "1"}, {"cluster", "host"}, {"replica", "r1"}}), thanos::Series()).ok());
  ASSERT_TRUE(queue
                  .Push(L({{"a", "1"}, {"b", "2"}, {"cluster", "host"}, {"replica", "r1"}}),
                        thanos::Series())
                  .ok());
  ASSERT_TRUE(queue.Finish().ok());
  thanos::Series s;
  ASSERT_TRUE(queue.Pop(&s));
  EXPECT_EQ(FromProto(s), L({{"a", "1"}, {"b", "2"}, {"cluster", "host"}, {"replica", "r1"}}));
  ASSERT_TRUE(queue.Pop(&s));
  EXPECT_EQ(FromProto(s), L({{"a", "1"}, {"cluster", "host"}, {"replica", "r1"}}));
}

TEST(OrderedRelabelQueueTest, RejectsInputOutOfOrder) {
  OrderedRelabelQueue queue(SeriesRelabeler(L({{"c", "x"}}), {}), /*clean=*/true);
  ASSERT_TRUE(queue.Push(L({{"a", "2"}}), thanos::Series()).ok());
  EXPECT_THAT(queue.Push(L({{"a", "1"}}), thanos::Series()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(queue.Push(L({{"a", "2"}}), thanos::Series()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(OrderedRelabelQueueTest, SeriesCarryingTheExternalLabelAreReordered) {
  // Overriding cluster hides the difference; the labels after it decide.
  SeriesRelabeler r(L({{"cluster", "x"}}), {});
  const auto out =
      RunQueue({L({{"__name__", "m"}, {"cluster", "a"}, {"z", "1"}}),
                L({{"__name__", "m"}, {"cluster", "b"}, {"y", "1"}}), L({{"__name__", "n"}})},
               r, nullptr);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, L({{"__name__", "m"}, {"cluster", "x"}, {"y", "1"}}));
  EXPECT_EQ(out[1].first, L({{"__name__", "m"}, {"cluster", "x"}, {"z", "1"}}));
  EXPECT_EQ(out[2].first, L({{"__name__", "n"}, {"cluster", "x"}}));
}

TEST(OrderedRelabelQueueTest, StrippingOnlyCanMoveALaterSeriesToTheFront) {
  // Without an added label, {a=1,r=1} loses everything after a=1 and sorts before
  // {a=1,b=0}, although it comes after {a=1,b=1} in the input.
  SeriesRelabeler r(Labels(), {"r"});
  const auto out = RunQueue({L({{"a", "1"}, {"b", "0"}, {"r", "5"}}), L({{"a", "1"}, {"b", "1"}}),
                             L({{"a", "1"}, {"r", "1"}})},
                            r, nullptr);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, L({{"a", "1"}}));
  EXPECT_EQ(out[1].first, L({{"a", "1"}, {"b", "0"}}));
  EXPECT_EQ(out[2].first, L({{"a", "1"}, {"b", "1"}}));
}

TEST(OrderedRelabelQueueTest, CleanDataWithoutAddedLabelsStreamsAsIs) {
  OrderedRelabelQueue queue(SeriesRelabeler(Labels(), {"replica"}), /*clean=*/true);
  thanos::Series s;
  ASSERT_TRUE(queue.Push(L({{"a", "1"}}), thanos::Series()).ok());
  ASSERT_TRUE(queue.Pop(&s));
  EXPECT_EQ(FromProto(s), L({{"a", "1"}}));
}

TEST(OrderedRelabelQueueTest, BrokenCleanPromiseFailsWhenOrderCannotBeKept) {
  OrderedRelabelQueue queue(SeriesRelabeler(L({{"c", "x"}}), {"r"}), /*clean=*/true);
  thanos::Series s;
  ASSERT_TRUE(queue.Push(L({{"a", "1"}, {"d", "0"}}), thanos::Series()).ok());
  ASSERT_TRUE(queue.Push(L({{"a", "1"}, {"d", "1"}}), thanos::Series()).ok());
  ASSERT_TRUE(queue.Pop(&s));  // {a=1,c=x,d=0} released
  // Not clean: becomes {a=1,c=x}, which sorts before what was released.
  ASSERT_TRUE(queue.Push(L({{"a", "1"}, {"r", "1"}}), thanos::Series()).ok());
  EXPECT_FALSE(queue.Pop(&s));  // nothing released once the promise is broken
  EXPECT_THAT(queue.Finish(), StatusIs(absl::StatusCode::kAborted));
}

TEST(OrderedRelabelQueueTest, BrokenCleanPromiseThatKeepsTheOrderIsFine) {
  OrderedRelabelQueue queue(SeriesRelabeler(L({{"c", "x"}}), {"r"}), /*clean=*/true);
  thanos::Series s;
  ASSERT_TRUE(queue.Push(L({{"a", "1"}}), thanos::Series()).ok());
  ASSERT_TRUE(queue.Push(L({{"a", "2"}}), thanos::Series()).ok());
  ASSERT_TRUE(queue.Push(L({{"a", "2"}, {"r", "1"}}), thanos::Series()).ok());
  ASSERT_TRUE(queue.Finish().ok());
  std::vector<std::string> got;
  while (queue.Pop(&s)) {
    got.push_back(FromProto(s).ToString());
  }
  EXPECT_THAT(
      got, ::testing::ElementsAre(R"({a="1", c="x"})", R"({a="2", c="x"})", R"({a="2", c="x"})"));
}

// Random label sets over a few names (some of them external or replica names, some sorting
// between them) and random external/replica sets: the output must be exactly the stable-free
// sort of f(inputs), whatever the data.
TEST(OrderedRelabelQueueTest, RandomInputsComeOutSortedByFinalLabels) {
  const std::vector<std::string> names = {"__name__", "a", "b", "c", "d", "e", "r"};
  const std::vector<std::string> values = {"0", "1", "2"};
  for (uint32_t seed = 1; seed <= 600; ++seed) {
    std::mt19937 rng(seed);
    std::set<Labels> unique;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (const std::string& name : names) {
        if (rng() % 3 == 0) {
          pairs.emplace_back(name, values[rng() % values.size()]);
        }
      }
      unique.insert(L(std::move(pairs)));
    }
    std::vector<Labels> inputs(unique.begin(), unique.end());
    std::vector<std::pair<std::string, std::string>> ext;
    for (const char* name : {"b", "c", "d"}) {
      if (rng() % 2 == 0) {
        ext.emplace_back(name, values[rng() % values.size()]);
      }
    }
    std::vector<std::string> replicas;
    for (const char* name : {"c", "r", "a"}) {
      if (rng() % 3 == 0) {
        replicas.push_back(name);
      }
    }
    SeriesRelabeler r(L(ext), replicas);
    if (seed % 2 == 0) {
      // Half the rounds on clean data, which streams.
      std::erase_if(inputs, [&](const Labels& in) { return r.Touches(in); });
    }
    const auto out = RunQueue(inputs, r, nullptr);
    ASSERT_EQ(out.size(), inputs.size()) << seed;
    std::vector<Labels> want;
    for (const Labels& in : inputs) {
      want.push_back(r.Apply(in));
    }
    std::sort(want.begin(), want.end());
    std::vector<int> seen;
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i].first, want[i]) << "seed " << seed << " position " << i << ": "
                                       << out[i].first.ToString() << " vs " << want[i].ToString();
      ASSERT_EQ(out[i].first, r.Apply(inputs[static_cast<size_t>(out[i].second)])) << seed;
      seen.push_back(out[i].second);
    }
    std::sort(seen.begin(), seen.end());
    for (size_t i = 0; i < seen.size(); ++i) {
      ASSERT_EQ(seen[i], static_cast<int>(i)) << seed;
    }
  }
}

}  // namespace
}  // namespace paodin::storeapi
