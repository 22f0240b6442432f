// Label matchers with Prometheus semantics: `=`, `!=`, `=~`, `!~`. Regexes are fully anchored
// RE2 (`^(?:re)$`), `.` does not match a newline (as in Prometheus 2.42), and a matcher that
// matches the empty string also matches series that lack the label.
#ifndef PAODIN_ENGINE_MODEL_MATCHER_H_
#define PAODIN_ENGINE_MODEL_MATCHER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace paodin::engine {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// The operator text: "=", "!=", "=~", "!~".
std::string_view MatchTypeString(MatchType type);

// One label matcher. Cheap to copy (the compiled regex is shared).
class Matcher {
 public:
  // Builds a matcher; fails with InvalidArgument and a Go-style message
  // ("error parsing regexp: missing closing ): `(a`") when the regex does not compile.
  static absl::StatusOr<Matcher> Make(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }

  const std::string& name() const { return name_; }

  const std::string& value() const { return value_; }

  // True when `label_value` satisfies the matcher. A missing label is the empty string.
  bool Matches(std::string_view label_value) const;

  // True when the matcher accepts the empty string (and so series without the label).
  bool MatchesEmpty() const { return matches_empty_; }

  // The Prometheus text form: name="value", name=~"re", with Go string quoting.
  std::string ToString() const;

  friend bool operator==(const Matcher& a, const Matcher& b) {
    return a.type_ == b.type_ && a.name_ == b.name_ && a.value_ == b.value_;
  }

 private:
  Matcher(MatchType type, std::string name, std::string value)
      : type_(type), name_(std::move(name)), value_(std::move(value)) {}

  bool RegexMatches(std::string_view s) const;

  MatchType type_;
  std::string name_;
  std::string value_;
  // For regex matchers: a literal or a set of literal alternatives is matched without RE2.
  std::shared_ptr<const re2::RE2> regex_;
  std::vector<std::string> literal_set_;
  bool use_literal_set_ = false;
  bool matches_empty_ = false;
};

// Quotes `s` as Go's strconv.Quote does (double quotes, \" \\ \n \t and \x/\u escapes for
// non-printable runes), which is how Prometheus prints label values in selectors.
std::string GoQuote(std::string_view s);

}  // namespace paodin::engine

#endif  // PAODIN_ENGINE_MODEL_MATCHER_H_
