#include "http/json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace paodin::http {
namespace {

void AppendNonFinite(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("NaN");
  } else if (v > 0) {
    out.append("+Inf");
  } else {
    out.append("-Inf");
  }
}

void AppendShortest(std::string& out, double v, std::chars_format format) {
  // The longest shortest-form double in fixed notation is 5e-324: 327 characters.
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
  if (ec != std::errc()) {
    out.append("NaN");  // Unreachable: the buffer fits every double.
    return;
  }
  out.append(buf, end);
}

// The length of the valid UTF-8 sequence at s[i], or 0 when the byte there does not start one
// (Go's utf8.DecodeRuneInString rules: no overlongs, no surrogates, nothing above U+10FFFF).
size_t ValidUtf8Length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  unsigned char c1 = byte(i + 1);
  if (c1 < lo || c1 > hi)
    return 0;
  for (size_t k = 2; k < n; ++k) {
    unsigned char ck = byte(i + k);
    if (ck < 0x80 || ck > 0xBF)
      return 0;
  }
  return n;
}

}  // namespace

void AppendSampleValue(std::string& out, double v) {
  if (!std::isfinite(v)) {
    AppendNonFinite(out, v);
    return;
  }
  double abs = std::fabs(v);
  bool exponent = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  AppendShortest(out, v, exponent ? std::chars_format::scientific : std::chars_format::fixed);
}

void AppendScalarValue(std::string& out, double v) {
  if (!std::isfinite(v)) {
    AppendNonFinite(out, v);
    return;
  }
  AppendShortest(out, v, std::chars_format::fixed);
}

void AppendSampleTimestamp(std::string& out, int64_t ms) {
  // Work on the magnitude as unsigned, so the most negative int64 does not overflow.
  uint64_t mag = ms < 0 ? ~static_cast<uint64_t>(ms) + 1 : static_cast<uint64_t>(ms);
  if (ms < 0)
    out.push_back('-');
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, mag / 1000);
  out.append(buf, end);
  uint64_t frac = mag % 1000;
  if (frac != 0) {
    out.push_back('.');
    out.push_back(static_cast<char>('0' + frac / 100));
    out.push_back(static_cast<char>('0' + frac / 10 % 10));
    out.push_back(static_cast<char>('0' + frac % 10));
  }
}

void AppendFloatTimestamp(std::string& out, int64_t ms) {
  // encoding/json switches to exponent form below 1e-6 and from 1e21; neither is reachable from
  // whole milliseconds except 0, which prints as "0" either way.
  AppendShortest(out, static_cast<double>(ms) / 1000, std::chars_format::fixed);
}

void AppendGoJsonFloat(std::string& out, double v) {
  double abs = std::fabs(v);
  if (abs != 0 && (abs < 1e-6 || abs >= 1e21)) {
    size_t begin = out.size();
    AppendShortest(out, v, std::chars_format::scientific);
    size_t n = out.size() - begin;
    // "e-07" -> "e-7", as encoding/json cleans up strconv's exponent.
    if (n >= 4 && out[out.size() - 4] == 'e' && out[out.size() - 3] == '-' &&
        out[out.size() - 2] == '0') {
      out.erase(out.size() - 2, 1);
    }
    return;
  }
  AppendShortest(out, v, std::chars_format::fixed);
}

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t start = 0;  // first byte not yet copied
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        ++i;
        continue;
      }
      out.append(s.data() + start, i - start);
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
      }
      start = ++i;
      continue;
    }
    size_t n = ValidUtf8Length(s, i);
    if (n == 0) {
      out.append(s.data() + start, i - start);
      out.append("\\ufffd");
      start = ++i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8 / E2 80 A9) are escaped for JavaScript's sake.
    if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out.append(s.data() + start, i - start);
      out.append(static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029");
      i += 3;
      start = i;
      continue;
    }
    i += n;
  }
  out.append(s.data() + start, s.size() - start);
  out.push_back('"');
}

}  // namespace paodin::http
