#include "http/form.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::http {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(FormTest, QueryUnescapeDecodesPlusAndPercent) {
  EXPECT_EQ(*QueryUnescape("a+b%20c%2Bd%7e"), "a b c+d~");
  EXPECT_EQ(*PathUnescape("a+b%2F"), "a+b/");
  EXPECT_EQ(*QueryUnescape("%E2%82%AC"), "\xe2\x82\xac");
}

TEST(FormTest, QueryUnescapeRejectsBadEscapes) {
  struct Case {
    const char* in;
    const char* message;
  };

  const Case cases[] = {
      {"%zz", "invalid URL escape \"%zz\""},
      {"ab%4", "invalid URL escape \"%4\""},
      {"%", "invalid URL escape \"%\""},
      {"x%g1y", "invalid URL escape \"%g1\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> s = QueryUnescape(c.in);
    ASSERT_FALSE(s.ok()) << c.in;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.status().message(), c.message);
  }
}

TEST(FormTest, GetReadsOnlyTheUrlQuery) {
  Form f = Form::Parse("GET", "query=up&time=5", "application/x-www-form-urlencoded", "time=7");
  EXPECT_EQ(f.Value("query"), "up");
  EXPECT_EQ(f.Value("time"), "5");
  EXPECT_TRUE(f.parse_error().ok());
}

TEST(FormTest, PostBodyValuesComeBeforeUrlValues) {
  Form f = Form::Parse("POST", "query=1&match[]=c&dedup=false",
                       "application/x-www-form-urlencoded; charset=UTF-8",
                       "query=2&time=3&match[]=a&match[]=b");
  EXPECT_EQ(f.Value("query"), "2");
  EXPECT_EQ(f.Value("time"), "3");
  EXPECT_EQ(f.Value("dedup"), "false");
  EXPECT_THAT(f.Values("match[]"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(f.Values("query"), ElementsAre("2", "1"));
}

TEST(FormTest, PostWithOtherContentTypeIgnoresBody) {
  for (const char* ct : {"", "application/json", "text/plain"}) {
    Form f = Form::Parse("POST", "a=1", ct, "query=up");
    EXPECT_EQ(f.Value("query"), "") << ct;
    EXPECT_EQ(f.Value("a"), "1");
  }
  Form upper = Form::Parse("POST", "", "Application/X-WWW-Form-Urlencoded", "query=up");
  EXPECT_EQ(upper.Value("query"), "up");
  Form put = Form::Parse("PUT", "", "application/x-www-form-urlencoded", "query=up");
  EXPECT_EQ(put.Value("query"), "up");
}

TEST(FormTest, MalformedPairsAreSkippedAndTheFirstErrorKept) {
  Form f = Form::Parse("GET", "a=%zz&b=1&c;d=2&&=e&f&g=%4", "", "");
  EXPECT_THAT(f.Values("a"), IsEmpty());
  EXPECT_EQ(f.Value("b"), "1");
  EXPECT_FALSE(f.Has("c"));
  EXPECT_TRUE(f.Has("f"));
  EXPECT_EQ(f.Value("f"), "");
  EXPECT_TRUE(f.Has(""));
  EXPECT_EQ(f.parse_error().message(), "invalid URL escape \"%zz\"");

  Form semi = Form::Parse("GET", "query=1;x=2&time=5", "", "");
  EXPECT_FALSE(semi.Has("query"));
  EXPECT_EQ(semi.Value("time"), "5");
  EXPECT_EQ(semi.parse_error().message(), "invalid semicolon separator in query");
}

TEST(FormTest, EncodedKeysAndBinaryValues) {
  Form f = Form::Parse("GET", "match%5B%5D=%7Bjob%3D%22x%22%7D&q=%00%FF", "", "");
  EXPECT_THAT(f.Values("match[]"), ElementsAre("{job=\"x\"}"));
  EXPECT_EQ(f.Value("q"), std::string("\0\xff", 2));
  EXPECT_EQ(f.pairs().size(), 2u);
}

}  // namespace
}  // namespace paodin::http
