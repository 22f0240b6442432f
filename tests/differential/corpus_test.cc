#include "tests/differential/corpus.h"

#include "gtest/gtest.h"

namespace paodin::differential {
namespace {

TEST(CorpusTest, SkipsCommentsAndReadsKnownMarks) {
  absl::StatusOr<std::vector<CorpusEntry>> c =
      ParseCorpus("# comment\n\n  up  \n[known:K1] rate(x[5m])\r\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].query, "up");
  EXPECT_EQ((*c)[0].line, 3);
  EXPECT_EQ((*c)[0].known, "");
  EXPECT_EQ((*c)[1].query, "rate(x[5m])");
  EXPECT_EQ((*c)[1].known, "K1");
  EXPECT_EQ((*c)[1].line, 4);
}

TEST(CorpusTest, RejectsMalformedKnownMarks) {
  EXPECT_FALSE(ParseCorpus("[known:K1 up\n").ok());
  EXPECT_FALSE(ParseCorpus("[known:] up\n").ok());
  EXPECT_FALSE(ParseCorpus("[known:K2]\n").ok());
}

TEST(CorpusTest, MissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(ReadCorpusFile("/nonexistent/queries.txt").status()));
}

TEST(CorpusTest, OrderMattersOnlyForOutermostSortAndTopk) {
  struct Case {
    const char* query;
    bool ordered;
  };

  for (const Case& c : std::vector<Case>{
           {"sort(up)", true},
           {"sort_desc(rate(x[5m]))", true},
           {" (topk(3, up)) ", true},
           {"topk by (job) (2, up)", true},
           {"bottomk without (instance) (1, up)", true},
           {"sort(up) + 1", false},
           {"sum(sort(up))", false},
           {"sort_by_x", false},
           {"topk(3, up) by (job)", false},
           {"sort(label_replace(up, \"a\", \")\", \"b\", \"(.*)\"))", true},
           {"up", false},
       }) {
    EXPECT_EQ(OrderMatters(c.query), c.ordered) << c.query;
  }
}

}  // namespace
}  // namespace paodin::differential
