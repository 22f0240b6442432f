#include "engine/promql/go_format.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace paodin::engine::promql {
namespace {

TEST(GoFormatTest, FormatsFloatsLikeGoPercentV) {
  struct Case {
    double value;
    const char* text;
  } cases[] = {{0, "0"},
               {-0.0, "-0"},
               {1, "1"},
               {-1, "-1"},
               {1.5, "1.5"},
               {123456, "123456"},
               {999999, "999999"},
               {1000000, "1e+06"},
               {1234567, "1.234567e+06"},
               {0.0001, "0.0001"},
               {0.00001, "1e-05"},
               {0.000123, "0.000123"},
               {1.23e-7, "1.23e-07"},
               {1e300, "1e+300"},
               {1e21, "1e+21"},
               {1.2345678901234568e+29, "1.2345678901234568e+29"},
               {0.1 + 0.2, "0.30000000000000004"},
               {std::numeric_limits<double>::infinity(), "+Inf"},
               {-std::numeric_limits<double>::infinity(), "-Inf"},
               {std::nan(""), "NaN"}};

  for (const Case& c : cases)
    EXPECT_EQ(GoFormatFloat(c.value), c.text) << c.text;
}

TEST(GoFormatTest, FormatsPercentF) {
  EXPECT_EQ(GoFormatFloatF(1.5), "1.500000");
  EXPECT_EQ(GoFormatFloatF(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(GoFormatFloatF(std::nan("")), "NaN");
}

TEST(GoFormatTest, QuotesStringsLikeStrconvQuote) {
  EXPECT_EQ(GoQuoteString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(GoQuoteString("\n\t\x01\x7f"), R"("\n\t\x01\x7f")");
  EXPECT_EQ(GoQuoteString("\xc3\xa9"), "\"\xc3\xa9\"");
  EXPECT_EQ(GoQuoteString("\xff"), R"("\xff")");
  EXPECT_EQ(GoQuoteString("\xc2\xa0"), R"("\u00a0")");
  EXPECT_EQ(GoQuoteString("\xf4\x8f\xbf\xbf"), R"("\U0010ffff")");
  EXPECT_EQ(GoQuotePrefix("abcdefghijkl", 10), R"("abcdefghij")");
  EXPECT_EQ(GoQuoteRune('\''), R"('\'')");
  EXPECT_EQ(GoQuoteRune('"'), R"('"')");
  EXPECT_EQ(GoQuoteRune(-1), "'\xef\xbf\xbd'");
  EXPECT_EQ(GoUnicodeFormat('q'), "U+0071 'q'");
  EXPECT_EQ(GoUnicodeFormat('\n'), "U+000A");
}

TEST(GoFormatTest, DecodesUtf8LikeGo) {
  EXPECT_EQ(DecodeRune("a", 0).rune, 'a');
  EXPECT_EQ(DecodeRune("\xc3\xa9", 0).rune, 0xe9);
  EXPECT_EQ(DecodeRune("\xc3\xa9", 0).width, 2);
  EXPECT_EQ(DecodeRune("\xc0\x80", 0).rune, 0xfffd);      // overlong
  EXPECT_EQ(DecodeRune("\xed\xa0\x80", 0).rune, 0xfffd);  // surrogate
  EXPECT_EQ(DecodeRune("\xe2\x82", 0).width, 1);          // truncated
  EXPECT_EQ(DecodeRune("", 0).rune, -1);
}

TEST(GoFormatTest, ParsesNumbersLikePrometheus) {
  std::string err;
  EXPECT_EQ(GoParseNumber("0x1f", &err), 31);
  EXPECT_EQ(GoParseNumber("017", &err), 15);
  EXPECT_EQ(GoParseNumber("09", &err), 9);
  EXPECT_EQ(GoParseNumber("1.5e3", &err), 1500);
  EXPECT_EQ(GoParseNumber("99999999999999999999", &err), 1e20);
  EXPECT_TRUE(std::isinf(*GoParseNumber("InF", &err)));
  EXPECT_TRUE(std::isnan(*GoParseNumber("nAn", &err)));
  EXPECT_FALSE(GoParseNumber("1e", &err).has_value());
  EXPECT_EQ(err, R"(strconv.ParseFloat: parsing "1e": invalid syntax)");
  EXPECT_FALSE(GoParseNumber("0x1.8", &err).has_value());
  EXPECT_EQ(err, R"(strconv.ParseFloat: parsing "0x1.8": invalid syntax)");
  EXPECT_FALSE(GoParseNumber("1e999", &err).has_value());
  EXPECT_EQ(err, R"(strconv.ParseFloat: parsing "1e999": value out of range)");
  EXPECT_EQ(GoParseNumber("1e-999", &err), 0);
}

}  // namespace
}  // namespace paodin::engine::promql
