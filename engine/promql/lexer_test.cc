#include "engine/promql/lexer.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace paodin::engine::promql {
namespace {

using T = TokenType;

// Lexes `input` to the end; an error token ends the list.
std::vector<Token> LexAll(std::string_view input) {
  Lexer lexer(input);
  std::vector<Token> out;
  for (;;) {
    Token t = lexer.Next();
    out.push_back(t);
    if (t.type == T::kEof || t.type == T::kError)
      break;
  }
  return out;
}

std::vector<T> Types(std::string_view input) {
  std::vector<T> out;
  for (const Token& t : LexAll(input))
    out.push_back(t.type);
  return out;
}

TEST(LexerTest, TokenSequences) {
  struct Case {
    const char* input;
    std::vector<T> types;
  } cases[] = {
      {"", {T::kEof}},
      {"  \t\n", {T::kEof}},
      {"1 0x1f .5 5. 1e3 1.5E-2 Inf nan",
       {T::kNumber, T::kNumber, T::kNumber, T::kNumber, T::kNumber, T::kNumber, T::kNumber,
        T::kNumber, T::kEof}},
      {"5m 1h30m 100ms", {T::kDuration, T::kDuration, T::kDuration, T::kEof}},
      {"foo foo:bar :x _a",
       {T::kIdentifier, T::kMetricIdentifier, T::kMetricIdentifier, T::kIdentifier, T::kEof}},
      {"+ - * / % ^ == != < <= > >= @",
       {T::kAdd, T::kSub, T::kMul, T::kDiv, T::kMod, T::kPow, T::kEqlc, T::kNeq, T::kLss, T::kLte,
        T::kGtr, T::kGte, T::kAt, T::kEof}},
      {"and OR Unless atan2", {T::kLand, T::kLor, T::kLunless, T::kAtan2, T::kEof}},
      {"sum avg count min max group stddev stdvar topk bottomk count_values quantile",
       {T::kSum, T::kAvg, T::kCount, T::kMin, T::kMax, T::kGroup, T::kStddev, T::kStdvar, T::kTopk,
        T::kBottomk, T::kCountValues, T::kQuantile, T::kEof}},
      {"bool by group_left group_right ignoring offset on without start end",
       {T::kBool, T::kBy, T::kGroupLeft, T::kGroupRight, T::kIgnoring, T::kOffset, T::kOn,
        T::kWithout, T::kStart, T::kEnd, T::kEof}},
      {R"(foo{a="b",c!~'d',e=~`f`,g!="h"})",
       {T::kIdentifier, T::kLeftBrace, T::kIdentifier, T::kEql, T::kString, T::kComma,
        T::kIdentifier, T::kNeqRegex, T::kString, T::kComma, T::kIdentifier, T::kEqlRegex,
        T::kString, T::kComma, T::kIdentifier, T::kNeq, T::kString, T::kRightBrace, T::kEof}},
      {"{sum=\"x\"}",
       {T::kLeftBrace, T::kIdentifier, T::kEql, T::kString, T::kRightBrace, T::kEof}},
      {"x[5m:1m]",
       {T::kIdentifier, T::kLeftBracket, T::kDuration, T::kColon, T::kDuration, T::kRightBracket,
        T::kEof}},
      {"x[ 5m ]", {T::kIdentifier, T::kLeftBracket, T::kDuration, T::kRightBracket, T::kEof}},
      {"x[5m y]",
       {T::kIdentifier, T::kLeftBracket, T::kDuration, T::kColon, T::kRightBracket, T::kEof}},
      {"foo # comment\nbar", {T::kIdentifier, T::kComment, T::kIdentifier, T::kEof}},
      {"(a, b)",
       {T::kLeftParen, T::kIdentifier, T::kComma, T::kIdentifier, T::kRightParen, T::kEof}},
      {"a = b", {T::kIdentifier, T::kEql, T::kIdentifier, T::kEof}},
  };

  for (const Case& c : cases) {
    EXPECT_THAT(Types(c.input), ::testing::ElementsAreArray(c.types)) << c.input;
  }
}

TEST(LexerTest, TokenTextAndPositions) {
  std::vector<Token> toks = LexAll("rate(foo[5m])");
  ASSERT_EQ(toks.size(), 8u);
  EXPECT_EQ(toks[0].text, "rate");
  EXPECT_EQ(toks[2].text, "foo");
  EXPECT_EQ(toks[2].pos, 5);
  EXPECT_EQ(toks[2].end, 8);
  EXPECT_EQ(toks[4].text, "5m");
  EXPECT_EQ(toks[7].pos, 13);
  EXPECT_EQ(LexAll("'a\\'b'")[0].text, "'a\\'b'");
}

TEST(LexerTest, Errors) {
  struct Case {
    const char* input;
    int32_t pos;
    const char* message;
  } cases[] = {
      {"(foo", 4, "unclosed left parenthesis"},
      {"foo[5m", 6, "unclosed left bracket"},
      {"foo)", 4, "unexpected right parenthesis ')'"},
      {"]", 0, "unexpected right bracket ']'"},
      {"x[5m[", 4, "unexpected left bracket '['"},
      {"x[5m:1m:]", 7, "unexpected colon ':'"},
      {"a =~ b", 2, "unexpected character after '=': '~'"},
      {"a ! b", 2, "unexpected character after '!': ' '"},
      {"a $", 2, "unexpected character: '$'"},
      {"a \x01", 2, "unexpected character: '\\x01'"},
      {"{a", 2, "unexpected end of input inside braces"},
      {"{a!b}", 2, "unexpected character after '!' inside braces: 'b'"},
      {"{{", 1, "unexpected left brace '{'"},
      {"{1}", 1, "unexpected character inside braces: '1'"},
      {"x[5]", 2, "missing unit character in duration"},
      {"x[a]", 2, "bad duration syntax: \"\""},
      {"x[5x]", 2, "bad duration syntax: \"5\""},
      {"1_0", 0, "bad number or duration syntax: \"1\""},
      {"5mx", 0, "bad number or duration syntax: \"5mx\""},
      {"\"abc", 0, "unterminated quoted string"},
      {"\"a\nb\"", 0, "unterminated quoted string"},
      {"`abc", 0, "unterminated raw string"},
      {"\"\\q\"", 0, "unknown escape sequence U+0071 'q'"},
      {"\"\\", 0, "escape sequence not terminated"},
      {"\"\\x4g\"", 0, "illegal character U+0067 'g' in escape sequence"},
      {"\"\\x4", 0, "escape sequence not terminated"},
      {"\"\\400\"", 0, "escape sequence is an invalid Unicode code point"},
      {"\"\\uDFFF\"", 0, "escape sequence is an invalid Unicode code point"},
      {"\"\\U00110000\"", 0, "escape sequence is an invalid Unicode code point"},
      {"\"\xff\"", 0, "invalid UTF-8 rune"},
      {"`\xc3`", 0, "invalid UTF-8 rune"},
      {"'\\\"'", 0, "unknown escape sequence U+0022 '\"'"},
  };

  for (const Case& c : cases) {
    // The error text lives in the lexer, so keep it alive while checking.
    Lexer lexer(c.input);
    Token last;
    do {
      last = lexer.Next();
    } while (last.type != T::kEof && last.type != T::kError);
    EXPECT_EQ(last.type, T::kError) << c.input;
    EXPECT_EQ(last.text, c.message) << c.input;
    EXPECT_EQ(last.pos, c.pos) << c.input;
  }
}

TEST(LexerTest, EndsAfterAnError) {
  Lexer lexer("$ foo");
  EXPECT_EQ(lexer.Next().type, T::kError);
  EXPECT_EQ(lexer.Next().type, T::kEof);
  EXPECT_EQ(lexer.Next().type, T::kEof);
}

TEST(LexerTest, DescribesTokensLikePrometheus) {
  struct Case {
    const char* input;
    const char* description;
  } cases[] = {
      {"foo", "identifier \"foo\""},
      {"foo:bar", "metric identifier \"foo:bar\""},
      {"1.5", "number \"1.5\""},
      {"5m", "duration \"5m\""},
      {"'ab'", "string \"'ab'\""},
      {"\"abcdefghijklmnop\"", "string \"\\\"abcdefghi\"..."},
      {"by", "<by>"},
      {"BY", "<BY>"},
      {"+", "<op:+>"},
      {"and", "<op:and>"},
      {"@", "\"<Item 57385>\" <op:@>"},
      {"sum", "<aggr:sum>"},
      {"start", "\"start\""},
      {"(", "\"(\""},
      {",", "\",\""},
      {"", "end of input"},
  };

  for (const Case& c : cases) {
    Lexer lexer(c.input);
    EXPECT_EQ(DescribeToken(lexer.Next()), c.description) << c.input;
  }
}

}  // namespace
}  // namespace paodin::engine::promql
