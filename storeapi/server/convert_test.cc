#include "storeapi/server/convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin::storeapi {
namespace {

using ::paodin::testing::IsOk;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;

google::protobuf::RepeatedPtrField<thanos::LabelMatcher> Proto(
    std::vector<std::tuple<thanos::LabelMatcher::Type, std::string, std::string>> ms) {
  google::protobuf::RepeatedPtrField<thanos::LabelMatcher> out;
  for (auto& [type, name, value] : ms) {
    thanos::LabelMatcher* m = out.Add();
    m->set_type(type);
    m->set_name(name);
    m->set_value(value);
  }
  return out;
}

TEST(ConvertTest, MatchersFromProtoKeepsTypeNameAndValue) {
  auto ms = MatchersFromProto(Proto({{thanos::LabelMatcher::EQ, "a", "1"},
                                     {thanos::LabelMatcher::NEQ, "b", "2"},
                                     {thanos::LabelMatcher::RE, "c", "x|y"},
                                     {thanos::LabelMatcher::NRE, "d", ".*"}}));
  ASSERT_THAT(ms, IsOk());
  ASSERT_EQ(ms->size(), 4u);
  EXPECT_EQ((*ms)[0].ToString(), "a=\"1\"");
  EXPECT_EQ((*ms)[1].ToString(), "b!=\"2\"");
  EXPECT_EQ((*ms)[2].ToString(), "c=~\"x|y\"");
  EXPECT_EQ((*ms)[3].ToString(), "d!~\".*\"");
}

TEST(ConvertTest, MatchersFromProtoRejectsBadRegexAndType) {
  EXPECT_THAT(MatchersFromProto(Proto({{thanos::LabelMatcher::RE, "job", "(a"}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MatchersFromProto(Proto({{thanos::LabelMatcher::RE, "job", "(a"}})),
              StatusHasSubstr("bad matcher for label job: error parsing regexp"));
  EXPECT_THAT(MatchersFromProto(Proto({{static_cast<thanos::LabelMatcher::Type>(9), "job", "a"}})),
              StatusHasSubstr("unknown matcher type 9 for label job"));
}

TEST(ConvertTest, ParsesExternalLabelFlagsInThanosSyntax) {
  std::vector<std::string> flags = {R"(cluster="host")", R"(replica="a\"b\u00e9")",
                                    "region=`eu west`"};
  auto labels = ParseExternalLabels(flags);
  ASSERT_THAT(labels, IsOk());
  EXPECT_EQ(labels->ToString(), R"({cluster="host", region="eu west", replica="a\"bé"})");
  EXPECT_THAT(ParseExternalLabels(std::vector<std::string>{}), IsOk());
}

TEST(ConvertTest, RejectsBadExternalLabelFlags) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"cluster", "unrecognized label \"cluster\""},
      {"1x=\"a\"", "unsupported format for label 1x=\"a\""},
      {"cluster=host", "unquote label value of cluster=host"},
      {"cluster=\"a", "unquote label value"},
      {"cluster=\"a\\q\"", "unquote label value"},
  };
  for (const auto& [flag, message] : cases) {
    EXPECT_THAT(ParseExternalLabels(std::vector<std::string>{flag}), StatusHasSubstr(message))
        << flag;
  }
  EXPECT_THAT(ParseExternalLabels(std::vector<std::string>{"a=\"1\"", "a=\"2\""}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ConvertTest, GoUnquoteHandlesEscapes) {
  EXPECT_EQ(*GoUnquote(R"("a\tb\\c\x41\101\n")"), "a\tb\\cAA\n");
  EXPECT_EQ(*GoUnquote(R"("\U0001F600")"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(*GoUnquote("``"), "");
  for (std::string bad : {"", "\"", "'a'", "\"a\"b\"", R"("\x4")", R"("\400")", R"("\ud800")"}) {
    EXPECT_FALSE(GoUnquote(bad).ok()) << bad;
  }
}

TEST(ConvertTest, MatchExternalLabelsDropsMatchersOnExternalNames) {
  engine::Labels ext = *engine::Labels::FromPairs({{"cluster", "host"}});
  auto make = [](engine::MatchType t, std::string n, std::string v) {
    return *engine::Matcher::Make(t, std::move(n), std::move(v));
  };
  std::vector<engine::Matcher> ms = {make(engine::MatchType::kEqual, "cluster", "host"),
                                     make(engine::MatchType::kEqual, "job", "x")};
  EXPECT_TRUE(MatchExternalLabels(ext, &ms));
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].name(), "job");
  std::vector<engine::Matcher> other = {make(engine::MatchType::kRegexMatch, "cluster", "mem.*")};
  EXPECT_FALSE(MatchExternalLabels(ext, &other));
  std::vector<engine::Matcher> neq = {make(engine::MatchType::kNotEqual, "cluster", "member")};
  EXPECT_TRUE(MatchExternalLabels(ext, &neq));
  EXPECT_TRUE(neq.empty());
}

}  // namespace
}  // namespace paodin::storeapi
