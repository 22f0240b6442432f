#include "engine/exec/result_builder.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::engine::exec {
namespace {

using ::testing::ElementsAreArray;

// One step: time and (id, value) entries in the given order.
StepVector Step(int64_t t, std::vector<std::pair<uint32_t, double>> entries) {
  StepVector sv;
  sv.Reset(t);
  for (auto [id, v] : entries)
    sv.Push(id, v);
  return sv;
}

// The expected per-series points of a batch, built naively.
std::vector<ResultSeries> Naive(const std::vector<StepVector>& steps, size_t num_series) {
  std::vector<ResultSeries> out(num_series);
  for (const StepVector& sv : steps) {
    for (size_t k = 0; k < sv.size(); ++k) {
      out[sv.ids[k]].ts.push_back(sv.t);
      out[sv.ids[k]].vs.push_back(sv.vals[k]);
    }
  }
  return out;
}

struct Case {
  std::string name;
  size_t num_series;
  std::vector<StepVector> steps;
};

std::vector<Case> Cases() {
  return {
      {"dense_increasing",
       3,
       {Step(0, {{0, 1}, {1, 2}, {2, 3}}), Step(10, {{0, 4}, {1, 5}, {2, 6}})}},
      {"holes_increasing",
       4,
       {Step(0, {{0, 1}, {3, 2}}), Step(10, {{1, 4}, {3, 5}}), Step(20, {}),
        Step(30, {{0, 7}, {1, 8}, {2, 9}, {3, 10}})}},
      {"unordered_ids", 3, {Step(0, {{2, 1}, {0, 2}}), Step(10, {{1, 3}, {2, 4}, {0, 5}})}},
      {"sparse", 100, {Step(0, {{42, 1}}), Step(10, {{7, 2}}), Step(20, {{42, 3}})}},
      {"empty_batch", 2, {}},
  };
}

class AppendBatchTest : public ::testing::TestWithParam<Case> {};

TEST_P(AppendBatchTest, OneTaskEqualsNaiveTranspose) {
  const Case& c = GetParam();
  std::vector<ResultSeries> got(c.num_series);
  AppendBatchToSeries(c.steps, 0, static_cast<uint32_t>(c.num_series),
                      static_cast<int64_t>(c.steps.size()), got);
  std::vector<ResultSeries> want = Naive(c.steps, c.num_series);
  for (size_t id = 0; id < c.num_series; ++id) {
    EXPECT_THAT(got[id].ts, ElementsAreArray(want[id].ts)) << "series " << id;
    EXPECT_THAT(got[id].vs, ElementsAreArray(want[id].vs)) << "series " << id;
  }
}

TEST_P(AppendBatchTest, DisjointIdRangesTogetherEqualNaiveTranspose) {
  const Case& c = GetParam();
  std::vector<ResultSeries> got(c.num_series);
  const uint32_t ns = static_cast<uint32_t>(c.num_series);
  for (uint32_t lo = 0; lo < ns; lo += 2)
    AppendBatchToSeries(c.steps, lo, std::min(ns, lo + 2), 1, got);
  std::vector<ResultSeries> want = Naive(c.steps, c.num_series);
  for (size_t id = 0; id < c.num_series; ++id) {
    EXPECT_THAT(got[id].ts, ElementsAreArray(want[id].ts)) << "series " << id;
    EXPECT_THAT(got[id].vs, ElementsAreArray(want[id].vs)) << "series " << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Batches, AppendBatchTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(AppendBatchToSeries, ConsecutiveBatchesAppendInStepOrder) {
  std::vector<ResultSeries> got(2);
  std::vector<StepVector> b1 = {Step(0, {{0, 1}, {1, 2}}), Step(10, {{0, 3}, {1, 4}})};
  std::vector<StepVector> b2 = {Step(20, {{1, 6}}), Step(30, {{0, 7}, {1, 8}})};
  AppendBatchToSeries(b1, 0, 2, 4, got);
  AppendBatchToSeries(b2, 0, 2, 2, got);
  EXPECT_THAT(got[0].ts, ElementsAreArray({0, 10, 30}));
  EXPECT_THAT(got[0].vs, ElementsAreArray({1.0, 3.0, 7.0}));
  EXPECT_THAT(got[1].ts, ElementsAreArray({0, 10, 20, 30}));
  EXPECT_THAT(got[1].vs, ElementsAreArray({2.0, 4.0, 6.0, 8.0}));
}

TEST(AppendBatchToSeries, SeriesPresentAtEveryStepGetsRoomForTheRestOfTheQuery) {
  std::vector<ResultSeries> got(2);
  std::vector<StepVector> b = {Step(0, {{0, 1}, {1, 2}}), Step(10, {{0, 3}})};
  AppendBatchToSeries(b, 0, 2, 1000, got);
  EXPECT_GE(got[0].ts.capacity(), 1000u);
  EXPECT_GE(got[0].vs.capacity(), 1000u);
  EXPECT_LT(got[1].ts.capacity(), 1000u);  // only at one of two steps: no guess made
}

}  // namespace
}  // namespace paodin::engine::exec
