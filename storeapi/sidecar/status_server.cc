#include "storeapi/sidecar/status_server.h"

#include <atomic>
#include <exception>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sys/socket.h>
#include <sys/time.h>

namespace paodin::storeapi {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct StatusServer::Impl {
  StatusServerOptions options;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::atomic<bool> stopping{false};
  std::thread thread;

  void Serve() {
    while (!stopping.load()) {
      beast::error_code ec;
      tcp::socket socket(ioc);
      acceptor.accept(socket, ec);
      if (ec) {
        if (stopping.load()) {
          return;
        }
        continue;
      }
      Handle(socket);
    }
  }

  void Handle(tcp::socket& socket) {
    // A client that sends nothing cannot hold the server for long.
    timeval tv{5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    beast::flat_buffer buffer;
    bhttp::request<bhttp::empty_body> req;
    beast::error_code ec;
    bhttp::read(socket, buffer, req, ec);
    if (ec) {
      return;
    }
    bhttp::response<bhttp::string_body> res;
    res.version(11);
    res.keep_alive(false);
    const std::string_view target(req.target().data(), req.target().size());
    const std::string_view path = target.substr(0, target.find('?'));
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      res.result(bhttp::status::method_not_allowed);
      res.body() = "method not allowed\n";
    } else if (path == "/metrics") {
      res.result(bhttp::status::ok);
      res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      if (options.registry != nullptr) {
        try {
          if (options.before_scrape != nullptr) {
            options.before_scrape();
          }
          res.body() = prometheus::TextSerializer().Serialize(options.registry->Collect());
        } catch (const std::exception& e) {
          res.result(bhttp::status::internal_server_error);
          res.body() = fmt::format("collecting metrics failed: {}\n", e.what());
        }
      }
    } else if (path == "/-/healthy") {
      res.result(bhttp::status::ok);
      res.body() = "OK\n";
    } else if (path == "/-/ready") {
      const bool ready = options.ready == nullptr || options.ready();
      res.result(ready ? bhttp::status::ok : bhttp::status::service_unavailable);
      res.body() = ready ? "OK\n" : "NOT READY: Prometheus is unreachable\n";
    } else {
      res.result(bhttp::status::not_found);
      res.body() = "404 page not found\n";
    }
    if (req.method() == bhttp::verb::head) {
      res.content_length(res.body().size());
      bhttp::response<bhttp::empty_body> head(res.base());
      bhttp::write(socket, head, ec);
    } else {
      res.prepare_payload();
      bhttp::write(socket, res, ec);
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
};

absl::StatusOr<std::unique_ptr<StatusServer>> StatusServer::Start(StatusServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  const std::string& address = impl->options.address;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        fmt::format("bad --http-address {:?}: want host:port", address));
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    host = "0.0.0.0";
  }
  beast::error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto results = resolver.resolve(host, port, tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return absl::UnavailableError(
        fmt::format("cannot listen on {}: {}", address, ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    impl->acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return absl::UnavailableError(fmt::format("cannot listen on {}: {}", address, ec.message()));
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Serve(); });
  return std::unique_ptr<StatusServer>(new StatusServer(std::move(impl)));
}

StatusServer::StatusServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StatusServer::~StatusServer() {
  impl_->stopping.store(true);
  // Wakes the blocking accept().
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

int StatusServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace paodin::storeapi
