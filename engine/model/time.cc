#include "engine/model/time.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/model/matcher.h"
#include "engine/util/strings.h"

namespace paodin::engine {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kNanosPerMilli = 1000000;
constexpr int64_t kMillisPerDay = int64_t{1000} * 60 * 60 * 24;

// --- Duration strings --------------------------------------------------------------------------

struct DurationUnit {
  std::string_view name;
  int64_t millis;
};

// In the only order a duration string may use them.
constexpr DurationUnit kUnits[] = {
    {"y", kMillisPerDay * 365},
    {"w", kMillisPerDay * 7},
    {"d", kMillisPerDay},
    {"h", int64_t{1000} * 60 * 60},
    {"m", int64_t{1000} * 60},
    {"s", 1000},
    {"ms", 1},
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// --- Go-compatible arithmetic ------------------------------------------------------------------

// Go's float64 -> int64 conversion as compiled for amd64 (CVTTSD2SQ): NaN and values out of
// range become math.MinInt64. Prometheus relies on it for inputs such as "Inf".
int64_t GoFloatToInt64(double x) {
  if (std::isnan(x) || x >= 9223372036854775808.0 || x < -9223372036854775808.0) {
    return kInt64Min;
  }
  return static_cast<int64_t>(x);
}

// Two's-complement wrapping, as Go's integer arithmetic.
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// A Go time.Time as time.Unix(sec, nsec) holds it: nsec normalized into [0, 1e9), sec wrapping.
struct GoTime {
  int64_t sec;
  int64_t nsec;
};

GoTime GoUnix(int64_t sec, int64_t nsec) {
  constexpr int64_t kNanosPerSecond = 1000000000;
  if (nsec < 0 || nsec >= kNanosPerSecond) {
    int64_t n = nsec / kNanosPerSecond;
    sec = WrapAdd(sec, n);
    nsec -= n * kNanosPerSecond;
    if (nsec < 0) {
      nsec += kNanosPerSecond;
      sec = WrapAdd(sec, -1);
    }
  }
  return GoTime{sec, nsec};
}

// The PromQL engine's timeMilliseconds(t): t.UnixNano() / 1e6, wrapping beyond year 2262 and
// truncating toward zero.
int64_t EngineMillis(GoTime t) {
  return WrapAdd(WrapMul(t.sec, 1000000000), t.nsec) / kNanosPerMilli;
}

// timestamp.FromTime(t): t.Unix()*1000 + t.Nanosecond()/1e6 (floor), wrapping.
int64_t FromTimeMillis(GoTime t) { return WrapAdd(WrapMul(t.sec, 1000), t.nsec / kNanosPerMilli); }

// --- Go's strconv.ParseFloat -------------------------------------------------------------------

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsHexDigit(char c) { return IsDigit(c) || (Lower(c) >= 'a' && Lower(c) <= 'f'); }

bool EqualFoldPrefix(std::string_view s, std::string_view lower_word) {
  if (s.size() < lower_word.size())
    return false;
  for (size_t i = 0; i < lower_word.size(); ++i) {
    if (Lower(s[i]) != lower_word[i])
      return false;
  }
  return true;
}

// Go's rule for '_' in numbers: only between digits, or between a base prefix and a digit.
bool UnderscoresOk(std::string_view s) {
  char saw = '^';  // '^' start, '0' digit or prefix, '_' underscore, '!' anything else
  size_t i = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-'))
    s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    if (IsDigit(s[i]) || (hex && IsHexDigit(s[i]))) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0')
        return false;
      saw = '_';
      continue;
    }
    if (saw == '_')
      return false;
    saw = '!';
  }
  return saw != '_';
}

// strconv.ParseFloat(s, 64) == nil error: decimal or hex (with a mandatory p exponent) floats,
// '_' digit separators, "inf"/"infinity" with an optional sign and "nan", case-insensitive.
// Overflow is an error; underflow is not.
bool GoParseFloat(std::string_view s, double* out) {
  if (s.empty())
    return false;
  // Special values.
  {
    std::string_view rest = s;
    bool negative = false;
    bool has_sign = false;
    if (rest[0] == '+' || rest[0] == '-') {
      negative = rest[0] == '-';
      has_sign = true;
      rest.remove_prefix(1);
    }
    if ((rest.size() == 3 && EqualFoldPrefix(rest, "inf")) ||
        (rest.size() == 8 && EqualFoldPrefix(rest, "infinity"))) {
      *out = negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
      return true;
    }
    if (!has_sign && rest.size() == 3 && EqualFoldPrefix(rest, "nan")) {
      *out = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    ++i;
  }
  bool hex = false;
  if (i + 2 < s.size() && s[i] == '0' && Lower(s[i + 1]) == 'x') {
    hex = true;
    i += 2;
  }
  const size_t mantissa_start = i;
  bool underscores = false;
  bool saw_dot = false;
  bool saw_digits = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      underscores = true;
    } else if (c == '.') {
      if (saw_dot)
        break;
      saw_dot = true;
    } else if (IsDigit(c) || (hex && IsHexDigit(c))) {
      saw_digits = true;
    } else {
      break;
    }
  }
  if (!saw_digits)
    return false;
  if (i < s.size() && Lower(s[i]) == (hex ? 'p' : 'e')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
      ++i;
    if (i >= s.size() || !IsDigit(s[i]))
      return false;
    for (; i < s.size() && (IsDigit(s[i]) || s[i] == '_'); ++i) {
      if (s[i] == '_')
        underscores = true;
    }
  } else if (hex) {
    return false;  // a hex mantissa needs a 'p' exponent
  }
  if (i != s.size())
    return false;
  if (underscores && !UnderscoresOk(s))
    return false;

  std::string clean;
  clean.reserve(s.size());
  for (size_t j = mantissa_start; j < s.size(); ++j) {
    if (s[j] != '_')
      clean.push_back(s[j]);
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), value,
                                   hex ? std::chars_format::hex : std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    // Tell overflow (an error in Go) from underflow (a tiny or zero result in Go).
    std::string c_form = hex ? "0x" + clean : clean;
    value = std::strtod(c_form.c_str(), nullptr);
    if (std::isinf(value))
      return false;
  } else if (ec != std::errc() || ptr != clean.data() + clean.size()) {
    return false;
  }
  *out = negative ? -value : value;
  return true;
}

// --- Calendar ----------------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct CivilDate {
  int64_t year;
  int month;
  int day;
};

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int day = static_cast<int>(day_of_year - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool IsLeapYear(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// --- Go's time.Parse(time.RFC3339Nano, s) ------------------------------------------------------

// Reads exactly `width` ASCII digits.
bool ReadFixed(std::string_view& s, size_t width, int64_t* out) {
  if (s.size() < width)
    return false;
  int64_t v = 0;
  for (size_t i = 0; i < width; ++i) {
    if (!IsDigit(s[i]))
      return false;
    v = v * 10 + (s[i] - '0');
  }
  s.remove_prefix(width);
  *out = v;
  return true;
}

bool Expect(std::string_view& s, char c) {
  if (s.empty() || s[0] != c)
    return false;
  s.remove_prefix(1);
  return true;
}

// Go (1.19, which built Prometheus 2.42) parses "2006-01-02T15:04:05.999999999Z07:00" as: a
// 4-digit year, 2-digit month and day, a 1- or 2-digit hour, 2-digit minute and second, an
// optional fraction after '.' or ',' of 1 to 9 digits, then 'Z' or a ±hh:mm offset. Ranges are
// checked (hour < 24, minute and second < 60, day within the month), offsets are not.
bool ParseGoRfc3339(std::string_view s, GoTime* t) {
  int64_t year, month, day, hour, minute, second, nanos = 0;
  if (!ReadFixed(s, 4, &year) || !Expect(s, '-') || !ReadFixed(s, 2, &month) || !Expect(s, '-') ||
      !ReadFixed(s, 2, &day) || !Expect(s, 'T')) {
    return false;
  }
  // Hour: one or two digits.
  if (s.empty() || !IsDigit(s[0]))
    return false;
  hour = s[0] - '0';
  s.remove_prefix(1);
  if (!s.empty() && IsDigit(s[0])) {
    hour = hour * 10 + (s[0] - '0');
    s.remove_prefix(1);
  }
  if (!Expect(s, ':') || !ReadFixed(s, 2, &minute) || !Expect(s, ':') ||
      !ReadFixed(s, 2, &second)) {
    return false;
  }
  if (s.size() >= 2 && (s[0] == '.' || s[0] == ',') && IsDigit(s[1])) {
    size_t digits = 1;
    while (digits + 1 < s.size() && IsDigit(s[digits + 1]))
      ++digits;
    if (digits > 9)
      return false;  // Go 1.19: "fractional second out of range"
    int64_t frac = 0;
    std::string_view f = s.substr(1, digits);
    ReadFixed(f, digits, &frac);
    for (size_t i = digits; i < 9; ++i)
      frac *= 10;
    nanos = frac;
    s.remove_prefix(1 + digits);
  }
  int64_t offset_seconds = 0;
  if (!s.empty() && s[0] == 'Z') {
    s.remove_prefix(1);
  } else {
    if (s.size() < 6 || s[3] != ':')
      return false;
    char sign = s[0];
    s.remove_prefix(1);
    int64_t offset_hours, offset_minutes;
    if (!ReadFixed(s, 2, &offset_hours) || !Expect(s, ':') || !ReadFixed(s, 2, &offset_minutes)) {
      return false;
    }
    if (sign != '+' && sign != '-')
      return false;
    offset_seconds = (offset_hours * 60 + offset_minutes) * 60;
    if (sign == '-')
      offset_seconds = -offset_seconds;
  }
  if (!s.empty())
    return false;  // extra text
  if (month < 1 || month > 12 || hour >= 24 || minute >= 60 || second >= 60)
    return false;
  if (day < 1 || day > DaysInMonth(year, static_cast<int>(month)))
    return false;
  int64_t unix_seconds =
      DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day)) * 86400 + hour * 3600 +
      minute * 60 + second - offset_seconds;
  *t = GoTime{unix_seconds, nanos};
  return true;
}

// Go's RFC3339Nano formatting of a whole second (no fraction), used for Prometheus' min/max.
std::string FormatGoRfc3339Seconds(int64_t unix_seconds, std::string_view fraction) {
  int64_t days = unix_seconds / 86400;
  int64_t rem = unix_seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  CivilDate date = CivilFromDays(days);
  std::string year = std::to_string(date.year < 0 ? -date.year : date.year);
  if (year.size() < 4)
    year.insert(0, 4 - year.size(), '0');
  char buf[32];
  std::snprintf(buf, sizeof(buf), "-%02d-%02dT%02d:%02d:%02d", date.month, date.day,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                static_cast<int>(rem % 60));
  return absl::StrCat(date.year < 0 ? "-" : "", year, buf, ToAbsl(fraction), "Z");
}

// Prometheus' minTime/maxTime (time.Unix(math.MinInt64/1000+62135596801, 0) and
// time.Unix(math.MaxInt64/1000-62135596801, 999999999)) in RFC3339Nano, which Go's parser cannot
// read back (years beyond 9999) and so are matched literally.
const std::string& MinTimeText() {
  static const std::string* text =
      new std::string(FormatGoRfc3339Seconds(kInt64Min / 1000 + 62135596801, ""));
  return *text;
}

const std::string& MaxTimeText() {
  static const std::string* text =
      new std::string(FormatGoRfc3339Seconds(kInt64Max / 1000 - 62135596801, ".999999999"));
  return *text;
}

}  // namespace

absl::StatusOr<int64_t> ParseDuration(std::string_view s) {
  if (s == "0")
    return 0;
  if (s.empty())
    return absl::InvalidArgumentError("empty duration string");
  auto invalid = [&] {
    return absl::InvalidArgumentError(absl::StrCat("not a valid duration string: ", GoQuote(s)));
  };

  // Like Prometheus, check the syntax first and the range after.
  struct Part {
    std::string_view digits;
    int64_t unit_millis;
  };

  Part parts[std::size(kUnits)];
  size_t num_parts = 0;
  size_t next_unit = 0;  // units must appear in kUnits order, each at most once
  std::string_view rest = s;
  while (!rest.empty()) {
    size_t n = 0;
    while (n < rest.size() && IsDigit(rest[n]))
      ++n;
    if (n == 0)
      return invalid();
    std::string_view digits = rest.substr(0, n);
    rest.remove_prefix(n);
    size_t unit_idx;
    if (rest.starts_with("ms")) {
      unit_idx = 6;
    } else if (!rest.empty()) {
      unit_idx = std::string_view("ywdhms").find(rest[0]);
      if (unit_idx == std::string_view::npos)
        return invalid();
    } else {
      return invalid();
    }
    if (unit_idx < next_unit)
      return invalid();
    rest.remove_prefix(kUnits[unit_idx].name.size());
    next_unit = unit_idx + 1;
    parts[num_parts++] = Part{digits, kUnits[unit_idx].millis};
  }
  // The total must fit Go's time.Duration (int64 nanoseconds).
  const int64_t max_millis = kInt64Max / kNanosPerMilli;
  int64_t total = 0;
  for (size_t i = 0; i < num_parts; ++i) {
    const int64_t limit = kInt64Max / parts[i].unit_millis / kNanosPerMilli;
    int64_t count = 0;
    for (char c : parts[i].digits) {
      count = count * 10 + (c - '0');
      if (count > limit)
        return absl::InvalidArgumentError("duration out of range");
    }
    total += count * parts[i].unit_millis;
    if (total > max_millis)
      return absl::InvalidArgumentError("duration out of range");
  }
  return total;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0)
    return "0s";
  std::string out;
  for (const DurationUnit& unit : kUnits) {
    int64_t count = ms / unit.millis;
    if (count > 0) {
      absl::StrAppend(&out, count, ToAbsl(unit.name));
      ms -= count * unit.millis;
    }
  }
  return out;
}

namespace {

// Prometheus web/api/v1 parseTime.
absl::StatusOr<GoTime> ParseGoApiTime(std::string_view s) {
  double f;
  if (GoParseFloat(s, &f)) {
    // s, ns := math.Modf(t); ns = math.Round(ns*1000) / 1000;
    // time.Unix(int64(s), int64(ns*1e9)). Go's Modf(±Inf) has a NaN fraction.
    double whole = f;
    double frac = std::numeric_limits<double>::quiet_NaN();
    if (!std::isinf(f))
      frac = std::modf(f, &whole);
    frac = std::round(frac * 1000) / 1000;
    return GoUnix(GoFloatToInt64(whole), GoFloatToInt64(frac * 1e9));
  }
  GoTime t;
  if (ParseGoRfc3339(s, &t))
    return t;
  if (s == MinTimeText())
    return GoTime{kInt64Min / 1000 + 62135596801, 0};
  if (s == MaxTimeText())
    return GoTime{kInt64Max / 1000 - 62135596801, 999999999};
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse ", GoQuote(s), " to a valid timestamp"));
}

}  // namespace

absl::StatusOr<int64_t> ParseApiTime(std::string_view s) {
  absl::StatusOr<GoTime> t = ParseGoApiTime(s);
  if (!t.ok())
    return t.status();
  return EngineMillis(*t);
}

absl::StatusOr<int64_t> ParseApiTimestamp(std::string_view s) {
  absl::StatusOr<GoTime> t = ParseGoApiTime(s);
  if (!t.ok())
    return t.status();
  return FromTimeMillis(*t);
}

absl::StatusOr<int64_t> ParseApiDuration(std::string_view s) {
  double f;
  if (GoParseFloat(s, &f)) {
    const double nanos = f * 1e9;
    if (nanos > 9223372036854775807.0 || nanos < -9223372036854775808.0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse ", GoQuote(s), " to a valid duration. It overflows int64"));
    }
    // time.Duration(nanos), then the engine's truncation to milliseconds.
    return GoFloatToInt64(nanos) / kNanosPerMilli;
  }
  if (auto d = ParseDuration(s); d.ok())
    return *d;
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse ", GoQuote(s), " to a valid duration"));
}

std::string FormatRfc3339Millis(int64_t ms) {
  int64_t seconds = ms / 1000;
  int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03d", static_cast<int>(millis));
  return FormatGoRfc3339Seconds(seconds, frac);
}

}  // namespace paodin::engine
