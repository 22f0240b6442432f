#include "http/testing/http_client.h"

#include <algorithm>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/gzip.h"

namespace paodin::http::testing {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpClient::State {
  net::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
};

std::string Reply::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

HttpClient::HttpClient(int port) : state_(std::make_unique<State>()) {
  beast::error_code ec;
  state_->socket.connect(
      tcp::endpoint(net::ip::address_v4::loopback(), static_cast<uint16_t>(port)), ec);
}

HttpClient::~HttpClient() { Close(); }

Reply HttpClient::Send(std::string_view method, const std::string& target, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& headers) {
  bhttp::request<bhttp::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers)
    req.set(k, v);
  if (!body.empty() || method == "POST") {
    if (req[bhttp::field::content_type].empty()) {
      req.set(bhttp::field::content_type, "application/x-www-form-urlencoded");
    }
    req.body() = body;
    req.prepare_payload();
  }
  beast::error_code ec;
  bhttp::write(state_->socket, req, ec);
  return Read();
}

void HttpClient::SendRaw(std::string_view bytes) {
  beast::error_code ec;
  net::write(state_->socket, net::buffer(bytes.data(), bytes.size()), ec);
}

Reply HttpClient::Read() {
  Reply r;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1ull << 32);
  beast::error_code ec;
  bhttp::read(state_->socket, state_->buffer, parser, ec);
  if (ec)
    return r;
  auto& res = parser.get();
  r.ok = true;
  r.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers[name] = std::string(f.value());
  }
  r.body = res.body();
  if (r.Header("content-encoding") == "gzip") {
    absl::StatusOr<std::string> plain = GzipDecompress(r.body);
    r.body = plain.ok() ? *plain : "<bad gzip>";
  }
  return r;
}

bool HttpClient::PeerClosed() {
  beast::error_code ec;
  char c;
  state_->socket.read_some(net::buffer(&c, 1), ec);
  return ec == net::error::eof || ec == net::error::connection_reset;
}

void HttpClient::Close() {
  beast::error_code ec;
  state_->socket.shutdown(tcp::socket::shutdown_both, ec);
  state_->socket.close(ec);
}

int FreePort() {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace paodin::http::testing
