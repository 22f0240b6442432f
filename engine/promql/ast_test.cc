#include "engine/promql/ast.h"

#include <string>

#include <gtest/gtest.h>

#include "engine/promql/arena.h"
#include "engine/promql/parser.h"

namespace paodin::engine::promql {
namespace {

struct Counted {
  explicit Counted(int* n) : n(n) {}

  ~Counted() { ++*n; }

  int* n;
};

TEST(ArenaTest, DestroysObjectsAndAligns) {
  int destroyed = 0;
  {
    Arena arena;
    for (int i = 0; i < 1000; ++i)
      arena.New<Counted>(&destroyed);
    auto* d = arena.New<double>(1.5);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(d) % alignof(double), 0u);
    EXPECT_EQ(*d, 1.5);
    EXPECT_GT(arena.bytes_used(), 1000 * sizeof(Counted));
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 1000);
}

TEST(AstTest, EqualTreesIgnoresPositionsAndMatcherOrder) {
  auto a = Parse(R"(sum by (a) (foo{x="1", y="2"} offset 5m))");
  auto b = Parse(R"(sum  by(a)(foo{y="2",x="1"}   offset 5m))");
  auto c = Parse(R"(sum by (a) (foo{x="1", y="3"} offset 5m))");
  auto d = Parse(R"(sum by (b) (foo{x="1", y="2"} offset 5m))");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_TRUE(EqualTrees(*a->root(), *b->root()));
  EXPECT_FALSE(EqualTrees(*a->root(), *c->root()));
  EXPECT_FALSE(EqualTrees(*a->root(), *d->root()));
  auto n1 = Parse("NaN");
  auto n2 = Parse("nan");
  EXPECT_TRUE(EqualTrees(*n1->root(), *n2->root()));
}

TEST(AstTest, ChildrenInSourceOrder) {
  auto q = Parse("topk(3, foo) + bar");
  ASSERT_TRUE(q.ok());
  std::vector<const Expr*> kids = Children(*q->root());
  ASSERT_EQ(kids.size(), 2u);
  EXPECT_TRUE(kids[0]->Is<Aggregate>());
  std::vector<const Expr*> agg = Children(*kids[0]);
  ASSERT_EQ(agg.size(), 2u);
  EXPECT_TRUE(agg[0]->Is<NumberLiteral>());
  EXPECT_TRUE(agg[1]->Is<VectorSelector>());
}

TEST(AstTest, OperatorNames) {
  EXPECT_EQ(BinaryOpString(BinaryOp::kAtan2), "atan2");
  EXPECT_EQ(BinaryOpString(BinaryOp::kLte), "<=");
  EXPECT_TRUE(IsComparisonOp(BinaryOp::kNeq));
  EXPECT_FALSE(IsComparisonOp(BinaryOp::kAnd));
  EXPECT_TRUE(IsSetOp(BinaryOp::kUnless));
  EXPECT_EQ(AggregateOpString(AggregateOp::kCountValues), "count_values");
  EXPECT_TRUE(AggregateOpTakesParam(AggregateOp::kQuantile));
  EXPECT_FALSE(AggregateOpTakesParam(AggregateOp::kGroup));
  EXPECT_EQ(ValueTypeName(ValueType::kMatrix), "matrix");
  EXPECT_EQ(DocumentedValueType(ValueType::kMatrix), "range vector");
  EXPECT_EQ(DocumentedValueType(ValueType::kScalar), "scalar");
}

}  // namespace
}  // namespace paodin::engine::promql
