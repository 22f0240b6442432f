// A scripted HTTP/1.1 server on 127.0.0.1 for the sidecar's tests: every request goes to a
// handler that returns the raw bytes to write back (so tests can send garbage, cut streams or
// stall), and whether to close the connection afterwards.
#ifndef PAODIN_STOREAPI_SIDECAR_FAKE_HTTP_SERVER_TEST_UTIL_H_
#define PAODIN_STOREAPI_SIDECAR_FAKE_HTTP_SERVER_TEST_UTIL_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include <sys/socket.h>

namespace paodin::storeapi::testing {

// One request as the fake server read it.
struct FakeRequest {
  std::string method;
  std::string target;
  std::string content_type;
  std::string content_encoding;
  std::string remote_read_version;
  std::string body;
};

// What to send back.
struct FakeReply {
  std::string raw;  // status line, headers and body, exactly as written
  bool close = false;
  int delay_ms = 0;  // before writing
};

// A complete response with Content-Length.
inline FakeReply HttpReply(int status, std::string_view content_type, std::string_view body) {
  FakeReply r;
  r.raw = fmt::format("HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}", status,
                      content_type, body.size(), body);
  return r;
}

// A chunked response: the body in one chunk, optionally cut after `cut` body bytes (then the
// connection is closed).
inline FakeReply ChunkedReply(std::string_view content_type, std::string_view body,
                              size_t cut = std::string::npos) {
  FakeReply r;
  r.raw = fmt::format("HTTP/1.1 200 OK\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
                      content_type);
  if (cut != std::string::npos) {
    r.raw += fmt::format("{:x}\r\n", body.size());
    r.raw.append(body.substr(0, cut));
    r.close = true;
    return r;
  }
  if (!body.empty()) {
    r.raw += fmt::format("{:x}\r\n", body.size());
    r.raw.append(body);
    r.raw += "\r\n";
  }
  r.raw += "0\r\n\r\n";
  return r;
}

class FakeHttpServer {
 public:
  using Handler = std::function<FakeReply(const FakeRequest&)>;

  explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    namespace net = boost::asio;
    acceptor_.open(net::ip::tcp::v4());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(net::ip::tcp::endpoint(net::ip::address_v4::loopback(), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~FakeHttpServer() {
    stopping_ = true;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) {
        ::shutdown(fd, SHUT_RDWR);
      }
    }
    for (std::thread& t : conn_threads_) {
      t.join();
    }
  }

  int port() const { return port_; }

  std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

  // Requests seen so far.
  std::vector<FakeRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      auto socket = std::make_shared<boost::asio::ip::tcp::socket>(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) {
        if (stopping_) {
          return;
        }
        continue;
      }
      ++connections_;
      {
        std::lock_guard lock(mu_);
        fds_.push_back(socket->native_handle());
      }
      conn_threads_.emplace_back([this, socket] { Serve(*socket); });
    }
  }

  void Serve(boost::asio::ip::tcp::socket& socket) {
    namespace bhttp = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      boost::system::error_code ec;
      bhttp::read(socket, buffer, req, ec);
      if (ec) {
        return;
      }
      FakeRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.content_type = std::string(req[bhttp::field::content_type]);
      r.content_encoding = std::string(req[bhttp::field::content_encoding]);
      r.remote_read_version = std::string(req["X-Prometheus-Remote-Read-Version"]);
      r.body = req.body();
      {
        std::lock_guard lock(mu_);
        requests_.push_back(r);
      }
      FakeReply reply = handler_(r);
      if (reply.delay_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
      }
      boost::asio::write(socket, boost::asio::buffer(reply.raw), ec);
      if (ec || reply.close) {
        socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
        return;
      }
    }
  }

  Handler handler_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread accept_thread_;
  std::vector<std::thread> conn_threads_;
  mutable std::mutex mu_;
  std::vector<int> fds_;
  std::vector<FakeRequest> requests_;
};

}  // namespace paodin::storeapi::testing

#endif  // PAODIN_STOREAPI_SIDECAR_FAKE_HTTP_SERVER_TEST_UTIL_H_
