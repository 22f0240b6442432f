// Request parameters with Go's net/http semantics (Request.ParseForm / FormValue / Form): the
// pairs of an application/x-www-form-urlencoded body of a POST, PUT or PATCH come first, then
// the pairs of the URL query; repeated keys keep every value in that order.
#ifndef PAODIN_HTTP_FORM_H_
#define PAODIN_HTTP_FORM_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace paodin::http {

// Go's url.QueryUnescape: "+" is a space and "%XX" a byte. Fails with InvalidArgument
// `invalid URL escape "%zz"` on a malformed escape.
absl::StatusOr<std::string> QueryUnescape(std::string_view s);

// Go's url.PathUnescape: like QueryUnescape but "+" stays a plus.
absl::StatusOr<std::string> PathUnescape(std::string_view s);

// The parameters of one request.
class Form {
 public:
  Form() = default;

  // Parses the URL query (the part after "?", without it) and, for POST, PUT and PATCH with a
  // form-encoded content type, the body. Malformed pairs are skipped, as Go does; the first
  // problem is kept in parse_error().
  static Form Parse(std::string_view method, std::string_view url_query,
                    std::string_view content_type, std::string_view body);

  // The first value of `key`, or "" when absent (Go's FormValue).
  std::string_view Value(std::string_view key) const;

  // Every value of `key` in order: body values, then URL values (Go's r.Form[key]).
  std::vector<std::string_view> Values(std::string_view key) const;

  // True when `key` was given at all, even with an empty value.
  bool Has(std::string_view key) const;

  // OK, or the first error met while parsing (Go's ParseForm error), e.g.
  // `invalid URL escape "%zz"` or `invalid semicolon separator in query`.
  const absl::Status& parse_error() const { return parse_error_; }

  // Every pair in order.
  const std::vector<std::pair<std::string, std::string>>& pairs() const { return pairs_; }

 private:
  void ParseQueryInto(std::string_view query);

  std::vector<std::pair<std::string, std::string>> pairs_;
  absl::Status parse_error_;
};

}  // namespace paodin::http

#endif  // PAODIN_HTTP_FORM_H_
