#include "engine/promql/go_format.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace paodin::engine::promql {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool IsCont(unsigned char c) { return (c & 0xc0) == 0x80; }

void AppendHex(std::string& out, uint32_t v, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out.push_back(kHex[(v >> shift) & 0xf]);
}

// Appends `rune` quoted as strconv.Quote would inside `quote`.
void AppendQuotedRune(std::string& out, int32_t rune, char quote) {
  if (rune == quote || rune == '\\') {
    out.push_back('\\');
    out.push_back(static_cast<char>(rune));
    return;
  }
  if (GoIsPrint(rune)) {
    AppendUtf8(out, rune);
    return;
  }
  switch (rune) {
    case '\a':
      out.append("\\a");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    case '\v':
      out.append("\\v");
      return;
    default:
      break;
  }
  if (rune < ' ' || rune == 0x7f) {
    out.append("\\x");
    AppendHex(out, static_cast<uint32_t>(rune), 2);
  } else if (rune < 0x10000) {
    out.append("\\u");
    AppendHex(out, static_cast<uint32_t>(rune), 4);
  } else {
    out.append("\\U");
    AppendHex(out, static_cast<uint32_t>(rune), 8);
  }
}

}  // namespace

DecodedRune DecodeRune(std::string_view s, size_t pos) {
  if (pos >= s.size())
    return {-1, 0};
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + pos;
  size_t left = s.size() - pos;
  unsigned char c0 = p[0];
  if (c0 < 0x80)
    return {c0, 1};
  constexpr DecodedRune kBad{0xfffd, 1};
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    if (left < 2 || !IsCont(p[1]))
      return kBad;
    return {((c0 & 0x1f) << 6) | (p[1] & 0x3f), 2};
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    if (left < 3)
      return kBad;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c0 == 0xe0)
      lo = 0xa0;
    if (c0 == 0xed)
      hi = 0x9f;
    if (p[1] < lo || p[1] > hi || !IsCont(p[2]))
      return kBad;
    return {((c0 & 0x0f) << 12) | ((p[1] & 0x3f) << 6) | (p[2] & 0x3f), 3};
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    if (left < 4)
      return kBad;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c0 == 0xf0)
      lo = 0x90;
    if (c0 == 0xf4)
      hi = 0x8f;
    if (p[1] < lo || p[1] > hi || !IsCont(p[2]) || !IsCont(p[3]))
      return kBad;
    return {((c0 & 0x07) << 18) | ((p[1] & 0x3f) << 12) | ((p[2] & 0x3f) << 6) | (p[3] & 0x3f), 4};
  }
  return kBad;
}

void AppendUtf8(std::string& out, int32_t r) {
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
    r = 0xfffd;
  auto u = static_cast<uint32_t>(r);
  if (u < 0x80) {
    out.push_back(static_cast<char>(u));
  } else if (u < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (u >> 6)));
    out.push_back(static_cast<char>(0x80 | (u & 0x3f)));
  } else if (u < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (u >> 12)));
    out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (u & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (u >> 18)));
    out.push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (u & 0x3f)));
  }
}

bool GoIsPrint(int32_t r) {
  if (r < 0x80)
    return r >= 0x20 && r < 0x7f;
  if (r > 0x10ffff)
    return false;
  // Ranges Go's unicode.IsPrint rejects: controls, format characters, spaces other than
  // U+0020, surrogates, private use, noncharacters. (Unassigned code points are not tracked.)
  static constexpr int32_t kNotPrint[][2] = {
      {0x80, 0xa0},       {0xad, 0xad},       {0x600, 0x605},      {0x61c, 0x61c},
      {0x6dd, 0x6dd},     {0x70f, 0x70f},     {0x1680, 0x1680},    {0x180e, 0x180e},
      {0x2000, 0x200f},   {0x2028, 0x202f},   {0x205f, 0x2064},    {0x2066, 0x206f},
      {0x3000, 0x3000},   {0xd800, 0xf8ff},   {0xfdd0, 0xfdef},    {0xfeff, 0xfeff},
      {0xfff9, 0xfffb},   {0x110bd, 0x110bd}, {0x1bca0, 0x1bca3},  {0x1d173, 0x1d17a},
      {0xe0001, 0xe0001}, {0xe0020, 0xe007f}, {0xf0000, 0x10ffff},
  };
  for (const auto& range : kNotPrint) {
    if (r >= range[0] && r <= range[1])
      return false;
  }
  return (r & 0xfffe) != 0xfffe;
}

std::string GoQuoteRune(int32_t rune) {
  if (rune < 0 || rune > 0x10ffff || (rune >= 0xd800 && rune < 0xe000))
    rune = 0xfffd;
  std::string out = "'";
  AppendQuotedRune(out, rune, '\'');
  out.push_back('\'');
  return out;
}

std::string GoUnicodeFormat(int32_t rune) {
  std::string out = "U+";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04X", static_cast<unsigned>(rune));
  out.append(buf);
  if (rune >= 0 && GoIsPrint(rune)) {
    out.append(" '");
    AppendUtf8(out, rune);
    out.push_back('\'');
  }
  return out;
}

std::string GoQuoteString(std::string_view s, bool escape_replacement_char) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  for (size_t i = 0; i < s.size();) {
    DecodedRune d = DecodeRune(s, i);
    if (d.rune == 0xfffd && d.width == 1) {
      out.append("\\x");
      AppendHex(out, static_cast<unsigned char>(s[i]), 2);
    } else if (d.rune == 0xfffd && escape_replacement_char) {
      out.append("\\ufffd");
    } else {
      AppendQuotedRune(out, d.rune, '"');
    }
    i += d.width;
  }
  out.push_back('"');
  return out;
}

std::string GoQuotePrefix(std::string_view s, size_t max_runes) {
  size_t i = 0;
  for (size_t n = 0; n < max_runes && i < s.size(); ++n)
    i += DecodeRune(s, i).width;
  return GoQuoteString(s.substr(0, i));
}

std::string GoFormatFloat(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  bool neg = false;
  if (!sci.empty() && sci[0] == '-') {
    neg = true;
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.')
      digits.push_back(c);
  }
  int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();
  std::string out = neg ? "-" : "";
  if (v == 0) {
    out.append("0");
    return out;
  }
  if (exp < -4 || exp >= 6) {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(exp < 0 ? '-' : '+');
    int a = exp < 0 ? -exp : exp;
    if (a < 10)
      out.push_back('0');
    out.append(std::to_string(a));
    return out;
  }
  int dp = exp + 1;
  int n = static_cast<int>(digits.size());
  if (dp <= 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-dp), '0');
    out.append(digits);
  } else if (dp >= n) {
    out.append(digits);
    out.append(static_cast<size_t>(dp - n), '0');
  } else {
    out.append(digits, 0, static_cast<size_t>(dp));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(dp));
  }
  return out;
}

std::string GoFormatFloatF(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%.6f", v);
  return buf;
}

namespace {

// strconv.ParseInt(s, 0, 64) for the unsigned forms the lexer can produce.
std::optional<int64_t> ParseIntBase0(std::string_view s) {
  int base = 10;
  std::string_view digits = s;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    digits = s.substr(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    digits = s.substr(1);
  }
  if (digits.empty())
    return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base)
      return std::nullopt;
    if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / base) {
      return std::nullopt;  // out of range
    }
    v = v * base + d;
  }
  return static_cast<int64_t>(v);
}

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i])
      return false;
  }
  return true;
}

// True when `s` is a decimal float in Go's syntax: [+-]digits[.digits][e[+-]digits], with at
// least one mantissa digit.
bool IsDecimalFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    ++i;
  size_t mant = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i, ++mant;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i, ++mant;
  }
  if (mant == 0)
    return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
      ++i;
    size_t exp = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i, ++exp;
    if (exp == 0)
      return false;
  }
  return i == s.size();
}

}  // namespace

std::optional<double> GoParseNumber(std::string_view s, std::string* error) {
  if (std::optional<int64_t> i = ParseIntBase0(s))
    return static_cast<double>(*i);
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (EqualFold(body, "inf") || EqualFold(body, "infinity")) {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (EqualFold(body, "nan"))
    return std::numeric_limits<double>::quiet_NaN();
  if (!IsDecimalFloat(s)) {
    *error = "strconv.ParseFloat: parsing " + GoQuoteString(s) + ": invalid syntax";
    return std::nullopt;
  }
  std::string copy(s);
  errno = 0;
  double v = std::strtod(copy.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(v)) {
    *error = "strconv.ParseFloat: parsing " + GoQuoteString(s) + ": value out of range";
    return std::nullopt;
  }
  return v;
}

}  // namespace paodin::engine::promql
