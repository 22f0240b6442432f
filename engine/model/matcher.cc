#include "engine/model/matcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/util/strings.h"
#include "re2/re2.h"

namespace paodin::engine {
namespace {

// Go's regexp/syntax error texts for the RE2 error codes that have one.
std::string_view GoErrorText(re2::RE2::ErrorCode code) {
  switch (code) {
    case re2::RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case re2::RE2::ErrorBadCharClass:
      return "invalid character class";
    case re2::RE2::ErrorBadCharRange:
      return "invalid character class range";
    case re2::RE2::ErrorMissingBracket:
      return "missing closing ]";
    case re2::RE2::ErrorMissingParen:
      return "missing closing )";
    case re2::RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case re2::RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case re2::RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case re2::RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case re2::RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case re2::RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case re2::RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case re2::RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    default:
      return "invalid regular expression";
  }
}

bool HasRegexMeta(std::string_view s) {
  return s.find_first_of("\\.+*?()|[]{}^$") != std::string_view::npos;
}

// RE2 accepts `\C` (any byte), Go's regexp does not: find it as Go would report it.
bool HasAnyByteEscape(std::string_view re) {
  for (size_t i = 0; i + 1 < re.size(); ++i) {
    if (re[i] == '\\') {
      if (re[i + 1] == 'C') {
        return true;
      }
      ++i;  // skip the escaped character
    }
  }
  return false;
}

}  // namespace

std::string_view MatchTypeString(MatchType type) {
  switch (type) {
    case MatchType::kEqual:
      return "=";
    case MatchType::kNotEqual:
      return "!=";
    case MatchType::kRegexMatch:
      return "=~";
    case MatchType::kRegexNoMatch:
      return "!~";
  }
  return "=";
}

absl::StatusOr<Matcher> Matcher::Make(MatchType type, std::string name, std::string value) {
  Matcher m(type, std::move(name), std::move(value));
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    if (HasAnyByteEscape(m.value_)) {
      return absl::InvalidArgumentError("error parsing regexp: invalid escape sequence: `\\C`");
    }
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(false);
    auto re = std::make_shared<const re2::RE2>(absl::StrCat("^(?:", m.value_, ")$"), options);
    if (!re->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("error parsing regexp: ", ToAbsl(GoErrorText(re->error_code())), ": `",
                       re->error_arg(), "`"));
    }
    m.regex_ = std::move(re);
    // `a|b|c` of plain literals (the shape Grafana's multi-value variables produce) is a set.
    std::vector<std::string> parts = absl::StrSplit(m.value_, '|');
    if (std::none_of(parts.begin(), parts.end(),
                     [](const std::string& p) { return HasRegexMeta(p); })) {
      m.literal_set_ = std::move(parts);
      m.use_literal_set_ = true;
    }
  }
  m.matches_empty_ = m.Matches("");
  return m;
}

bool Matcher::RegexMatches(std::string_view s) const {
  if (use_literal_set_) {
    return std::find(literal_set_.begin(), literal_set_.end(), s) != literal_set_.end();
  }
  return re2::RE2::FullMatch(s, *regex_);
}

bool Matcher::Matches(std::string_view label_value) const {
  switch (type_) {
    case MatchType::kEqual:
      return label_value == value_;
    case MatchType::kNotEqual:
      return label_value != value_;
    case MatchType::kRegexMatch:
      return RegexMatches(label_value);
    case MatchType::kRegexNoMatch:
      return !RegexMatches(label_value);
  }
  return false;
}

std::string Matcher::ToString() const {
  return absl::StrCat(name_, ToAbsl(MatchTypeString(type_)), GoQuote(value_));
}

std::string GoQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\a':
          out.append("\\a");
          break;
        case '\b':
          out.append("\\b");
          break;
        case '\f':
          out.append("\\f");
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
        case '\v':
          out.append("\\v");
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            out.append("\\x");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    // Multi-byte UTF-8: copy a valid sequence, escape each byte of an invalid one.
    size_t len = (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = len != 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    }
    if (valid) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      ++i;
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace paodin::engine
