#include "engine/promql/functions.h"

#include <string>

#include <gtest/gtest.h>

namespace paodin::engine::promql {
namespace {

TEST(FunctionsTest, TableIsSortedAndIndexedById) {
  std::span<const Function> all = AllFunctions();
  ASSERT_EQ(all.size(), static_cast<size_t>(kNumFunctions));
  EXPECT_EQ(all.size(), 70u);  // Prometheus 2.42 has exactly these 70 functions.
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(all[i].id), i) << all[i].name;
    if (i > 0) {
      EXPECT_LT(all[i - 1].name, all[i].name);
    }
    EXPECT_EQ(LookupFunction(all[i].name), &all[i]);
    EXPECT_EQ(&GetFunction(all[i].id), &all[i]);
  }
}

TEST(FunctionsTest, UnknownAndLaterFunctionsAreAbsent) {
  for (const char* name : {"", "foo", "Rate", "histogram_stddev", "histogram_stdvar",
                           "histogram_avg", "sort_by_label", "mad_over_time", "limitk", "info"}) {
    EXPECT_EQ(LookupFunction(name), nullptr) << name;
  }
}

TEST(FunctionsTest, Signatures) {
  const Function* f = LookupFunction("label_join");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->variadic, -1);
  EXPECT_EQ(f->arg_types().size(), 4u);
  EXPECT_EQ(f->ArgType(7), ValueType::kString);
  f = LookupFunction("round");
  EXPECT_EQ(f->variadic, 1);
  EXPECT_EQ(f->ArgType(1), ValueType::kScalar);
  f = LookupFunction("histogram_quantile");
  EXPECT_EQ(f->ArgType(0), ValueType::kScalar);
  EXPECT_EQ(f->ArgType(1), ValueType::kVector);
  f = LookupFunction("rate");
  EXPECT_EQ(f->ArgType(0), ValueType::kMatrix);
  EXPECT_EQ(f->return_type, ValueType::kVector);
  EXPECT_EQ(LookupFunction("time")->return_type, ValueType::kScalar);
  EXPECT_EQ(LookupFunction("scalar")->return_type, ValueType::kScalar);
  EXPECT_EQ(LookupFunction("year")->variadic, 1);
  EXPECT_EQ(LookupFunction("holt_winters")->arg_types().size(), 3u);
}

}  // namespace
}  // namespace paodin::engine::promql
