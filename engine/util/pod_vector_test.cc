#include "engine/util/pod_vector.h"

#include <cstdint>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

namespace paodin::engine {
namespace {

std::vector<int64_t> Contents(const PodVector<int64_t>& v) {
  return std::vector<int64_t>(v.begin(), v.end());
}

TEST(PodVectorTest, ExtendTruncateAndPushKeepOrder) {
  PodVector<int64_t> v;
  EXPECT_TRUE(v.empty());
  for (int64_t i = 0; i < 5; ++i)
    v.push_back(i);
  int64_t* tail = v.Extend(100);
  EXPECT_EQ(v.size(), 105u);
  EXPECT_GE(v.capacity(), 105u);
  for (int64_t i = 0; i < 3; ++i)
    tail[i] = 10 + i;
  v.Truncate(8);
  EXPECT_EQ(Contents(v), (std::vector<int64_t>{0, 1, 2, 3, 4, 10, 11, 12}));
  EXPECT_EQ(v.back(), 12);
  EXPECT_EQ(v[5], 10);
}

TEST(PodVectorTest, GrowingKeepsWhatWasThere) {
  PodVector<int64_t> v;
  std::vector<int64_t> want;
  for (int round = 0; round < 20; ++round) {
    const size_t at = v.size();
    int64_t* tail = v.Extend(37);
    for (size_t i = 0; i < 37; ++i)
      tail[i] = static_cast<int64_t>(at + i);
    v.Truncate(at + 30);  // keep 30 of each 37
    for (size_t i = 0; i < 30; ++i)
      want.push_back(static_cast<int64_t>(at + i));
  }
  EXPECT_EQ(Contents(v), want);
}

TEST(PodVectorTest, EraseFrontMovesTheRest) {
  PodVector<int64_t> v;
  std::vector<int64_t> src(50);
  std::iota(src.begin(), src.end(), 0);
  v.assign(src.begin(), src.end());
  v.EraseFront(0);
  EXPECT_EQ(v.size(), 50u);
  v.EraseFront(45);
  EXPECT_EQ(Contents(v), (std::vector<int64_t>{45, 46, 47, 48, 49}));
  v.EraseFront(5);
  EXPECT_TRUE(v.empty());
}

TEST(PodVectorTest, CopyAndMove) {
  PodVector<double> a;
  a.push_back(1.5);
  a.push_back(-2);
  PodVector<double> b = a;
  a[0] = 7;
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], 1.5);
  PodVector<double> c = std::move(b);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  c = a;
  EXPECT_EQ(c[0], 7);
  c.clear();
  EXPECT_TRUE(c.empty());
  EXPECT_GE(c.capacity(), 2u);
}

}  // namespace
}  // namespace paodin::engine
