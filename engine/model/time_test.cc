#include "engine/model/time.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/model/matcher.h"
#include "engine/util/status_matchers.h"

namespace paodin::engine {
namespace {

using ::paodin::testing::StatusIs;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;
constexpr int64_t kYear = 365 * kDay;

struct ValueCase {
  std::string input;
  int64_t want;
};

struct ErrorCase {
  std::string input;
  std::string message;
};

TEST(ParseDurationTest, ParsesPrometheusDurations) {
  const ValueCase cases[] = {
      {"0", 0},
      {"0s", 0},
      {"0ms", 0},
      {"0y0w", 0},
      {"1ms", 1},
      {"5ms", 5},
      {"1s", kSecond},
      {"90s", 90 * kSecond},
      {"1m", kMinute},
      {"1m30s", kMinute + 30 * kSecond},
      {"1m5ms", kMinute + 5},
      {"1h", kHour},
      {"1d", kDay},
      {"1w", kWeek},
      {"1y", kYear},
      {"01m", kMinute},
      {"1y2w3d4h5m6s7ms", kYear + 2 * kWeek + 3 * kDay + 4 * kHour + 5 * kMinute + 6 * kSecond + 7},
      {"292y", 292 * kYear},
      {"106751d", 106751 * kDay},
      {"9223372036854ms", 9223372036854},  // the largest: int64 nanoseconds
  };
  for (const ValueCase& c : cases) {
    absl::StatusOr<int64_t> got = ParseDuration(c.input);
    ASSERT_TRUE(got.ok()) << c.input << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.input;
  }
}

TEST(ParseDurationTest, RejectsMalformedDurations) {
  const ErrorCase cases[] = {
      {"", "empty duration string"},
      {"1x", "not a valid duration string: \"1x\""},
      {"1", "not a valid duration string: \"1\""},
      {"00", "not a valid duration string: \"00\""},
      {"s", "not a valid duration string: \"s\""},
      {"1.5s", "not a valid duration string: \"1.5s\""},
      {"-1s", "not a valid duration string: \"-1s\""},
      {"+1s", "not a valid duration string: \"+1s\""},
      {"1h1h", "not a valid duration string: \"1h1h\""},
      {"1s1m", "not a valid duration string: \"1s1m\""},
      {"1ms5s", "not a valid duration string: \"1ms5s\""},
      {"1m1y", "not a valid duration string: \"1m1y\""},
      {" 1s", "not a valid duration string: \" 1s\""},
      {"1s ", "not a valid duration string: \"1s \""},
      {"1S", "not a valid duration string: \"1S\""},
      {"1M", "not a valid duration string: \"1M\""},
      {"1h-1m", "not a valid duration string: \"1h-1m\""},
      {"1mss", "not a valid duration string: \"1mss\""},
      {"1\xff", "not a valid duration string: \"1\\xff\""},
      {"300y", "duration out of range"},
      {"106752d", "duration out of range"},
      {"9223372036855ms", "duration out of range"},
      {"99999999999999999999s", "duration out of range"},
      {"292y25w", "duration out of range"},  // each part fits, the sum does not
  };
  for (const ErrorCase& c : cases) {
    EXPECT_THAT(ParseDuration(c.input), StatusIs(absl::StatusCode::kInvalidArgument, c.message))
        << c.input;
  }
}

TEST(FormatDurationTest, FormatsLikePrometheus) {
  const struct {
    int64_t ms;
    std::string want;
  } cases[] = {
      {0, "0s"},
      {1, "1ms"},
      {1500, "1s500ms"},
      {90000, "1m30s"},
      {kHour, "1h"},
      {86400000, "1d"},
      {604800000, "1w"},
      {31536000000, "1y"},
      {8 * kDay, "1w1d"},
      {kYear + kWeek + kDay + kHour + kMinute + kSecond + 1, "1y1w1d1h1m1s1ms"},
      {2 * kYear + 59 * kSecond, "2y59s"},
      {-5, ""},  // Prometheus prints no unit for a negative duration
  };

  for (const auto& c : cases)
    EXPECT_EQ(FormatDuration(c.ms), c.want) << c.ms;
}

TEST(FormatDurationTest, RoundTripsThroughParseDuration) {
  for (int64_t ms : {int64_t{1}, int64_t{999}, kMinute + 1, 3 * kWeek + 2 * kDay, 291 * kYear + 1,
                     int64_t{9223372036854}}) {
    absl::StatusOr<int64_t> back = ParseDuration(FormatDuration(ms));
    ASSERT_TRUE(back.ok()) << FormatDuration(ms) << ": " << back.status();
    EXPECT_EQ(*back, ms) << FormatDuration(ms);
  }
}

// Expected values observed from Prometheus 2.42 (`timestamp(vector(0))` at ?time=...).
TEST(ParseApiTimeTest, ParsesFloatSecondsLikePrometheus) {
  const ValueCase cases[] = {
      {"0", 0},
      {"1.5", 1500},
      {"-1.5", -1500},
      {"1.0005", 1000},  // the fraction is rounded to ms as a float: 0.000499999... -> 0
      {"2.0005", 2001},
      {"0.0005", 1},
      {"-0.0005", -1},
      {"1.9999", 2000},
      {"-1.9999", -2000},
      {"1e3", 1000000},
      {"1E3", 1000000},
      {"1e-3", 1},
      {"-1e-3", -1},
      {"1e-400", 0},  // underflow is not an error in Go
      {"1.", 1000},
      {".5", 500},
      {"-.5", -500},
      {"+1", 1000},
      {"1_000", 1000000},
      {"1_000.5_5", 1000550},
      {"0x10p0", 16000},
      {"0X1P0", 1000},
      {"0x1.8p1", 3000},
      {"0x.8p1", 1000},
      {"-0x1p1", -2000},
      {"0x_1p0", 1000},
      {"1577836800.123", 1577836800123},
      // Beyond year 2262 the engine's UnixNano wraps, as in Prometheus.
      {"1e1_0", -8446744073709},
      {"9.3e15", 188263034714},
      {"1e20", 0},
      {"-1e20", 0},
      {"Inf", -9223372036854},
      {"+Inf", -9223372036854},
      {"-Inf", -9223372036854},
      {"infinity", -9223372036854},
      {"NaN", -9223372036854},
      {"nan", -9223372036854},
  };
  for (const ValueCase& c : cases) {
    absl::StatusOr<int64_t> got = ParseApiTime(c.input);
    ASSERT_TRUE(got.ok()) << c.input << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.input;
  }
}

TEST(ParseApiTimeTest, ParsesRfc3339LikeGo) {
  const ValueCase cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"2020-01-01T00:00:00Z", 1577836800000},
      {"2020-01-01T00:00:00.5Z", 1577836800500},
      {"2020-01-01T00:00:00,5Z", 1577836800500},
      {"2020-01-01T00:00:00.123456789Z", 1577836800123},
      {"2020-01-01T00:00:00.000999Z", 1577836800000},
      {"2020-01-01T1:00:00Z", 1577840400000},  // Go reads a one-digit hour
      {"2020-01-01T00:00:00+01:30", 1577831400000},
      {"2020-01-01T00:00:00-01:30", 1577842200000},
      {"2020-01-01T00:00:00+25:00", 1577746800000},  // Go 1.19 does not range-check offsets
      {"2020-01-01T00:00:00+99:99", 1577474460000},
      {"2020-02-29T00:00:00Z", 1582934400000},
      {"2000-02-29T23:59:59.999Z", 951868799999},
      {"2026-11-27T07:30:00.123Z", 1795764600123},
      {"1969-12-31T23:59:59Z", -1000},
      {"1969-12-31T23:59:59.9995Z", 0},  // the engine truncates toward zero
      // Outside 1678..2262 the engine's UnixNano wraps, as in Prometheus.
      {"2262-04-11T23:47:16.854Z", 9223372036854},
      {"2262-04-11T23:47:16.855Z", -9223372036854},
      {"9999-12-31T23:59:59Z", -4852116232933},
      {"0000-01-01T00:00:00Z", -6826986978871},
      // Prometheus' min/max time texts, which Go's parser cannot read.
      {"-292273086-05-16T16:47:06Z", 6795364580679},
      {"292277025-08-18T07:12:54.999999999Z", -6795364579679},
  };
  for (const ValueCase& c : cases) {
    absl::StatusOr<int64_t> got = ParseApiTime(c.input);
    ASSERT_TRUE(got.ok()) << c.input << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.input;
  }
}

TEST(ParseApiTimeTest, RejectsWhatPrometheusRejects) {
  const std::string inputs[] = {
      "",
      "abc",
      " 1",
      "1 ",
      ".",
      "1.5.5",
      "1__0",
      "_1",
      "1_",
      "1._5",
      "1e",
      "1e+",
      "1e_1",
      "1e400",
      "-1e400",
      "0x",
      "0x1",
      "0x1p",
      "+NaN",
      "-nan",
      "infinit",
      "Infinityy",
      "2020-01-01T00:00:00",
      "2020-01-01t00:00:00Z",
      "2020-01-01T00:00:00z",
      "2020-01-01 00:00:00Z",
      "2020-01-01T00:00:00.Z",
      "2020-01-01T00:00:00.1234567891Z",  // Go 1.19: more than 9 fraction digits
      "2020-1-01T00:00:00Z",
      "2020-01-1T00:00:00Z",
      "20-01-01T00:00:00Z",
      "2020-01-01T00:0:00Z",
      "2020-01-01T00:00:0Z",
      "2020-01-01T123:00:00Z",
      "2020-02-30T00:00:00Z",
      "2019-02-29T00:00:00Z",
      "2020-00-01T00:00:00Z",
      "2020-13-01T00:00:00Z",
      "2020-01-00T00:00:00Z",
      "2020-01-01T24:00:00Z",
      "2020-01-01T00:60:00Z",
      "2020-01-01T00:00:60Z",
      "2020-01-01T00:00:00+0100",
      "2020-01-01T00:00:00+01",
      "2020-01-01T00:00:00*01:00",
      "2020-01-01T00:00:00+0a:00",
      "2020-01-01T00:00:00+01:00x",
      "+2020-01-01T00:00:00Z",
      "-292273086-05-16T16:47:07Z",  // only the exact min/max texts are special
  };
  for (const std::string& input : inputs) {
    EXPECT_THAT(ParseApiTime(input),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "cannot parse " + GoQuote(input) + " to a valid timestamp"))
        << input;
    EXPECT_THAT(ParseApiTimestamp(input), StatusIs(absl::StatusCode::kInvalidArgument)) << input;
  }
  EXPECT_THAT(ParseApiTime("a\"b\n"), StatusIs(absl::StatusCode::kInvalidArgument,
                                               "cannot parse \"a\\\"b\\n\" to a valid timestamp"));
}

TEST(ParseApiTimestampTest, FloorsToMillisecondsWithoutEngineWrap) {
  const ValueCase cases[] = {
      {"1.5", 1500},
      {"-1.5", -1500},
      {"2020-01-01T00:00:00Z", 1577836800000},
      {"1969-12-31T23:59:59.9995Z", -1},  // floor, unlike the engine
      {"0000-01-01T00:00:00Z", -62167219200000},
      {"1e1_0", 10000000000000},
      {"-292273086-05-16T16:47:06Z", kMinApiTime},
      {"292277025-08-18T07:12:54.999999999Z", kMaxApiTime},
  };
  for (const ValueCase& c : cases) {
    absl::StatusOr<int64_t> got = ParseApiTimestamp(c.input);
    ASSERT_TRUE(got.ok()) << c.input << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.input;
  }
}

// Expected values observed from Prometheus 2.42 (?step=... of query_range).
TEST(ParseApiDurationTest, ParsesFloatSecondsAndDurations) {
  const ValueCase cases[] = {
      {"1", 1000},
      {"1.5", 1500},
      {"1e3", 1000000},
      {"0x1p3", 8000},
      {"1_0", 10000},
      {"0.001", 1},
      {"0.0005", 0},  // Prometheus keeps the nanoseconds; milliseconds truncate
      {"-1", -1000},
      {"-1.5", -1500},
      {"0", 0},
      {"00", 0},
      {"9.2e9", 9200000000000},
      {"-9.2e9", -9200000000000},
      {"NaN", -9223372036854},  // time.Duration(NaN) on amd64
      {"1m30s", 90000},
      {"5ms", 5},
      {"1m5ms", 60005},
      {"292y", 292 * kYear},
  };
  for (const ValueCase& c : cases) {
    absl::StatusOr<int64_t> got = ParseApiDuration(c.input);
    ASSERT_TRUE(got.ok()) << c.input << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.input;
  }
}

TEST(ParseApiDurationTest, RejectsLikePrometheus) {
  const ErrorCase cases[] = {
      {"", "cannot parse \"\" to a valid duration"},
      {"abc", "cannot parse \"abc\" to a valid duration"},
      {"1h1h", "cannot parse \"1h1h\" to a valid duration"},
      {"1.5s", "cannot parse \"1.5s\" to a valid duration"},
      {"1ms5s", "cannot parse \"1ms5s\" to a valid duration"},
      {"300y", "cannot parse \"300y\" to a valid duration"},
      {"1e400", "cannot parse \"1e400\" to a valid duration"},
      {"Inf", "cannot parse \"Inf\" to a valid duration. It overflows int64"},
      {"-Inf", "cannot parse \"-Inf\" to a valid duration. It overflows int64"},
      {"1e10", "cannot parse \"1e10\" to a valid duration. It overflows int64"},
      {"9.3e9", "cannot parse \"9.3e9\" to a valid duration. It overflows int64"},
      {"-9.3e9", "cannot parse \"-9.3e9\" to a valid duration. It overflows int64"},
  };
  for (const ErrorCase& c : cases) {
    EXPECT_THAT(ParseApiDuration(c.input), StatusIs(absl::StatusCode::kInvalidArgument, c.message))
        << c.input;
  }
}

TEST(FormatRfc3339MillisTest, FormatsUtcWithMilliseconds) {
  const struct {
    int64_t ms;
    std::string want;
  } cases[] = {
      {0, "1970-01-01T00:00:00.000Z"},
      {1, "1970-01-01T00:00:00.001Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
      {-1000, "1969-12-31T23:59:59.000Z"},
      {1577836800123, "2020-01-01T00:00:00.123Z"},
      {1582934400000, "2020-02-29T00:00:00.000Z"},
      {1795764600123, "2026-11-27T07:30:00.123Z"},
      {253402300799999, "9999-12-31T23:59:59.999Z"},
      {-62167219200000, "0000-01-01T00:00:00.000Z"},
  };

  for (const auto& c : cases)
    EXPECT_EQ(FormatRfc3339Millis(c.ms), c.want) << c.ms;
}

TEST(FormatRfc3339MillisTest, RoundTripsThroughParseApiTimestamp) {
  for (int64_t ms = -100 * kYear; ms < 400 * kYear; ms += 7 * kDay + 3 * kHour + 12345) {
    absl::StatusOr<int64_t> back = ParseApiTimestamp(FormatRfc3339Millis(ms));
    ASSERT_TRUE(back.ok()) << FormatRfc3339Millis(ms) << ": " << back.status();
    ASSERT_EQ(*back, ms) << FormatRfc3339Millis(ms);
  }
}

}  // namespace
}  // namespace paodin::engine
