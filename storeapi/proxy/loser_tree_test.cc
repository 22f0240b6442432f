#include "storeapi/proxy/loser_tree.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace paodin::storeapi {
namespace {

using ::testing::ElementsAre;

bool ByteLess(const std::string& a, const std::string& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
  });
}

// Merges the lists through the tree; each output is "<key>@<list>" when `tag` is set.
std::vector<std::string> MergeAll(const std::vector<std::vector<std::string>>& lists,
                                  bool tag = false) {
  StringLoserTree tree(lists.size());
  std::vector<size_t> pos(lists.size(), 0);
  for (size_t i = 0; i < lists.size(); ++i) {
    tree.set_done(i, lists[i].empty());
    if (!lists[i].empty())
      tree.key(i) = lists[i][0];
  }
  tree.Build();
  std::vector<std::string> out;
  while (!lists.empty() && !tree.done(tree.Winner())) {
    const size_t w = tree.Winner();
    out.push_back(tag ? tree.key(w) + "@" + std::to_string(w) : tree.key(w));
    std::string& next = tree.BeginUpdate(w);
    if (++pos[w] < lists[w].size()) {
      next = lists[w][pos[w]];
    } else {
      tree.set_done(w);
    }
    tree.Replay(w);
  }
  return out;
}

TEST(KeyMismatchTest, FindsTheFirstDifferenceFromAnOffset) {
  const std::string a = "0123456789abcdefXYZ";
  std::string b = a;
  EXPECT_EQ(KeyMismatch(a, b, 0), a.size());
  b[17] = 'q';
  EXPECT_EQ(KeyMismatch(a, b, 0), 17u);
  EXPECT_EQ(KeyMismatch(a, b, 9), 17u);
  b[3] = '#';
  EXPECT_EQ(KeyMismatch(a, b, 0), 3u);
  EXPECT_EQ(KeyMismatch("abc", "abcdef", 1), 3u);
  EXPECT_EQ(KeyMismatch("", "x", 0), 0u);
}

TEST(StringLoserTreeTest, MergesLikeASortOfAllKeys) {
  std::mt19937 rng(42);
  // Keys with long shared prefixes, prefixes of each other, NUL and high bytes, duplicates.
  const std::vector<std::string> alphabet = {std::string("\0", 1), "a", "b", "\xff", "ab"};
  static constexpr char kPrefix[] = "__name__\0http_requests_total\0\0cluster\0";
  const std::string prefix(kPrefix, sizeof kPrefix - 1);
  for (size_t k : {1, 2, 3, 5, 8, 13, 100}) {
    for (int round = 0; round < 20; ++round) {
      std::vector<std::vector<std::string>> lists(k);
      std::vector<std::string> all;
      for (auto& l : lists) {
        const int n = static_cast<int>(rng() % 12);
        for (int i = 0; i < n; ++i) {
          std::string key = rng() % 2 ? prefix : "";
          const int len = static_cast<int>(rng() % 4);
          for (int c = 0; c < len; ++c)
            key += alphabet[rng() % alphabet.size()];
          l.push_back(key);
        }
        std::sort(l.begin(), l.end(), ByteLess);
        all.insert(all.end(), l.begin(), l.end());
      }
      std::sort(all.begin(), all.end(), ByteLess);
      ASSERT_EQ(MergeAll(lists), all) << "k=" << k << " round " << round;
    }
  }
}

TEST(StringLoserTreeTest, EqualKeysComeOutByStreamIndexAndAreReportedEqual) {
  EXPECT_THAT(MergeAll({{"x", "y"}, {"x"}, {"w", "x"}}, true),
              ElementsAre("w@2", "x@0", "x@1", "x@2", "y@0"));
  StringLoserTree tree(3);
  tree.key(0) = "k";
  tree.key(1) = "k";
  tree.key(2) = "m";
  for (size_t i = 0; i < 3; ++i)
    tree.set_done(i, false);
  tree.Build();
  ASSERT_EQ(tree.Winner(), 0u);
  tree.BeginUpdate(0) = "z";
  tree.Replay(0);
  EXPECT_EQ(tree.Winner(), 1u);
  EXPECT_TRUE(tree.WinnerEqualsReplaced());
  tree.BeginUpdate(1) = "n";
  tree.Replay(1);
  EXPECT_EQ(tree.Winner(), 2u);
  EXPECT_FALSE(tree.WinnerEqualsReplaced());
}

// Picks the smallest head (ties by index) by scanning every list: what the tree must do.
std::vector<std::string> NaiveMerge(const std::vector<std::vector<std::string>>& lists) {
  std::vector<size_t> pos(lists.size(), 0);
  std::vector<std::string> out;
  for (;;) {
    size_t best = lists.size();
    for (size_t i = 0; i < lists.size(); ++i) {
      if (pos[i] < lists[i].size() &&
          (best == lists.size() || ByteLess(lists[i][pos[i]], lists[best][pos[best]])))
        best = i;
    }
    if (best == lists.size())
      return out;
    out.push_back(lists[best][pos[best]++]);
  }
}

TEST(StringLoserTreeTest, StreamsThatGoBackwardsMergeLikePickingTheSmallestHead) {
  // Stream 0 goes back from "p" to "m": the tree rebuilds and goes on from the heads it has.
  EXPECT_THAT(MergeAll({{"a", "p", "m"}, {"b", "n", "q"}}),
              ElementsAre("a", "b", "n", "p", "m", "q"));
  std::mt19937 rng(7);
  for (size_t k : {2, 3, 7, 30}) {
    for (int round = 0; round < 30; ++round) {
      std::vector<std::vector<std::string>> lists(k);
      for (auto& l : lists) {
        const int n = static_cast<int>(rng() % 10);
        for (int i = 0; i < n; ++i)
          l.push_back(std::string(1 + rng() % 3, static_cast<char>('a' + rng() % 4)));
      }
      ASSERT_EQ(MergeAll(lists), NaiveMerge(lists)) << "k=" << k << " round " << round;
    }
  }
}

TEST(StringLoserTreeTest, AllEmptyInputsGiveNothing) {
  EXPECT_TRUE(MergeAll({{}, {}, {}}).empty());
  EXPECT_TRUE(MergeAll({}).empty());
}

}  // namespace
}  // namespace paodin::storeapi
