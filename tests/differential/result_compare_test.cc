#include "tests/differential/result_compare.h"

#include <cmath>
#include <limits>

#include "engine/model/labels.h"
#include "gtest/gtest.h"

namespace paodin::differential {
namespace {

constexpr char kVector[] = R"({"status":"success","data":{"resultType":"vector","result":[)"
                           R"({"metric":{"job":"b"},"value":[100.5,"2"]},)"
                           R"({"metric":{"job":"a"},"value":[100.5,"+Inf"]}]}})";

engine::QueryResult VectorResult(std::vector<std::pair<std::string, double>> elems, int64_t t_ms) {
  engine::QueryResult r;
  r.type = engine::ResultType::kVector;
  for (const auto& [job, v] : elems) {
    engine::ResultSeries s;
    s.labels = *engine::Labels::FromPairs({{"job", job}});
    s.ts = {t_ms};
    s.vs = {v};
    r.series.push_back(std::move(s));
  }
  return r;
}

TEST(ResultCompareTest, VectorsAgreeRegardlessOfOrderUnlessOrdered) {
  absl::StatusOr<Answer> want = AnswerFromPrometheus(kVector);
  ASSERT_TRUE(want.ok()) << want.status();
  Answer got = AnswerFromEngine(VectorResult({{"a", HUGE_VAL}, {"b", 2}}, 100500));
  EXPECT_TRUE(CompareAnswers(*want, got, {}).empty());
  CompareOptions ordered;
  ordered.ordered = true;
  EXPECT_FALSE(CompareAnswers(*want, got, ordered).empty());
}

TEST(ResultCompareTest, ReportsValueTimeAndSeriesDifferences) {
  absl::StatusOr<Answer> want = AnswerFromPrometheus(kVector);
  ASSERT_TRUE(want.ok());
  EXPECT_FALSE(CompareAnswers(
                   *want, AnswerFromEngine(VectorResult({{"a", HUGE_VAL}, {"b", 2.1}}, 100500)), {})
                   .empty());
  EXPECT_FALSE(
      CompareAnswers(*want, AnswerFromEngine(VectorResult({{"a", HUGE_VAL}, {"b", 2}}, 100000)), {})
          .empty());
  EXPECT_FALSE(
      CompareAnswers(*want, AnswerFromEngine(VectorResult({{"a", HUGE_VAL}}, 100500)), {}).empty());
}

TEST(ResultCompareTest, ValuesMatchWithinTolerance) {
  CompareOptions o;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(ValuesMatch(nan, nan, o));
  EXPECT_FALSE(ValuesMatch(nan, 1, o));
  EXPECT_FALSE(ValuesMatch(HUGE_VAL, -HUGE_VAL, o));
  EXPECT_TRUE(ValuesMatch(1e6, 1e6 + 0.5, o));
  EXPECT_FALSE(ValuesMatch(1e6, 1e6 + 2, o));
  EXPECT_TRUE(ValuesMatch(0, 1e-13, o));
  EXPECT_FALSE(ValuesMatch(0, 1e-9, o));
}

TEST(ResultCompareTest, ErrorsCompareByTypeAndMessage) {
  absl::StatusOr<Answer> want = AnswerFromPrometheus(
      R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: x"})");
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(want->error, "1:5: parse error: x");
  EXPECT_TRUE(
      CompareAnswers(*want, AnswerFromEngine(absl::InvalidArgumentError("1:5: parse error: x")), {})
          .empty());
  EXPECT_FALSE(
      CompareAnswers(*want, AnswerFromEngine(absl::InvalidArgumentError("1:6: parse error: x")), {})
          .empty());
  EXPECT_FALSE(
      CompareAnswers(*want, AnswerFromEngine(absl::FailedPreconditionError("1:5: parse error: x")),
                     {})
          .empty());
  EXPECT_FALSE(CompareAnswers(*want, AnswerFromEngine(VectorResult({}, 0)), {}).empty());
}

TEST(ResultCompareTest, ManyToManyPairMayComeInEitherOrder) {
  Answer want;
  want.error_type = "execution";
  want.error =
      "found duplicate series for the match group {} on the right hand-side of the operation: "
      "[{job=\"a\"}, {job=\"b\"}];many-to-many matching not allowed: matching labels must be "
      "unique on one side";
  Answer got = want;
  EXPECT_TRUE(CompareAnswers(want, got, {}).empty());
  got.error =
      "found duplicate series for the match group {} on the right hand-side of the operation: "
      "[{job=\"b\"}, {job=\"a\"}];many-to-many matching not allowed: matching labels must be "
      "unique on one side";
  EXPECT_TRUE(CompareAnswers(want, got, {}).empty());
  got.error =
      "found duplicate series for the match group {} on the right hand-side of the operation: "
      "[{job=\"b\"}, {job=\"c\"}];many-to-many matching not allowed: matching labels must be "
      "unique on one side";
  EXPECT_FALSE(CompareAnswers(want, got, {}).empty());
}

TEST(ResultCompareTest, ReadsScalarsStringsAndMatrices) {
  absl::StatusOr<Answer> s = AnswerFromPrometheus(
      R"({"status":"success","data":{"resultType":"scalar","result":[1.001,"-Inf"]}})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->t_ms, 1001);
  EXPECT_EQ(s->scalar, -HUGE_VAL);
  absl::StatusOr<Answer> m =
      AnswerFromPrometheus(R"({"status":"success","data":{"resultType":"matrix","result":[)"
                           R"({"metric":{},"values":[[1,"1"],[2,"1e+300"]]}]}})");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->series.size(), 1u);
  EXPECT_EQ(m->series[0].ts, (std::vector<int64_t>{1000, 2000}));
  EXPECT_EQ(m->series[0].vs[1], 1e300);
}

TEST(ResultCompareTest, RejectsMalformedResponses) {
  for (const char* bad : {
           "not json",
           R"({"data":{}})",
           R"({"status":"success"})",
           R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}})",
           R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"1"]}]}})",
           R"({"status":"success","data":{"resultType":"scalar","result":[1,"abc"]}})",
           R"({"status":"success","data":{"resultType":"what","result":[{"metric":{}}]}})",
       }) {
    EXPECT_FALSE(AnswerFromPrometheus(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace paodin::differential
