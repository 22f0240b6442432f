#include "http/json.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace paodin::http {
namespace {

struct FloatCase {
  double value;
  const char* want;
};

std::string Sample(double v) {
  std::string s;
  AppendSampleValue(s, v);
  return s;
}

std::string Scalar(double v) {
  std::string s;
  AppendScalarValue(s, v);
  return s;
}

TEST(JsonTest, SampleValuesUseGoShortestWithExponentOutsideOneMicroToOneE21) {
  // Expected strings are what Prometheus 2.42 writes for vector(<v>).
  const FloatCase cases[] = {
      {0, "0"},
      {-0.0, "-0"},
      {1, "1"},
      {2, "2"},
      {-1.5, "-1.5"},
      {0.1, "0.1"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1234567.8, "1234567.8"},
      {1e20, "100000000000000000000"},
      {1e21, "1e+21"},
      {1.5e21, "1.5e+21"},
      {123456789012345678901234.0, "1.2345678901234569e+23"},
      {1e-6, "0.000001"},
      {1.2345678e-6, "0.0000012345678"},
      {1e-7, "1e-07"},
      {-1e-7, "-1e-07"},
      {1.2345678e-67, "1.2345678e-67"},
      {5e-324, "5e-324"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {12.333333333333334, "12.333333333333334"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
  };
  for (const FloatCase& c : cases) {
    EXPECT_EQ(Sample(c.value), c.want) << c.want;
  }
}

TEST(JsonTest, ScalarValuesAlwaysUseFixedNotation) {
  const FloatCase cases[] = {
      {2, "2"},
      {-0.0, "-0"},
      {1e-7, "0.0000001"},
      {1e21, "1000000000000000000000"},
      {1.5e-300 * 0 + 0.5, "0.5"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
  };
  for (const FloatCase& c : cases) {
    EXPECT_EQ(Scalar(c.value), c.want) << c.want;
  }
  std::string tiny = Scalar(5e-324);
  EXPECT_EQ(tiny.size(), 326u);
  EXPECT_EQ(tiny.substr(0, 4), "0.00");
  EXPECT_EQ(tiny.back(), '5');
}

TEST(JsonTest, SampleTimestampsKeepThreeFractionDigits) {
  struct Case {
    int64_t ms;
    const char* want;
  };

  const Case cases[] = {
      {0, "0"},
      {1000, "1"},
      {1001, "1.001"},
      {1010, "1.010"},
      {1100, "1.100"},
      {10, "0.010"},
      {10500, "10.500"},
      {1435781451781, "1435781451.781"},
      {-1, "-0.001"},
      {-1002, "-1.002"},
      {-2000, "-2"},
      {std::numeric_limits<int64_t>::max(), "9223372036854775.807"},
      {std::numeric_limits<int64_t>::min(), "-9223372036854775.808"},
  };
  for (const Case& c : cases) {
    std::string s;
    AppendSampleTimestamp(s, c.ms);
    EXPECT_EQ(s, c.want) << c.ms;
  }
}

TEST(JsonTest, FloatTimestampsAreShortest) {
  struct Case {
    int64_t ms;
    const char* want;
  };

  const Case cases[] = {
      {0, "0"},
      {4000, "4"},
      {1100, "1.1"},
      {10500, "10.5"},
      {1001, "1.001"},
      {-1002, "-1.002"},
      {1700000000000, "1700000000"},
      {1435781451781, "1435781451.781"},
  };
  for (const Case& c : cases) {
    std::string s;
    AppendFloatTimestamp(s, c.ms);
    EXPECT_EQ(s, c.want) << c.ms;
  }
}

TEST(JsonTest, GoJsonFloatsShortenExponents) {
  const FloatCase cases[] = {
      {0, "0"},        {9.89e-7, "9.89e-7"}, {0.00016318, "0.00016318"},
      {1e21, "1e+21"}, {1e-10, "1e-10"},     {2.5, "2.5"},
  };
  for (const FloatCase& c : cases) {
    std::string s;
    AppendGoJsonFloat(s, c.value);
    EXPECT_EQ(s, c.want) << c.want;
  }
}

TEST(JsonTest, StringsAreEscapedLikeGoEncodingJson) {
  struct Case {
    std::string in;
    const char* want;
  };

  const Case cases[] = {
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"a\"b\\c", R"("a\"b\\c")"},
      {"<&>", R"("\u003c\u0026\u003e")"},
      {"\n\r\t", R"("\n\r\t")"},
      {std::string("\x01\x08\x0c\x1f\x7f", 5), "\"\\u0001\\u0008\\u000c\\u001f\x7f\""},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"é€😀", "\"é€😀\""},
      {"\xe2\x80\xa8\xe2\x80\xa9", R"("\u2028\u2029")"},
      {"\xff", R"("\ufffd")"},
      {"a\xc3", R"("a\ufffd")"},                              // truncated sequence
      {"\xc0\xaf", R"("\ufffd\ufffd")"},                      // overlong
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},            // surrogate
      {"\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // above U+10FFFF
      {"\xf0\x9f\x98", R"("\ufffd\ufffd\ufffd")"},            // truncated 4-byte
  };
  for (const Case& c : cases) {
    std::string s;
    AppendJsonString(s, c.in);
    EXPECT_EQ(s, c.want) << c.want;
  }
}

TEST(JsonTest, IntsAreDecimal) {
  std::string s;
  AppendInt(s, std::numeric_limits<int64_t>::max());
  s.push_back(' ');
  AppendInt(s, -42);
  EXPECT_EQ(s, "9223372036854775807 -42");
}

}  // namespace
}  // namespace paodin::http
