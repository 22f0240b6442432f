#include "engine/promql/printer.h"

#include <string>

#include <gtest/gtest.h>

#include "engine/promql/parser.h"

namespace paodin::engine::promql {
namespace {

TEST(PrinterTest, FormatsDurationsLikePrometheus) {
  struct Case {
    int64_t ms;
    const char* text;
  } cases[] = {{0, "0s"},
               {1, "1ms"},
               {1000, "1s"},
               {90 * 1000, "1m30s"},
               {5400 * 1000, "1h30m"},
               {8LL * 86400 * 1000, "8d"},
               {14LL * 86400 * 1000, "2w"},
               {365LL * 86400 * 1000, "1y"},
               {379LL * 86400 * 1000, "379d"},
               {86400LL * 1000 + 1, "1d1ms"},
               {-60 * 1000, "-1m"}};

  for (const Case& c : cases)
    EXPECT_EQ(FormatDuration(c.ms), c.text) << c.ms;
}

TEST(PrinterTest, PrintsCanonicalForms) {
  struct Case {
    const char* query;
    const char* canonical;
  } cases[] = {
      {"foo{b='1',a=\"2\"}", R"(foo{a="2",b="1"})"},
      {"sum(x) by (b,a)", "sum by (b, a) (x)"},
      {"sum without() (x)", "sum without () (x)"},
      {"a*on()group_left b", "a * on () group_left () b"},
      {"a * ignoring() group_left b", "a * ignoring () group_left () b"},
      {"foo offset 5m @ 1.5", "foo @ 1.500 offset 5m"},
      {"foo[5m] offset -1w @ end()", "foo[5m] @ end() offset -1w"},
      {"x[1h:]", "x[1h:]"},
      {"`a\\b`", R"("a\\b")"},
      {"1e6", "1e+06"},
      {"-(1)", "-(1)"},
      {"+x", "+x"},
      {"{__name__=\"foo\"}", R"({__name__="foo"})"},
      {R"(foo{a="\ufffd"})", R"(foo{a="\ufffd"})"},
      {R"("\xff")", R"("\xff")"},
      {"Inf ^ 2", "Inf ^ 2"},
      {"+Inf ^ 2", "+Inf ^ 2"},
      {"Inf + 2", "+Inf + 2"},
  };

  for (const Case& c : cases) {
    absl::StatusOr<ParsedQuery> q = Parse(c.query);
    ASSERT_TRUE(q.ok()) << c.query << ": " << q.status();
    EXPECT_EQ(Print(*q->root()), c.canonical) << c.query;
  }
}

TEST(PrinterTest, PrintsAnIndentedTree) {
  absl::StatusOr<ParsedQuery> q = Parse("sum by (a) (rate(x[5m])) > bool 1");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(PrintTree(*q->root()),
            "Binary > bool :: instant vector @ 0-33\n"
            "  Aggregate sum by (a) :: instant vector @ 0-24\n"
            "    Call rate :: instant vector @ 12-23\n"
            "      MatrixSelector [5m] :: range vector @ 17-22\n"
            "        VectorSelector x :: instant vector @ 17-18\n"
            "  NumberLiteral 1 :: scalar @ 32-33\n");
}

}  // namespace
}  // namespace paodin::engine::promql
