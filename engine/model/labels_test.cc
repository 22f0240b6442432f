#include "engine/model/labels.h"

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include "engine/util/status_matchers.h"

namespace paodin::engine {
namespace {

using ::paodin::testing::StatusIs;
using Pairs = std::vector<std::pair<std::string, std::string>>;

Labels L(Pairs pairs) {
  absl::StatusOr<Labels> labels = Labels::FromPairs(std::move(pairs));
  EXPECT_TRUE(labels.ok()) << labels.status();
  return labels.ok() ? *std::move(labels) : Labels();
}

Pairs ToPairs(const Labels& labels) {
  Pairs out;
  for (Label l : labels)
    out.emplace_back(std::string(l.name), std::string(l.value));
  return out;
}

// The reference order: Prometheus labels.Compare over plain strings.
int ReferenceCompare(const Pairs& a, const Pairs& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].first != b[i].first)
      return a[i].first < b[i].first ? -1 : 1;
    if (a[i].second != b[i].second)
      return a[i].second < b[i].second ? -1 : 1;
  }
  if (a.size() == b.size())
    return 0;
  return a.size() < b.size() ? -1 : 1;
}

int Sign(int x) { return (x > 0) - (x < 0); }

TEST(LabelsTest, EmptySetHasNoLabels) {
  Labels empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_EQ(empty.ToString(), "{}");
  EXPECT_EQ(empty.Get("a"), "");
  EXPECT_FALSE(empty.Has("a"));
  EXPECT_EQ(empty, L({}));
  EXPECT_EQ(empty.bytes(), "");
}

TEST(LabelsTest, FromPairsSortsByNameAndDropsEmptyValues) {
  Labels labels = L({{"job", "api"}, {"__name__", "up"}, {"empty", ""}, {"Zone", "eu"}});
  EXPECT_EQ(ToPairs(labels), (Pairs{{"Zone", "eu"}, {"__name__", "up"}, {"job", "api"}}));
  EXPECT_EQ(labels.size(), 3u);
  EXPECT_FALSE(labels.empty());
  EXPECT_FALSE(labels.Has("empty"));
}

TEST(LabelsTest, FromPairsRejectsDuplicateNames) {
  EXPECT_THAT(
      Labels::FromPairs({{"a", "1"}, {"b", "2"}, {"a", "3"}}),
      StatusIs(absl::StatusCode::kInvalidArgument, "label set has duplicate label name \"a\""));
  // A duplicate is an error even when one of the values is empty.
  EXPECT_THAT(Labels::FromPairs({{"a", ""}, {"a", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LabelsTest, FromSortedUncheckedKeepsTheGivenLabels) {
  std::vector<Label> input = {{"a", "1"}, {"b", "2"}};
  Labels labels = Labels::FromSortedUnchecked(input);
  EXPECT_EQ(labels, L({{"b", "2"}, {"a", "1"}}));
  EXPECT_TRUE(Labels::FromSortedUnchecked({}).empty());
}

TEST(LabelsTest, GetAndHasFindLabelsByName) {
  Labels labels = L({{"a", "1"}, {"c", "3"}, {"e", "5"}});

  const struct {
    std::string name;
    std::string value;
    bool has;
  } cases[] = {
      {"a", "1", true}, {"c", "3", true}, {"e", "5", true}, {"", "", false},
      {"b", "", false}, {"d", "", false}, {"f", "", false}, {"A", "", false},
  };

  for (const auto& c : cases) {
    EXPECT_EQ(labels.Get(c.name), c.value) << c.name;
    EXPECT_EQ(labels.Has(c.name), c.has) << c.name;
  }
}

TEST(LabelsTest, IteratorWorksWithStandardAlgorithms) {
  Labels labels = L({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  EXPECT_EQ(std::distance(labels.begin(), labels.end()), 3);
  auto it = std::find_if(labels.begin(), labels.end(), [](Label l) { return l.name == "b"; });
  ASSERT_NE(it, labels.end());
  EXPECT_EQ(it->value, "2");
  auto old = it++;
  EXPECT_EQ(old->name, "b");
  EXPECT_EQ((*it).name, "c");
}

TEST(LabelsTest, LongNamesAndValuesRoundTrip) {
  // Lengths around the one-byte varint limit and beyond.
  for (size_t len : {0u, 1u, 127u, 128u, 129u, 16383u, 16384u, 100000u}) {
    std::string value(len, 'v');
    std::string name = "n" + std::string(len % 300, 'x');
    Labels labels = L({{name, value}, {"z", "last"}});
    EXPECT_EQ(labels.Get(name), value) << len;
    EXPECT_EQ(labels.Get("z"), "last") << len;
    EXPECT_EQ(labels.size(), len == 0 ? 1u : 2u);
  }
}

TEST(LabelsTest, CopyIsEqualAndMoveKeepsViewsValid) {
  Labels original = L({{"a", "some value"}, {"b", "other"}});
  Labels copy = original;
  EXPECT_EQ(copy, original);
  EXPECT_NE(copy.bytes().data(), original.bytes().data());

  std::string_view view = original.Get("a");
  Labels moved = std::move(original);
  EXPECT_EQ(view, "some value");  // the buffer moved with the set
  EXPECT_EQ(view.data(), moved.Get("a").data());
  EXPECT_TRUE(original.empty());  // NOLINT(bugprone-use-after-move): documented state

  Labels assigned;
  assigned = moved;
  EXPECT_EQ(assigned, moved);
  assigned = Labels();
  EXPECT_TRUE(assigned.empty());
  Labels& self = assigned;
  assigned = self;
  EXPECT_TRUE(assigned.empty());
}

TEST(LabelsTest, EqualityIsLabelWise) {
  EXPECT_EQ(L({{"a", "1"}, {"b", "2"}}), L({{"b", "2"}, {"a", "1"}}));
  EXPECT_FALSE(L({{"a", "1"}}) == L({{"a", "2"}}));
  EXPECT_FALSE(L({{"a", "1"}}) == L({{"a", "1"}, {"b", "2"}}));
  EXPECT_FALSE(L({{"ab", "c"}}) == L({{"a", "bc"}}));
}

TEST(LabelsTest, CompareOrdersLikePrometheus) {
  const struct {
    Pairs a;
    Pairs b;
    int want;
  } cases[] = {
      {{}, {}, 0},
      {{}, {{"a", "1"}}, -1},  // a prefix sorts first
      {{{"a", "1"}}, {{"a", "1"}, {"b", "1"}}, -1},
      {{{"a", "1"}, {"b", "2"}}, {{"a", "1"}, {"b", "2"}}, 0},
      // Names decide before values.
      {{{"a", "9"}}, {{"b", "1"}}, -1},
      {{{"b", "1"}}, {{"a", "9"}, {"c", "1"}}, 1},
      // Then values, bytewise; a shorter value that is a prefix sorts first.
      {{{"a", "b"}}, {{"a", "bc"}}, -1},
      {{{"a", "b"}}, {{"a", "ab"}}, 1},  // a length-first order would get this wrong
      {{{"a", "b"}, {"z", "1"}}, {{"a", "bc"}}, -1},
      {{{"ab", "1"}}, {{"a", "1"}}, 1},
      {{{"a", "x"}, {"b", "1"}}, {{"a", "x"}, {"b", "10"}}, -1},
      // Bytewise: upper case before '_' before lower case; UTF-8 after ASCII.
      {{{"Z", "1"}}, {{"_", "1"}}, -1},
      {{{"_", "1"}}, {{"a", "1"}}, -1},
      {{{"a", "z"}}, {{"a", "\xc3\xa9"}}, -1},                     // z < é
      {{{"a", "\xc3\xa9"}}, {{"a", "\xe2\x82\xac"}}, -1},          // é < €
      {{{"a", "\xef\xbf\xbd"}}, {{"a", "\xf0\x9f\x98\x80"}}, -1},  // U+FFFD < U+1F600
      {{{"a", std::string(200, 'x')}}, {{"a", std::string(199, 'x') + "y"}}, -1},
      {{{"a", std::string(300, 'x')}}, {{"a", std::string(200, 'x')}}, 1},
      {{{"a", std::string("x\0y", 3)}}, {{"a", "x"}}, 1},
  };

  for (const auto& c : cases) {
    Labels a = L(c.a);
    Labels b = L(c.b);
    EXPECT_EQ(Sign(Compare(a, b)), c.want) << a.ToString() << " vs " << b.ToString();
    EXPECT_EQ(Sign(Compare(b, a)), -c.want) << b.ToString() << " vs " << a.ToString();
    EXPECT_EQ(a < b, c.want < 0);
    EXPECT_EQ(a == b, c.want == 0);
  }
}

TEST(LabelsTest, CompareAgreesWithReferenceOnRandomSets) {
  std::mt19937 rng(42);
  const std::vector<std::string> names = {"a", "ab", "b", "__name__", "Z", "job", "\xc3\xa9"};
  const std::vector<std::string> values = {"",  "x", "xy", "y",   "\xc3\xa9",           "\xff",
                                           "X", "1", "10", "100", std::string(130, 'q')};
  auto random_pairs = [&] {
    std::set<std::string> used;
    Pairs pairs;
    int n = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) {
      const std::string& name = names[rng() % names.size()];
      const std::string& value = values[1 + rng() % (values.size() - 1)];
      if (used.insert(name).second)
        pairs.emplace_back(name, value);
    }
    std::sort(pairs.begin(), pairs.end());
    return pairs;
  };
  for (int iter = 0; iter < 5000; ++iter) {
    Pairs pa = random_pairs();
    Pairs pb = random_pairs();
    Labels a = L(pa);
    Labels b = L(pb);
    ASSERT_EQ(Sign(Compare(a, b)), ReferenceCompare(pa, pb))
        << a.ToString() << " vs " << b.ToString();
    ASSERT_EQ(a == b, pa == pb);
    if (pa == pb) {
      ASSERT_EQ(a.Hash(), b.Hash());
    }
  }
}

TEST(LabelsTest, HashIsEqualForEqualSetsAndDiffersOtherwise) {
  EXPECT_EQ(L({{"a", "1"}, {"b", "2"}}).Hash(), L({{"b", "2"}, {"a", "1"}}).Hash());
  EXPECT_EQ(L({{"a", "1"}, {"e", ""}}).Hash(), L({{"a", "1"}}).Hash());
  const Pairs distinct[] = {
      {},
      {{"a", "1"}},
      {{"a", "2"}},
      {{"b", "1"}},
      {{"a", "1"}, {"b", "1"}},
      {{"a", "bc"}},
      {{"ab", "c"}},  // same characters, different split
      {{"a", "b"}, {"c", "d"}},
      {{"a", "bc"}, {"d", "e"}},
      {{"a", std::string(128, 'x')}},
      {{"a", std::string(129, 'x')}},
  };
  std::set<uint64_t> hashes;
  for (const Pairs& p : distinct)
    hashes.insert(L(p).Hash());
  EXPECT_EQ(hashes.size(), std::size(distinct));
}

TEST(LabelsTest, HashIsStableAcrossBuilds) {
  // Pinned to XXH3 of the documented encoding, so a change of either is a deliberate decision.
  EXPECT_EQ(Labels().Hash(), XXH3_64bits("", 0));
  EXPECT_EQ(L({{"a", "b"}, {"cd", "e"}}).Hash(), XXH3_64bits("\x01"
                                                             "a\x01"
                                                             "b\x02"
                                                             "cd\x01"
                                                             "e",
                                                             9));
  EXPECT_EQ(L({{"a", "b"}, {"cd", "e"}}).bytes(), std::string_view("\x01"
                                                                   "a\x01"
                                                                   "b\x02"
                                                                   "cd\x01"
                                                                   "e"));
}

TEST(LabelsTest, HashForLabelsHashesOnlyTheNamedLabels) {
  Labels labels = L({{"__name__", "up"}, {"instance", "i1"}, {"job", "api"}, {"zone", "eu"}});

  const struct {
    std::vector<std::string> names;
    Pairs kept;
  } cases[] = {
      {{}, {}},
      {{"job"}, {{"job", "api"}}},
      {{"instance", "job"}, {{"instance", "i1"}, {"job", "api"}}},
      {{"__name__", "zone"}, {{"__name__", "up"}, {"zone", "eu"}}},
      {{"absent", "job", "zzz"}, {{"job", "api"}}},
      {{"__name__", "instance", "job", "zone"}, ToPairs(labels)},
  };

  for (const auto& c : cases) {
    EXPECT_EQ(labels.HashForLabels(c.names), L(c.kept).Hash()) << ::testing::PrintToString(c.names);
    EXPECT_EQ(labels.HashForLabels(c.names), LabelsBuilder(labels).Keep(c.names).Build().Hash());
  }
  // Series that differ only outside the grouping labels share the key.
  std::vector<std::string> by_job = {"job"};
  EXPECT_EQ(labels.HashForLabels(by_job),
            L({{"job", "api"}, {"instance", "other"}}).HashForLabels(by_job));
  EXPECT_NE(labels.HashForLabels(by_job), L({{"job", "web"}}).HashForLabels(by_job));
}

TEST(LabelsTest, HashWithoutLabelsDropsTheNamedLabelsAndMetricName) {
  Labels labels = L({{"__name__", "up"}, {"instance", "i1"}, {"job", "api"}, {"zone", "eu"}});

  const struct {
    std::vector<std::string> names;
    Pairs kept;
  } cases[] = {
      {{}, {{"instance", "i1"}, {"job", "api"}, {"zone", "eu"}}},
      {{"instance"}, {{"job", "api"}, {"zone", "eu"}}},
      {{"instance", "zone"}, {{"job", "api"}}},
      {{"absent"}, {{"instance", "i1"}, {"job", "api"}, {"zone", "eu"}}},
      {{"__name__", "instance", "job", "zone"}, {}},
  };

  for (const auto& c : cases) {
    EXPECT_EQ(labels.HashWithoutLabels(c.names), L(c.kept).Hash())
        << ::testing::PrintToString(c.names);
  }
  std::vector<std::string> without_instance = {"instance"};
  EXPECT_EQ(labels.HashWithoutLabels(without_instance),
            L({{"__name__", "down"}, {"instance", "i2"}, {"job", "api"}, {"zone", "eu"}})
                .HashWithoutLabels(without_instance));
}

TEST(LabelsTest, DropMetricNameRemovesOnlyName) {
  const struct {
    Pairs in;
    Pairs want;
  } cases[] = {
      {{}, {}},
      {{{"__name__", "up"}}, {}},
      {{{"__name__", "up"}, {"job", "a"}}, {{"job", "a"}}},
      {{{"A", "1"}, {"__name__", "up"}, {"job", "a"}}, {{"A", "1"}, {"job", "a"}}},
      {{{"A", "1"}, {"__name__", "up"}}, {{"A", "1"}}},
      {{{"job", "a"}}, {{"job", "a"}}},
      {{{"__name", "x"}, {"__name__x", "y"}}, {{"__name", "x"}, {"__name__x", "y"}}},
  };

  for (const auto& c : cases) {
    Labels dropped = L(c.in).DropMetricName();
    EXPECT_EQ(dropped, L(c.want)) << L(c.in).ToString();
    EXPECT_EQ(dropped.size(), c.want.size());
  }
}

TEST(LabelsTest, ToStringQuotesValuesLikeGo) {
  const struct {
    Pairs in;
    std::string want;
  } cases[] = {
      {{}, "{}"},
      {{{"__name__", "up"}}, "{__name__=\"up\"}"},
      {{{"job", "api"}, {"__name__", "up"}}, "{__name__=\"up\", job=\"api\"}"},
      {{{"a", "q\"b\\s"}}, "{a=\"q\\\"b\\\\s\"}"},
      {{{"a", "line\nnext\ttab"}}, "{a=\"line\\nnext\\ttab\"}"},
      {{{"a", "caf\xc3\xa9"}}, "{a=\"caf\xc3\xa9\"}"},  // printable UTF-8 stays
      {{{"a", "\xff"}}, "{a=\"\\xff\"}"},               // invalid UTF-8 is escaped
      {{{"a", std::string("\x01", 1)}}, "{a=\"\\x01\"}"},
  };

  for (const auto& c : cases)
    EXPECT_EQ(L(c.in).ToString(), c.want);
}

TEST(LabelsTest, MatchesLabelsRequiresEveryMatcher) {
  Labels labels = L({{"__name__", "up"}, {"job", "api"}});
  auto m = [](MatchType type, std::string name, std::string value) {
    return *Matcher::Make(type, std::move(name), std::move(value));
  };

  const struct {
    std::vector<Matcher> matchers;
    bool want;
  } cases[] = {
      {{}, true},
      {{m(MatchType::kEqual, "job", "api")}, true},
      {{m(MatchType::kEqual, "job", "api"), m(MatchType::kEqual, "__name__", "down")}, false},
      {{m(MatchType::kRegexMatch, "job", "a.*"), m(MatchType::kNotEqual, "zone", "eu")}, true},
      {{m(MatchType::kEqual, "zone", "")}, true},  // missing label reads as ""
      {{m(MatchType::kRegexMatch, "zone", ".+")}, false},
  };

  for (const auto& c : cases) {
    EXPECT_EQ(MatchesLabels(c.matchers, labels), c.want)
        << ::testing::PrintToString(c.matchers.size());
  }
}

TEST(LabelsBuilderTest, AppliesEditsInOrder) {
  Labels base = L({{"__name__", "up"}, {"instance", "i1"}, {"job", "api"}});
  const std::vector<std::string> keep_job = {"job", "absent"};

  const struct {
    std::string name;
    std::function<void(LabelsBuilder&)> edit;
    Pairs want;
  } cases[] = {
      {"no edits", [](LabelsBuilder&) {}, ToPairs(base)},
      {"set new",
       [](LabelsBuilder& b) { b.Set("zone", "eu"); },
       {{"__name__", "up"}, {"instance", "i1"}, {"job", "api"}, {"zone", "eu"}}},
      {"set first",
       [](LabelsBuilder& b) { b.Set("A", "1"); },
       {{"A", "1"}, {"__name__", "up"}, {"instance", "i1"}, {"job", "api"}}},
      {"set replaces",
       [](LabelsBuilder& b) { b.Set("job", "web"); },
       {{"__name__", "up"}, {"instance", "i1"}, {"job", "web"}}},
      {"set twice",
       [](LabelsBuilder& b) { b.Set("zone", "eu").Set("zone", "us"); },
       {{"__name__", "up"}, {"instance", "i1"}, {"job", "api"}, {"zone", "us"}}},
      {"set empty deletes",
       [](LabelsBuilder& b) { b.Set("instance", ""); },
       {{"__name__", "up"}, {"job", "api"}}},
      {"del", [](LabelsBuilder& b) { b.Del("__name__"); }, {{"instance", "i1"}, {"job", "api"}}},
      {"del absent", [](LabelsBuilder& b) { b.Del("zone"); }, ToPairs(base)},
      {"del then set",
       [](LabelsBuilder& b) { b.Del("job").Set("job", "x"); },
       {{"__name__", "up"}, {"instance", "i1"}, {"job", "x"}}},
      {"set then del", [](LabelsBuilder& b) { b.Set("zone", "eu").Del("zone"); }, ToPairs(base)},
      {"keep", [&](LabelsBuilder& b) { b.Keep(keep_job); }, {{"job", "api"}}},
      {"keep nothing", [](LabelsBuilder& b) { b.Keep({}); }, {}},
      {"set then keep",
       [&](LabelsBuilder& b) { b.Set("zone", "eu").Keep(keep_job); },
       {{"job", "api"}}},
      {"keep then set",
       [&](LabelsBuilder& b) { b.Keep(keep_job).Set("zone", "eu"); },
       {{"job", "api"}, {"zone", "eu"}}},
  };

  for (const auto& c : cases) {
    LabelsBuilder builder(base);
    c.edit(builder);
    EXPECT_EQ(builder.Build(), L(c.want)) << c.name << ": " << builder.Build().ToString();
    // Build does not consume: a second call returns the same set.
    EXPECT_EQ(builder.Build(), builder.Build()) << c.name;
  }
}

TEST(LabelsBuilderTest, OwnsTheBytesItIsGiven) {
  LabelsBuilder builder;
  {
    std::string name = "temporary_name";
    std::string value(100, 'v');
    builder.Set(name, value);
    name.assign(name.size(), '#');
    value.assign(value.size(), '#');
  }
  EXPECT_EQ(builder.Build(), L({{"temporary_name", std::string(100, 'v')}}));
  Labels labels;
  {
    Labels base = L({{"a", "1"}});
    builder.Reset(base);
  }  // the base may die before Build
  EXPECT_EQ(builder.Build(), L({{"a", "1"}}));
}

TEST(LabelsBuilderTest, ResetStartsOver) {
  LabelsBuilder builder(L({{"a", "1"}}));
  builder.Set("b", "2");
  builder.Reset(L({{"c", "3"}}));
  EXPECT_EQ(builder.Build(), L({{"c", "3"}}));
  builder.Reset(Labels());
  EXPECT_TRUE(builder.Build().empty());
  EXPECT_TRUE(LabelsBuilder().Build().empty());
}

}  // namespace
}  // namespace paodin::engine
