#include "http/form.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/model/matcher.h"
#include "engine/util/strings.h"

namespace paodin::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> Unescape(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || HexValue(s[i + 1]) < 0 || HexValue(s[i + 2]) < 0) {
        std::string_view bad = s.substr(i, 3);
        return absl::InvalidArgumentError(
            absl::StrCat("invalid URL escape ", engine::GoQuote(bad)));
      }
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> QueryUnescape(std::string_view s) { return Unescape(s, true); }

absl::StatusOr<std::string> PathUnescape(std::string_view s) { return Unescape(s, false); }

void Form::ParseQueryInto(std::string_view query) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.find(';') != std::string_view::npos) {
      if (parse_error_.ok()) {
        parse_error_ = absl::InvalidArgumentError("invalid semicolon separator in query");
      }
      continue;
    }
    if (pair.empty())
      continue;
    size_t eq = pair.find('=');
    std::string_view raw_key = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    absl::StatusOr<std::string> key = QueryUnescape(raw_key);
    if (!key.ok()) {
      if (parse_error_.ok())
        parse_error_ = key.status();
      continue;
    }
    absl::StatusOr<std::string> value = QueryUnescape(raw_value);
    if (!value.ok()) {
      if (parse_error_.ok())
        parse_error_ = value.status();
      continue;
    }
    pairs_.emplace_back(*std::move(key), *std::move(value));
  }
}

Form Form::Parse(std::string_view method, std::string_view url_query, std::string_view content_type,
                 std::string_view body) {
  Form form;
  if (method == "POST" || method == "PUT" || method == "PATCH") {
    // The media type without parameters, compared case-insensitively (mime.ParseMediaType).
    std::string_view media = content_type.substr(0, content_type.find(';'));
    media = ToStd(absl::StripAsciiWhitespace(ToAbsl(media)));
    if (absl::EqualsIgnoreCase(ToAbsl(media), "application/x-www-form-urlencoded")) {
      form.ParseQueryInto(body);
    }
  }
  form.ParseQueryInto(url_query);
  return form;
}

std::string_view Form::Value(std::string_view key) const {
  for (const auto& [k, v] : pairs_) {
    if (k == key)
      return v;
  }
  return {};
}

std::vector<std::string_view> Form::Values(std::string_view key) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : pairs_) {
    if (k == key)
      out.push_back(v);
  }
  return out;
}

bool Form::Has(std::string_view key) const {
  for (const auto& [k, v] : pairs_) {
    if (k == key)
      return true;
  }
  return false;
}

}  // namespace paodin::http
