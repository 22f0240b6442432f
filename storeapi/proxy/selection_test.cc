#include "storeapi/proxy/selection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace paodin::storeapi {
namespace {

using engine::Labels;
using engine::Matcher;
using engine::MatchType;

Matcher M(MatchType t, std::string n, std::string v) { return *Matcher::Make(t, n, v); }

Labels L(std::vector<std::pair<std::string, std::string>> p) { return *Labels::FromPairs(p); }

StoreRef Store(std::string address, std::vector<Labels> sets, int64_t min, int64_t max) {
  auto info = std::make_shared<EndpointInfo>();
  info->has_store_api = true;
  info->label_sets = std::move(sets);
  info->min_time = min;
  info->max_time = max;
  return StoreRef{std::make_shared<StoreClient>(address, MakeStoreChannel(address, {})), info};
}

TEST(LabelSetsMatchTest, OnlyAMatcherOnAPresentLabelCanReject) {
  const Labels set = L({{"cluster", "host"}, {"replica", "0"}});

  struct Case {
    std::vector<Matcher> matchers;
    bool want;
  };

  const std::vector<Case> cases = {
      {{M(MatchType::kEqual, "cluster", "host")}, true},
      {{M(MatchType::kEqual, "cluster", "member")}, false},
      {{M(MatchType::kRegexMatch, "cluster", "mem.*")}, false},
      {{M(MatchType::kNotEqual, "cluster", "member")}, true},
      {{M(MatchType::kEqual, "job", "api")}, true},  // not an external label: ignored
      {{M(MatchType::kEqual, "__name__", "up"), M(MatchType::kEqual, "replica", "1")}, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(LabelSetMatches(c.matchers, set), c.want) << c.matchers[0].ToString();
  }
  std::vector<Labels> none;
  EXPECT_TRUE(LabelSetsMatch(cases[1].matchers, none));
  std::vector<Labels> two = {set, L({{"cluster", "member"}})};
  EXPECT_TRUE(LabelSetsMatch(cases[1].matchers, two));
}

TEST(MatchSelectorLabelsTest, RejectsOnASelectorLabelAndDropsItsMatchers) {
  const Labels selector = L({{"region", "eu"}, {"tier", "hot"}});

  struct Case {
    std::vector<Matcher> matchers;
    bool want;
    std::vector<std::string> remaining;
  };

  const std::vector<Case> cases = {
      {{M(MatchType::kEqual, "__name__", "up"), M(MatchType::kEqual, "region", "eu")},
       true,
       {"__name__"}},
      {{M(MatchType::kNotEqual, "region", "us"), M(MatchType::kEqual, "job", "api")},
       true,
       {"job"}},
      {{M(MatchType::kEqual, "__name__", "up"), M(MatchType::kRegexMatch, "tier", "cold")},
       false,
       {}},
      {{M(MatchType::kEqual, "region", "")}, false, {}},
      {{M(MatchType::kEqual, "job", "")}, true, {"job"}},
  };
  for (const Case& c : cases) {
    std::vector<Matcher> remaining;
    EXPECT_EQ(MatchSelectorLabels(c.matchers, selector, &remaining), c.want)
        << c.matchers[0].ToString();
    std::vector<std::string> names;
    for (const Matcher& m : remaining)
      names.push_back(m.name());
    EXPECT_EQ(names, c.remaining) << c.matchers[0].ToString();
  }
  std::vector<Matcher> remaining;
  const std::vector<Matcher> any = {M(MatchType::kEqual, "region", "us")};
  EXPECT_TRUE(MatchSelectorLabels(any, Labels(), &remaining));
  EXPECT_EQ(remaining.size(), 1u);
}

TEST(SelectStoresTest, PrunesByTimeLabelsAndAddress) {
  std::vector<StoreRef> stores = {
      Store("10.0.0.1:10901", {L({{"cluster", "host"}})}, 0, 1000),
      Store("10.0.0.2:10901", {L({{"cluster", "member"}})}, 0, 1000),
      Store("10.0.0.3:10901", {L({{"cluster", "member"}})}, 2000, 3000),
  };
  auto names = [](const std::vector<StoreRef>& s) {
    std::vector<std::string> out;
    for (const StoreRef& r : s)
      out.push_back(r.client->address());
    return out;
  };
  const std::vector<Matcher> member = {M(MatchType::kEqual, "cluster", "member")};
  EXPECT_THAT(names(SelectStores(stores, 0, 5000, member, {})),
              ::testing::ElementsAre("10.0.0.2:10901", "10.0.0.3:10901"));
  // Inclusive bounds: [1000, 1999] touches the first two stores' max time.
  EXPECT_THAT(names(SelectStores(stores, 1000, 1999, {}, {})),
              ::testing::ElementsAre("10.0.0.1:10901", "10.0.0.2:10901"));
  EXPECT_TRUE(SelectStores(stores, 1001, 1999, {}, {}).empty());
  std::vector<std::vector<Matcher>> address = {
      {M(MatchType::kRegexMatch, "__address__", "10.0.0.[13]:.*")}};
  EXPECT_THAT(names(SelectStores(stores, 0, 5000, {}, address)),
              ::testing::ElementsAre("10.0.0.1:10901", "10.0.0.3:10901"));
}

}  // namespace
}  // namespace paodin::storeapi
