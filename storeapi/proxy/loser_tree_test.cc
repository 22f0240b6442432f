#include "storeapi/proxy/loser_tree.h"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace paodin::storeapi {
namespace {

// Merges sorted integer lists through the tree.
std::vector<int> MergeAll(std::vector<std::vector<int>> lists) {
  std::vector<size_t> pos(lists.size(), 0);
  auto less = [&](size_t a, size_t b) {
    const bool da = pos[a] >= lists[a].size();
    const bool db = pos[b] >= lists[b].size();
    if (da)
      return false;
    if (db)
      return true;
    const int x = lists[a][pos[a]];
    const int y = lists[b][pos[b]];
    return x < y || (x == y && a < b);
  };
  LoserTree<decltype(less)> tree(lists.size(), less);
  tree.Build();
  std::vector<int> out;
  while (!lists.empty()) {
    const size_t w = tree.Winner();
    if (pos[w] >= lists[w].size())
      break;
    out.push_back(lists[w][pos[w]++]);
    tree.Replay(w);
  }
  return out;
}

TEST(LoserTreeTest, MergesAnyNumberOfInputs) {
  std::mt19937 rng(42);
  for (size_t k : {1, 2, 3, 5, 8, 13, 100}) {
    std::vector<std::vector<int>> lists(k);
    std::vector<int> all;
    for (auto& l : lists) {
      const int n = static_cast<int>(rng() % 20);
      for (int i = 0; i < n; ++i)
        l.push_back(static_cast<int>(rng() % 50));
      std::sort(l.begin(), l.end());
      all.insert(all.end(), l.begin(), l.end());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(MergeAll(lists), all) << "k=" << k;
  }
}

TEST(LoserTreeTest, AllEmptyInputsGiveNothing) {
  EXPECT_TRUE(MergeAll({{}, {}, {}}).empty());
  EXPECT_TRUE(MergeAll({}).empty());
}

}  // namespace
}  // namespace paodin::storeapi
