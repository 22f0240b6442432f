#include "storeapi/sidecar/http_client.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "engine/util/status_macros.h"

namespace paodin::storeapi {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpClient::Conn {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
};

namespace {

constexpr int64_t kPollMs = 50;

// The time one network step may take: the inactivity timeout, cut by the caller's deadline.
int64_t StepTimeoutMs(int64_t timeout_ms, const engine::QueryContext& ctx) {
  if (ctx.deadline_steady_ms == 0) {
    return timeout_ms;
  }
  return std::max<int64_t>(1, std::min(timeout_ms, ctx.deadline_steady_ms - engine::NowSteadyMs()));
}

// Maps a failed network step to a status naming the step.
absl::Status NetError(const beast::error_code& ec, std::string_view what, std::string_view url,
                      int64_t timeout_ms) {
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(
        fmt::format("{} {}: no progress within {} ms", what, url, timeout_ms));
  }
  return absl::UnavailableError(fmt::format("{} {}: {}", what, url, ec.message()));
}

// Runs the async operation started on `conn` until its handler set `done`, polling the caller's
// cancellation flag. On cancellation the operation is aborted and Cancelled is returned.
absl::Status Drive(HttpClient::Conn& conn, const engine::QueryContext& ctx, const bool& done) {
  conn.ioc.restart();
  while (!done) {
    conn.ioc.run_for(std::chrono::milliseconds(kPollMs));
    if (!done && ctx.cancelled != nullptr && ctx.cancelled->load()) {
      conn.stream.cancel();
      conn.ioc.restart();
      conn.ioc.run();
      return absl::CancelledError("request cancelled");
    }
  }
  return absl::OkStatus();
}

// True for errors a stale keep-alive connection gives on its next use.
bool StaleConnectionError(const beast::error_code& ec) {
  return ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == bhttp::error::end_of_stream ||
         ec == net::error::connection_aborted;
}

}  // namespace

class BeastBodyStream final : public HttpBodyStream {
 public:
  BeastBodyStream(HttpClient* client, std::unique_ptr<HttpClient::Conn> conn,
                  std::unique_ptr<bhttp::response_parser<bhttp::buffer_body>> parser,
                  engine::QueryContext ctx)
      : client_(client), conn_(std::move(conn)), parser_(std::move(parser)), ctx_(ctx) {
    status_ = parser_->get().result_int();
    content_type_ = std::string(parser_->get()[bhttp::field::content_type]);
  }

  int status() const override { return status_; }

  const std::string& content_type() const override { return content_type_; }

  absl::Status Read(size_t max, std::string* out) override {
    out->clear();
    if (conn_ == nullptr) {
      return absl::OkStatus();
    }
    out->resize(std::max<size_t>(max, 1));
    size_t got = 0;
    while (got == 0) {
      if (parser_->is_done()) {
        out->clear();
        const bool keep = parser_->keep_alive();
        if (keep) {
          client_->ReleaseConn(std::move(conn_));
        }
        conn_.reset();
        return absl::OkStatus();
      }
      parser_->get().body().data = out->data();
      parser_->get().body().size = out->size();
      const int64_t step_ms = StepTimeoutMs(client_->options_.timeout_ms, ctx_);
      conn_->stream.expires_after(std::chrono::milliseconds(step_ms));
      bool done = false;
      beast::error_code ec;
      bhttp::async_read_some(conn_->stream, conn_->buffer, *parser_,
                             [&](beast::error_code e, size_t) {
                               ec = e;
                               done = true;
                             });
      if (absl::Status st = Drive(*conn_, ctx_, done); !st.ok()) {
        conn_.reset();
        out->clear();
        return st;
      }
      if (ec == bhttp::error::need_buffer) {
        ec = {};
      }
      if (ec) {
        conn_.reset();
        out->clear();
        if (ec == bhttp::error::partial_message || ec == net::error::eof ||
            ec == bhttp::error::end_of_stream) {
          return absl::UnavailableError(
              fmt::format("reading response from {}: connection closed before the end of the body",
                          client_->url()));
        }
        return NetError(ec, "reading response from", client_->url(), step_ms);
      }
      got = out->size() - parser_->get().body().size;
    }
    out->resize(got);
    return absl::OkStatus();
  }

 private:
  HttpClient* client_;
  std::unique_ptr<HttpClient::Conn> conn_;
  std::unique_ptr<bhttp::response_parser<bhttp::buffer_body>> parser_;
  engine::QueryContext ctx_;
  int status_ = 0;
  std::string content_type_;
};

absl::StatusOr<HttpClient::Endpoint> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return absl::InvalidArgumentError(
        fmt::format("unsupported URL {:?}: only http://host[:port][/path] is supported", url));
  }
  std::string_view rest = url.substr(kScheme.size());
  HttpClient::Endpoint e;
  const size_t slash = rest.find('/');
  std::string_view hostport = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') {
      path.remove_suffix(1);
    }
    e.path_prefix = std::string(path);
  }
  if (!hostport.empty() && hostport.front() == '[') {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(fmt::format("bad host in URL {:?}", url));
    }
    e.host = std::string(hostport.substr(1, close - 1));
    hostport.remove_prefix(close + 1);
    if (!hostport.empty() && hostport.front() == ':') {
      e.port = std::string(hostport.substr(1));
    } else if (!hostport.empty()) {
      return absl::InvalidArgumentError(fmt::format("bad host in URL {:?}", url));
    }
  } else {
    const size_t colon = hostport.rfind(':');
    e.host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) {
      e.port = std::string(hostport.substr(colon + 1));
    }
  }
  if (e.host.empty()) {
    return absl::InvalidArgumentError(fmt::format("missing host in URL {:?}", url));
  }
  if (e.port.empty()) {
    e.port = "80";
  }
  if (!std::all_of(e.port.begin(), e.port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return absl::InvalidArgumentError(fmt::format("bad port in URL {:?}", url));
  }
  return e;
}

std::string UrlEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  absl::StatusOr<Endpoint> endpoint = ParseHttpUrl(options.url);
  if (!endpoint.ok()) {
    return endpoint.status();
  }
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(options), *std::move(endpoint)));
}

HttpClient::HttpClient(HttpClientOptions options, Endpoint endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)) {}

HttpClient::~HttpClient() = default;

int64_t HttpClient::connections_opened() const {
  std::lock_guard lock(mu_);
  return opened_;
}

absl::StatusOr<std::unique_ptr<HttpClient::Conn>> HttpClient::Acquire(
    const engine::QueryContext& ctx, bool* reused) {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Conn> conn = std::move(idle_.back());
      idle_.pop_back();
      *reused = true;
      return conn;
    }
    ++opened_;
  }
  *reused = false;
  auto conn = std::make_unique<Conn>();
  tcp::resolver resolver(conn->ioc);
  beast::error_code ec;
  const tcp::resolver::results_type addrs = resolver.resolve(endpoint_.host, endpoint_.port, ec);
  if (ec) {
    return absl::UnavailableError(
        fmt::format("resolving {}: {}", endpoint_.host + ":" + endpoint_.port, ec.message()));
  }
  const int64_t step_ms = StepTimeoutMs(options_.timeout_ms, ctx);
  conn->stream.expires_after(std::chrono::milliseconds(step_ms));
  bool done = false;
  conn->stream.async_connect(addrs, [&](beast::error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  if (absl::Status st = Drive(*conn, ctx, done); !st.ok()) {
    return st;
  }
  if (ec) {
    return NetError(ec, "connecting to", options_.url, step_ms);
  }
  conn->stream.socket().set_option(tcp::no_delay(true), ec);
  return conn;
}

void HttpClient::ReleaseConn(std::unique_ptr<Conn> conn) {
  conn->stream.expires_never();
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_connections) {
    idle_.push_back(std::move(conn));
  }
}

absl::StatusOr<HttpResponse> HttpClient::Get(std::string_view target,
                                             const engine::QueryContext& ctx) {
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    absl::StatusOr<std::unique_ptr<Conn>> conn_or = Acquire(ctx, &reused);
    if (!conn_or.ok()) {
      return conn_or.status();
    }
    std::unique_ptr<Conn> conn = *std::move(conn_or);
    bhttp::request<bhttp::empty_body> req(bhttp::verb::get,
                                          endpoint_.path_prefix + std::string(target), 11);
    req.set(bhttp::field::host, endpoint_.host + ":" + endpoint_.port);
    req.set(bhttp::field::user_agent, "paodin-sidecar");
    req.set(bhttp::field::accept, "application/json");
    int64_t step_ms = StepTimeoutMs(options_.timeout_ms, ctx);
    conn->stream.expires_after(std::chrono::milliseconds(step_ms));
    bool done = false;
    beast::error_code ec;
    bhttp::async_write(conn->stream, req, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    PAODIN_RETURN_IF_ERROR(Drive(*conn, ctx, done));
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(options_.max_body_bytes);
    if (!ec) {
      step_ms = StepTimeoutMs(options_.timeout_ms, ctx);
      conn->stream.expires_after(std::chrono::milliseconds(step_ms));
      done = false;
      bhttp::async_read(conn->stream, conn->buffer, parser, [&](beast::error_code e, size_t) {
        ec = e;
        done = true;
      });
      PAODIN_RETURN_IF_ERROR(Drive(*conn, ctx, done));
    }
    if (ec) {
      if (reused && attempt == 0 && StaleConnectionError(ec) && !parser.got_some()) {
        continue;
      }
      if (ec == bhttp::error::body_limit) {
        return absl::ResourceExhaustedError(
            fmt::format("GET {}{}: response body larger than {} bytes", options_.url, target,
                        options_.max_body_bytes));
      }
      return NetError(ec, fmt::format("GET {} from", target), options_.url, step_ms);
    }
    if (parser.get().body().size() > options_.max_body_bytes) {
      return absl::ResourceExhaustedError(
          fmt::format("GET {}{}: response body larger than {} bytes", options_.url, target,
                      options_.max_body_bytes));
    }
    HttpResponse r;
    r.status = parser.get().result_int();
    r.content_type = std::string(parser.get()[bhttp::field::content_type]);
    r.body = std::move(parser.get().body());
    if (parser.keep_alive()) {
      ReleaseConn(std::move(conn));
    }
    return r;
  }
}

absl::StatusOr<std::unique_ptr<HttpBodyStream>> HttpClient::Post(
    std::string_view target, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const engine::QueryContext& ctx) {
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    absl::StatusOr<std::unique_ptr<Conn>> conn_or = Acquire(ctx, &reused);
    if (!conn_or.ok()) {
      return conn_or.status();
    }
    std::unique_ptr<Conn> conn = *std::move(conn_or);
    bhttp::request<bhttp::string_body> req(bhttp::verb::post,
                                           endpoint_.path_prefix + std::string(target), 11);
    req.set(bhttp::field::host, endpoint_.host + ":" + endpoint_.port);
    req.set(bhttp::field::user_agent, "paodin-sidecar");
    for (const auto& [name, value] : headers) {
      req.set(name, value);
    }
    req.body() = body;
    req.prepare_payload();
    int64_t step_ms = StepTimeoutMs(options_.timeout_ms, ctx);
    conn->stream.expires_after(std::chrono::milliseconds(step_ms));
    bool done = false;
    beast::error_code ec;
    bhttp::async_write(conn->stream, req, [&](beast::error_code e, size_t) {
      ec = e;
      done = true;
    });
    PAODIN_RETURN_IF_ERROR(Drive(*conn, ctx, done));
    auto parser = std::make_unique<bhttp::response_parser<bhttp::buffer_body>>();
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (!ec) {
      step_ms = StepTimeoutMs(options_.timeout_ms, ctx);
      conn->stream.expires_after(std::chrono::milliseconds(step_ms));
      done = false;
      bhttp::async_read_header(conn->stream, conn->buffer, *parser,
                               [&](beast::error_code e, size_t) {
                                 ec = e;
                                 done = true;
                               });
      PAODIN_RETURN_IF_ERROR(Drive(*conn, ctx, done));
    }
    if (ec) {
      if (reused && attempt == 0 && StaleConnectionError(ec) && !parser->got_some()) {
        continue;
      }
      return NetError(ec, fmt::format("POST {} to", target), options_.url, step_ms);
    }
    return std::unique_ptr<HttpBodyStream>(
        new BeastBodyStream(this, std::move(conn), std::move(parser), ctx));
  }
}

}  // namespace paodin::storeapi
