#include "engine/model/matcher.h"

#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin::engine {
namespace {

using ::paodin::testing::StatusIs;

struct MatchCase {
  MatchType type;
  std::string value;
  std::string input;
  bool want;
};

TEST(MatcherTest, MatchesWithPrometheusSemantics) {
  const MatchCase cases[] = {
      {MatchType::kEqual, "a", "a", true},
      {MatchType::kEqual, "a", "ab", false},
      {MatchType::kNotEqual, "a", "b", true},
      {MatchType::kNotEqual, "a", "a", false},
      {MatchType::kRegexMatch, "a.*", "abc", true},
      {MatchType::kRegexMatch, "b", "abc", false},  // fully anchored
      {MatchType::kRegexMatch, "a|bc", "bc", true},
      {MatchType::kRegexMatch, "a|bc", "b", false},
      {MatchType::kRegexMatch, ".*", "x\ny", false},  // `.` does not match a newline
      {MatchType::kRegexMatch, "(?s).*", "x\ny", true},
      {MatchType::kRegexNoMatch, "a.*", "abc", false},
      {MatchType::kRegexNoMatch, "a.*", "bcd", true},
      {MatchType::kRegexMatch, "", "", true},
  };
  for (const MatchCase& c : cases) {
    auto m = Matcher::Make(c.type, "l", c.value);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_EQ(m->Matches(c.input), c.want) << m->ToString() << " on " << c.input;
  }
}

TEST(MatcherTest, KnowsWhetherItMatchesEmpty) {
  EXPECT_TRUE(Matcher::Make(MatchType::kRegexMatch, "l", ".*")->MatchesEmpty());
  EXPECT_FALSE(Matcher::Make(MatchType::kRegexMatch, "l", ".+")->MatchesEmpty());
  EXPECT_TRUE(Matcher::Make(MatchType::kNotEqual, "l", "x")->MatchesEmpty());
  EXPECT_FALSE(Matcher::Make(MatchType::kEqual, "l", "x")->MatchesEmpty());
  EXPECT_TRUE(Matcher::Make(MatchType::kEqual, "l", "")->MatchesEmpty());
}

TEST(MatcherTest, RejectsInvalidRegexWithGoStyleMessage) {
  auto m = Matcher::Make(MatchType::kRegexMatch, "l", "(a");
  EXPECT_THAT(m, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(m.status().message().find("error parsing regexp: missing closing )"), std::string::npos)
      << m.status();
}

TEST(MatcherTest, RejectsAnyByteEscapeLikeGo) {
  EXPECT_THAT(Matcher::Make(MatchType::kRegexMatch, "l", "a\\Cb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "error parsing regexp: invalid escape sequence: `\\C`"));
  EXPECT_TRUE(Matcher::Make(MatchType::kRegexMatch, "l", "a\\\\Cb").ok());
}

TEST(MatcherTest, PrintsPrometheusForm) {
  EXPECT_EQ(Matcher::Make(MatchType::kRegexNoMatch, "job", "a\"b\n")->ToString(),
            "job!~\"a\\\"b\\n\"");
}

TEST(MatcherTest, GoQuoteEscapesLikeStrconv) {
  EXPECT_EQ(GoQuote("a\tb\x01\x7f"), "\"a\\tb\\x01\\x7f\"");
  EXPECT_EQ(GoQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(GoQuote("bad\xff"), "\"bad\\xff\"");
}

}  // namespace
}  // namespace paodin::engine
