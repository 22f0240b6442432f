#include "tests/differential/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"

namespace paodin::differential {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<HttpResponse> HttpRequest(
    int port, std::string_view method, std::string_view target, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  auto fail = [&](std::string_view what, const beast::error_code& ec) {
    return absl::UnavailableError(
        absl::StrCat("http ", absl::string_view(method.data(), method.size()), " ", port, ": ",
                     absl::string_view(what.data(), what.size()), ": ", ec.message()));
  };
  boost::asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  tcp::endpoint endpoint(boost::asio::ip::make_address_v4("127.0.0.1", ec),
                         static_cast<unsigned short>(port));
  if (ec)
    return fail("address", ec);
  socket.connect(endpoint, ec);
  if (ec)
    return fail("connect", ec);

  http::request<http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(http::field::host, absl::StrCat("127.0.0.1:", port));
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : headers)
    req.set(name, value);
  req.body() = std::string(body);
  req.prepare_payload();
  http::write(socket, req, ec);
  if (ec)
    return fail("write", ec);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ULL << 30);
  http::read(socket, buffer, parser, ec);
  if (ec)
    return fail("read", ec);
  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.body = std::move(parser.get().body());
  socket.shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

}  // namespace paodin::differential
