#include "engine/promql/parser.h"

#include <cmath>
#include <functional>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/promql/functions.h"
#include "engine/promql/printer.h"
#include "engine/util/status_matchers.h"

namespace paodin::engine::promql {
namespace {

using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;

ParsedQuery MustParse(std::string_view q) {
  absl::StatusOr<ParsedQuery> r = Parse(q);
  EXPECT_TRUE(r.ok()) << q << ": " << r.status();
  if (!r.ok())
    return *Parse("0");
  return *std::move(r);
}

TEST(ParserTest, NumberLiteralsKeepTheirValue) {
  struct Case {
    const char* query;
    double value;
  } cases[] = {{"1", 1},      {"0x1f", 31},  {"017", 15},     {"08", 8},     {".5", 0.5},
               {"5.", 5},     {"1e3", 1000}, {"-1", -1},      {"+2", 2},     {"- -3", 3},
               {"1e-400", 0}, {"0X10", 16},  {"1.5e+2", 150}, {"-0x10", -16}};

  for (const Case& c : cases) {
    ParsedQuery q = MustParse(c.query);
    const auto* n = q.root()->As<NumberLiteral>();
    ASSERT_NE(n, nullptr) << c.query;
    EXPECT_EQ(n->value, c.value) << c.query;
    EXPECT_EQ(n->type(), ValueType::kScalar);
  }
  EXPECT_TRUE(std::isinf(MustParse("Inf").root()->As<NumberLiteral>()->value));
  EXPECT_LT(MustParse("-inf").root()->As<NumberLiteral>()->value, 0);
  EXPECT_TRUE(std::isnan(MustParse("NaN").root()->As<NumberLiteral>()->value));
}

TEST(ParserTest, FoldsSignIntoLiteralWithOperatorPosition) {
  ParsedQuery q = MustParse("  -1");
  const auto* n = q.root()->As<NumberLiteral>();
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->pos, (PosRange{2, 4}));
  // A parenthesised literal is not folded.
  ParsedQuery p = MustParse("-(1)");
  ASSERT_TRUE(p.root()->Is<Unary>());
}

TEST(ParserTest, UnquotesStringsInAllQuoteStyles) {
  struct Case {
    const char* query;
    const char* value;
  } cases[] = {{R"("a\nb")", "a\nb"},
               {R"('it\'s')", "it's"},
               {R"(`raw\n`)", "raw\\n"},
               {R"("\x41\101\u00e9\U0001F600")", "AA\xc3\xa9\xf0\x9f\x98\x80"},
               {R"("\a\b\f\r\t\v\\")", "\a\b\f\r\t\v\\"},
               {R"('"')", "\""},
               {R"("")", ""}};

  for (const Case& c : cases) {
    ParsedQuery q = MustParse(c.query);
    const auto* s = q.root()->As<StringLiteral>();
    ASSERT_NE(s, nullptr) << c.query;
    EXPECT_EQ(s->value, c.value) << c.query;
    EXPECT_EQ(s->type(), ValueType::kString);
  }
}

TEST(ParserTest, VectorSelectorAppendsNameMatcherLast) {
  ParsedQuery q = MustParse(R"(foo{a="b", c!~"d.*"})");
  const auto* vs = q.root()->As<VectorSelector>();
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ(vs->name, "foo");
  ASSERT_EQ(vs->matchers.size(), 3u);
  EXPECT_EQ(vs->matchers[0].ToString(), R"(a="b")");
  EXPECT_EQ(vs->matchers[1].type(), MatchType::kRegexNoMatch);
  EXPECT_EQ(vs->matchers[2].ToString(), R"(__name__="foo")");
  EXPECT_EQ(vs->pos, (PosRange{0, 20}));
  EXPECT_EQ(vs->offset_ms, 0);
  EXPECT_EQ(vs->at, AtModifier::kNone);
}

TEST(ParserTest, SelectorWithoutNameHasOnlyItsMatchers) {
  ParsedQuery q = MustParse(R"({__name__=~"foo|bar", job="x"})");
  const auto* vs = q.root()->As<VectorSelector>();
  ASSERT_NE(vs, nullptr);
  EXPECT_EQ(vs->name, "");
  EXPECT_EQ(vs->matchers.size(), 2u);
}

TEST(ParserTest, KeywordsServeAsMetricAndLabelNames) {
  for (const char* q : {"sum", "by", "offset", "and", "start", "end", "without", "count_values"}) {
    ParsedQuery p = MustParse(q);
    const auto* vs = p.root()->As<VectorSelector>();
    ASSERT_NE(vs, nullptr) << q;
    EXPECT_EQ(vs->name, q);
  }
  ParsedQuery p = MustParse("and and and");
  const auto* b = p.root()->As<Binary>();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->op, BinaryOp::kAnd);
  ParsedQuery g = MustParse("sum by (on, bool, offset, sum) (x)");
  EXPECT_THAT(g.root()->As<Aggregate>()->grouping,
              ::testing::ElementsAre("on", "bool", "offset", "sum"));
}

TEST(ParserTest, MatrixSelectorCarriesRangeOffsetAndAt) {
  ParsedQuery q = MustParse("foo[1h30m] offset -5m @ 1.2345");
  const auto* m = q.root()->As<MatrixSelector>();
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->range_ms, 90 * 60 * 1000);
  EXPECT_EQ(m->vector->offset_ms, -5 * 60 * 1000);
  EXPECT_EQ(m->vector->at, AtModifier::kTimestamp);
  EXPECT_EQ(m->vector->at_ms, 1235);  // rounded to ms
  EXPECT_EQ(m->type(), ValueType::kMatrix);
}

TEST(ParserTest, ParsesDurationsWithEveryUnit) {
  ParsedQuery q = MustParse("foo[1y2w3d4h5m6s7ms]");
  int64_t want = 7 + 1000LL * (6 + 60 * (5 + 60 * (4 + 24LL * (3 + 7 * 2 + 365))));
  EXPECT_EQ(q.root()->As<MatrixSelector>()->range_ms, want);
}

TEST(ParserTest, AtModifierVariants) {
  struct Case {
    const char* query;
    AtModifier at;
    int64_t at_ms;
  } cases[] = {{"foo @ 10", AtModifier::kTimestamp, 10000},
               {"foo @ -1.5", AtModifier::kTimestamp, -1500},
               {"foo @ +0x10", AtModifier::kTimestamp, 16000},
               {"foo @ start()", AtModifier::kStart, 0},
               {"foo @ end() offset 1m", AtModifier::kEnd, 0},
               {"foo offset 1m @ 1.0005", AtModifier::kTimestamp, 1001},
               {"foo @ 1e17", AtModifier::kTimestamp, INT64_MIN}};

  for (const Case& c : cases) {
    ParsedQuery q = MustParse(c.query);
    const auto* vs = q.root()->As<VectorSelector>();
    ASSERT_NE(vs, nullptr) << c.query;
    EXPECT_EQ(vs->at, c.at) << c.query;
    EXPECT_EQ(vs->at_ms, c.at_ms) << c.query;
  }
}

TEST(ParserTest, SubqueryFields) {
  ParsedQuery q = MustParse("rate(foo[5m])[30m:1m] offset 1h @ end()");
  const auto* s = q.root()->As<Subquery>();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->range_ms, 30 * 60 * 1000);
  EXPECT_EQ(s->step_ms, 60 * 1000);
  EXPECT_EQ(s->offset_ms, 3600 * 1000);
  EXPECT_EQ(s->at, AtModifier::kEnd);
  EXPECT_TRUE(s->expr->Is<Call>());
  ParsedQuery d = MustParse("foo[30m:]");
  EXPECT_EQ(d.root()->As<Subquery>()->step_ms, 0);
}

TEST(ParserTest, BinaryPrecedenceAndAssociativity) {
  struct Case {
    const char* query;
    const char* parenthesised;  // the same tree written with explicit parentheses
  } cases[] = {
      {"a + b * c", "a + (b * c)"},
      {"a * b + c", "(a * b) + c"},
      {"a - b - c", "(a - b) - c"},
      {"a ^ b ^ c", "a ^ (b ^ c)"},
      {"-a ^ b", "-(a ^ b)"},
      {"-a * b", "(-a) * b"},
      {"a atan2 b * c", "(a atan2 b) * c"},
      {"a + b atan2 c", "a + (b atan2 c)"},
      {"a or b and c", "a or (b and c)"},
      {"a and b unless c", "(a and b) unless c"},
      {"a > b and c", "(a > b) and c"},
      {"a + b > c - d", "(a + b) > (c - d)"},
      {"a + b offset 1m", "a + (b offset 1m)"},
      {"a / b @ 5", "a / (b @ 5)"},
      {"-a offset 1m", "-(a offset 1m)"},
      {"2 ^ -1 ^ 2", "2 ^ (-(1 ^ 2))"},
  };

  for (const Case& c : cases) {
    ParsedQuery a = MustParse(c.query);
    ParsedQuery b = MustParse(c.parenthesised);
    // Strip the explicit parentheses by printing without them is not possible; compare the
    // shape by evaluating the printed canonical form of each side instead.
    std::function<const Expr*(const Expr*)> unparen = [&](const Expr* e) {
      while (e->Is<Paren>())
        e = e->As<Paren>()->expr;
      return e;
    };
    std::function<bool(const Expr*, const Expr*)> same = [&](const Expr* x, const Expr* y) {
      x = unparen(x);
      y = unparen(y);
      if (x->kind != y->kind)
        return false;
      if (const auto* bx = x->As<Binary>()) {
        const auto* by = y->As<Binary>();
        return bx->op == by->op && same(bx->lhs, by->lhs) && same(bx->rhs, by->rhs);
      }
      if (const auto* ux = x->As<Unary>())
        return same(ux->expr, y->As<Unary>()->expr);
      if (const auto* sx = x->As<Subquery>())
        return same(sx->expr, y->As<Subquery>()->expr);
      return EqualTrees(*x, *y);
    };
    EXPECT_TRUE(same(a.root(), b.root())) << c.query << " vs " << c.parenthesised;
  }
}

TEST(ParserTest, VectorMatchingModifiers) {
  ParsedQuery q = MustParse("a * on(x, y) group_left(z) b");
  const auto* b = q.root()->As<Binary>();
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->matching.has_value());
  EXPECT_TRUE(b->matching->on);
  EXPECT_EQ(b->matching->card, Cardinality::kManyToOne);
  EXPECT_THAT(b->matching->matching_labels, ::testing::ElementsAre("x", "y"));
  EXPECT_THAT(b->matching->include, ::testing::ElementsAre("z"));

  ParsedQuery r = MustParse("a / ignoring(x) group_right b");
  EXPECT_FALSE(r.root()->As<Binary>()->matching->on);
  EXPECT_EQ(r.root()->As<Binary>()->matching->card, Cardinality::kOneToMany);

  ParsedQuery s = MustParse("a and b");
  EXPECT_EQ(s.root()->As<Binary>()->matching->card, Cardinality::kManyToMany);

  ParsedQuery t = MustParse("a > bool 1");
  EXPECT_TRUE(t.root()->As<Binary>()->return_bool);
  EXPECT_FALSE(t.root()->As<Binary>()->matching.has_value());
  EXPECT_EQ(MustParse("1 + 2").root()->type(), ValueType::kScalar);
  EXPECT_EQ(t.root()->type(), ValueType::kVector);
}

TEST(ParserTest, AggregationForms) {
  for (const char* q : {"sum by (a) (x)", "sum(x) by (a)", "SUM BY (a) (x)"}) {
    ParsedQuery p = MustParse(q);
    const auto* a = p.root()->As<Aggregate>();
    ASSERT_NE(a, nullptr) << q;
    EXPECT_EQ(a->op, AggregateOp::kSum);
    EXPECT_FALSE(a->without);
    EXPECT_THAT(a->grouping, ::testing::ElementsAre("a"));
    EXPECT_EQ(a->param, nullptr);
  }
  ParsedQuery t = MustParse("topk without (b) (3, x)");
  const auto* a = t.root()->As<Aggregate>();
  EXPECT_EQ(a->op, AggregateOp::kTopk);
  EXPECT_TRUE(a->without);
  ASSERT_NE(a->param, nullptr);
  EXPECT_EQ(a->param->As<NumberLiteral>()->value, 3);
  ParsedQuery cv = MustParse(R"(count_values("le", x))");
  EXPECT_EQ(cv.root()->As<Aggregate>()->param->As<StringLiteral>()->value, "le");
}

TEST(ParserTest, CallsResolveTheFunctionTable) {
  ParsedQuery q = MustParse(R"(label_join(x, "d", ",", "a", "b", "c"))");
  const auto* c = q.root()->As<Call>();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->func->id, FunctionId::kLabelJoin);
  EXPECT_EQ(c->args.size(), 6u);
  EXPECT_EQ(MustParse("time()").root()->type(), ValueType::kScalar);
  EXPECT_EQ(MustParse("year()").root()->As<Call>()->args.size(), 0u);
  EXPECT_EQ(MustParse("round(x, 5)").root()->As<Call>()->func->id, FunctionId::kRound);
}

TEST(ParserTest, PositionsCoverTheSource) {
  ParsedQuery q = MustParse("sum(rate(foo[5m])) by (a) + 1");
  const auto* b = q.root()->As<Binary>();
  EXPECT_EQ(b->pos, (PosRange{0, 29}));
  const auto* agg = b->lhs->As<Aggregate>();
  EXPECT_EQ(agg->pos, (PosRange{0, 25}));
  const auto* call = agg->expr->As<Call>();
  EXPECT_EQ(call->pos, (PosRange{4, 17}));
  EXPECT_EQ(call->args[0]->pos, (PosRange{9, 16}));
  EXPECT_EQ(b->rhs->pos, (PosRange{28, 29}));
}

TEST(ParserTest, CommentsAndNewlinesAreSkipped) {
  ParsedQuery q = MustParse("# leading\nsum(\n  x # trailing\n)\n");
  EXPECT_EQ(Print(*q.root()), "sum(x)");
}

TEST(ParserTest, ErrorPositionsCountLinesAndColumns) {
  EXPECT_THAT(Parse("foo +\n  bar baz"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "2:7: parse error: unexpected identifier \"baz\""));
}

TEST(ParserTest, BoundsNestingDepthWithAClearError) {
  std::string ok(400, '(');
  ok += "1";
  ok += std::string(400, ')');
  EXPECT_TRUE(Parse(ok).ok());
  std::string deep(100000, '(');
  deep += "1";
  deep += std::string(100000, ')');
  EXPECT_THAT(Parse(deep), StatusHasSubstr("expression nesting depth exceeds the limit of"));
  std::string unary(100000, '-');
  unary += "foo";
  EXPECT_THAT(Parse(unary), StatusHasSubstr("expression nesting depth exceeds the limit of"));
  std::string chain = "a";
  for (int i = 0; i < 5000; ++i)
    chain += " + a";
  EXPECT_THAT(Parse(chain), StatusHasSubstr("expression nesting depth exceeds the limit of"));
  ParseOptions small;
  small.max_depth = 3;
  EXPECT_THAT(Parse("((((1))))", small),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "1:4: parse error: expression nesting depth exceeds the limit of 3"));
}

TEST(ParserTest, ParsedQueryOwnsItsTextAndNodes) {
  absl::StatusOr<ParsedQuery> q = Parse("foo + bar");
  ASSERT_TRUE(q.ok());
  ParsedQuery moved = *std::move(q);
  EXPECT_EQ(moved.query(), "foo + bar");
  EXPECT_EQ(Print(*moved.root()), "foo + bar");
  auto* wrapper = moved.arena().New<StepInvariant>();
  wrapper->expr = moved.root();
  moved.set_root(wrapper);
  EXPECT_EQ(Print(*moved.root()), "foo + bar");
  EXPECT_EQ(moved.root()->type(), ValueType::kVector);
}

}  // namespace
}  // namespace paodin::engine::promql

namespace paodin::engine::promql {
namespace {

TEST(ParseMetricSelectorTest, ReturnsMatchersWithNameLast) {
  absl::StatusOr<std::vector<Matcher>> m = ParseMetricSelector(R"(up{job="a",le!~"1.*"})");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].ToString(), R"(job="a")");
  EXPECT_EQ((*m)[2].ToString(), R"(__name__="up")");
}

TEST(ParseMetricSelectorTest, LeavesEmptyMatchingSelectorsToTheCaller) {
  absl::StatusOr<std::vector<Matcher>> m = ParseMetricSelector(R"({a=""})");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->size(), 1u);
}

TEST(ParseMetricSelectorTest, RejectsAnythingButASelectorLikePrometheus) {
  // Messages checked against Prometheus 2.42's /api/v1/series?match[]=...
  const std::pair<const char*, const char*> cases[] = {
      {"up[5m]", "1:3: parse error: unexpected \"[\""},
      {"1", "1:1: parse error: unexpected number \"1\""},
      {"sum(up)", "1:4: parse error: unexpected \"(\""},
      {"up{", "1:4: parse error: unexpected end of input inside braces"},
      {"up offset 5m", "1:4: parse error: unexpected <offset>"},
      {"-up", "1:1: parse error: unexpected <op:->"},
      {"(up)", "1:1: parse error: unexpected \"(\""},
      {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
      {"", "1:1: parse error: unexpected end of input"},
  };
  for (const auto& [input, want] : cases) {
    absl::StatusOr<std::vector<Matcher>> m = ParseMetricSelector(input);
    ASSERT_FALSE(m.ok()) << input;
    EXPECT_EQ(m.status().message(), want) << input;
  }
}

}  // namespace
}  // namespace paodin::engine::promql
