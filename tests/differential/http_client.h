// A small blocking HTTP/1.1 client over loopback (Boost.Beast), enough to talk to a local
// Prometheus: GET with a query string, POST with a body and extra headers. One connection per
// request; no exceptions escape.
#ifndef PAODIN_TESTS_DIFFERENTIAL_HTTP_CLIENT_H_
#define PAODIN_TESTS_DIFFERENTIAL_HTTP_CLIENT_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace paodin::differential {

// A response: status code and body.
struct HttpResponse {
  int status = 0;
  std::string body;
};

// Percent-encodes `s` for a URL query component (RFC 3986 unreserved characters kept).
std::string UrlEncode(std::string_view s);

// Sends one request to http://127.0.0.1:`port``target` and reads the whole response. `target`
// is the path plus query string. Fails with Unavailable when the connection or the exchange
// fails (a non-2xx status is not an error: it is returned).
absl::StatusOr<HttpResponse> HttpRequest(
    int port, std::string_view method, std::string_view target, std::string_view body = {},
    const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace paodin::differential

#endif  // PAODIN_TESTS_DIFFERENTIAL_HTTP_CLIENT_H_
