#include "http/server.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/util/log.h"
#include "engine/util/strings.h"
#include "http/gzip.h"
#include <sys/socket.h>
#include <unistd.h>

namespace paodin::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

std::string HttpDate() {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", absl::Now(), absl::UTCTimeZone());
}

bool StatusHasBody(int status) { return status != 204 && status != 304 && status >= 200; }

// "host:port" -> endpoint; ":port" listens on every interface.
absl::StatusOr<tcp::endpoint> ResolveListenAddress(net::io_context& ioc, std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address ", ToAbsl(address), ": missing port"));
  }
  std::string host(address.substr(0, colon));
  std::string port(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty())
    host = "0.0.0.0";
  int port_number = 0;
  if (!absl::SimpleAtoi(port, &port_number) || port_number < 0 || port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("address ", ToAbsl(address), ": bad port"));
  }
  beast::error_code ec;
  net::ip::address ip = net::ip::make_address(host, ec);
  if (!ec)
    return tcp::endpoint(ip, static_cast<unsigned short>(port_number));
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, port, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("address ", ToAbsl(address), ": cannot resolve host: ", ec.message()));
  }
  return results.begin()->endpoint();
}

}  // namespace

class Session;

// One network thread: its own io_context (concurrency hint 1), so a connection's reads, writes
// and the completions workers post to it never wake a second network thread.
struct IoLoop {
  // Open connections on this loop; declared first, as sessions destroyed with the io_context's
  // pending handlers still count down.
  std::atomic<int> sessions{0};
  net::io_context ioc{1};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work{
      net::make_work_guard(ioc)};
  std::thread thread;
};

class Server::Impl {
 public:
  Impl(Api* api, ServerOptions options)
      : api_(api),
        options_(std::move(options)),
        loops_(MakeLoops(options_.io_threads)),
        acceptor_(loops_.front()->ioc),
        query_pool_(static_cast<size_t>(std::max(options_.max_concurrent_queries, 1))),
        metadata_pool_(static_cast<size_t>(std::max(options_.metadata_threads, 1))) {}

  absl::Status Listen();
  void Run();
  void Shutdown();
  void Register(const std::shared_ptr<Session>& session);
  void Unregister(Session* session);

  size_t OpenConnections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sessions_.size();
  }

  Api* api() const { return api_; }

  const ServerOptions& options() const { return options_; }

  net::thread_pool& query_pool() { return query_pool_; }

  net::thread_pool& metadata_pool() { return metadata_pool_; }

  int port() const { return port_; }

 private:
  static std::vector<std::unique_ptr<IoLoop>> MakeLoops(int n) {
    std::vector<std::unique_ptr<IoLoop>> loops;
    for (int i = 0; i < std::max(n, 1); ++i)
      loops.push_back(std::make_unique<IoLoop>());
    return loops;
  }

  // The loop for a new connection: the accepting loop unless another has at least two open
  // connections fewer (then the one with the fewest). A client that opens a connection per
  // request often connects again before its previous connection is gone; the margin keeps it
  // on the accepting loop, free of a hand-off between threads.
  IoLoop* PickLoop() const {
    IoLoop* best = loops_.front().get();
    int best_sessions = best->sessions.load(std::memory_order_relaxed);
    for (const auto& l : loops_) {
      const int n = l->sessions.load(std::memory_order_relaxed);
      if (n + 1 < best_sessions) {
        best = l.get();
        best_sessions = n;
      }
    }
    return best;
  }

  void DoAccept();

  Api* api_;
  ServerOptions options_;
  // Declared before the loops: sessions destroyed with their pending handlers unregister.
  mutable std::mutex mu_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  bool shutting_down_ = false;
  bool shut_down_ = false;

  std::vector<std::unique_ptr<IoLoop>> loops_;
  tcp::acceptor acceptor_;
  net::thread_pool query_pool_;
  net::thread_pool metadata_pool_;
  int port_ = 0;
};

// One connection. All socket work happens on its strand; workers reach it by posting.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl* server, IoLoop* loop)
      : stream_(std::move(socket)), server_(server), loop_(loop) {
    loop_->sessions.fetch_add(1, std::memory_order_relaxed);
  }

  ~Session() {
    loop_->sessions.fetch_sub(1, std::memory_order_relaxed);
    server_->Unregister(this);
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Cancels the running request and closes the connection; any thread.
  void Close() {
    cancelled_->store(true);
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->CloseNow(); });
  }

  // Runs `start` on the strand; it must start one asynchronous write and arrange for `done` to
  // be called with its outcome. Blocks the calling worker until then (back-pressure).
  beast::error_code WriteFromWorker(
      std::function<void(std::function<void(beast::error_code)>)> start) {
    auto promise = std::make_shared<std::promise<beast::error_code>>();
    std::future<beast::error_code> future = promise->get_future();
    net::post(stream_.get_executor(),
              [self = shared_from_this(), start = std::move(start), promise]() mutable {
                if (self->closed_) {
                  promise->set_value(net::error::operation_aborted);
                  return;
                }
                self->stream_.expires_after(ToChrono(self->server_->options().write_timeout));
                start([promise](beast::error_code ec) { promise->set_value(ec); });
              });
    return future.get();
  }

  beast::tcp_stream& stream() { return stream_; }

  const std::shared_ptr<std::atomic<bool>>& cancelled() const { return cancelled_; }

  // Called on the strand once the response is completely written (or failed).
  void AfterResponse(bool keep_alive) {
    request_active_ = false;
    ++watch_generation_;
    if (watching_) {
      watching_ = false;
      beast::error_code ec;
      stream_.socket().cancel(ec);
    }
    if (keep_alive && !closed_ && !cancelled_->load()) {
      ReadHeader();
    } else {
      CloseNow();
    }
  }

 private:
  void CloseNow() {
    if (closed_)
      return;
    closed_ = true;
    cancelled_->store(true);
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  void ReadHeader() {
    if (closed_)
      return;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options().max_header_bytes));
    parser_->body_limit(server_->options().max_body_bytes);
    cancelled_->store(false);
    stream_.expires_after(ToChrono(server_->options().idle_timeout));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec)
      return OnReadError(ec);
    auto& req = parser_->get();
    if (beast::iequals(req[bhttp::field::expect], "100-continue") && !parser_->is_done()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec)
                           return self->CloseNow();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec)
                          return self->OnReadError(ec);
                        self->OnRequest();
                      });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return SendErrorAndClose(bhttp::status::request_header_fields_too_large,
                               "431 Request Header Fields Too Large");
    }
    if (ec == bhttp::error::body_limit) {
      return SendErrorAndClose(bhttp::status::payload_too_large, "413 Request Entity Too Large");
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == beast::error::timeout ||
        ec == net::error::connection_reset || !stream_.socket().is_open()) {
      return CloseNow();
    }
    // A malformed request: Go answers 400 and closes.
    SendErrorAndClose(bhttp::status::bad_request, "400 Bad Request");
  }

  void SendErrorAndClose(bhttp::status status, std::string_view text) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(status, 11);
    res->set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res->set(bhttp::field::connection, "close");
    res->body() = std::string(text);
    res->prepare_payload();
    res->keep_alive(false);
    stream_.expires_after(ToChrono(server_->options().write_timeout));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec, size_t) {
                         if (ec)
                           return self->CloseNow();
                         self->LingerAndClose();
                       });
  }

  // After an error answer to a request we did not read completely: stop sending, then drain
  // what the client still sends for a moment, so that closing does not reset the connection
  // before the client has read our answer.
  void LingerAndClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    auto sink = std::make_shared<std::array<char, 16384>>();
    stream_.async_read_some(net::buffer(*sink),
                            [self = shared_from_this(), sink](beast::error_code ec, size_t) {
                              if (ec)
                                return self->CloseNow();
                              self->LingerAndClose();
                            });
  }

  void OnRequest();
  void WatchForDisconnect();

  beast::tcp_stream stream_;
  Server::Impl* server_;
  IoLoop* loop_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  bool closed_ = false;
  bool request_active_ = false;
  bool watching_ = false;
  uint64_t watch_generation_ = 0;
};

namespace {

// Builds complete responses and streams large ones; shared by the inline and worker paths.
class ConnectionWriter : public ResponseWriter {
 public:
  // `session` null means inline mode: everything is buffered and Take() hands it over.
  ConnectionWriter(std::shared_ptr<Session> session, const ServerOptions& options,
                   bool accepts_gzip, bool keep_alive, unsigned version)
      : session_(std::move(session)),
        options_(options),
        accepts_gzip_(accepts_gzip),
        keep_alive_(keep_alive),
        version_(version) {}

  void SetStatus(int status) override { status_ = status; }

  void SetHeader(std::string_view name, std::string_view value) override {
    for (auto& h : headers_) {
      if (beast::iequals(h.first, beast::string_view(name.data(), name.size()))) {
        h.second = std::string(value);
        return;
      }
    }
    headers_.emplace_back(std::string(name), std::string(value));
  }

  absl::Status Write(std::string_view data) override {
    if (!error_.ok())
      return error_;
    if (session_ != nullptr && session_->cancelled()->load()) {
      error_ = absl::CancelledError("client closed the connection");
      return error_;
    }
    if (!streaming_) {
      pending_.append(data);
      if (session_ == nullptr || pending_.size() < options_.stream_threshold_bytes) {
        return absl::OkStatus();
      }
      return StartStreaming();
    }
    if (gzip_ != nullptr) {
      if (absl::Status s = gzip_->Write(data, pending_); !s.ok())
        return error_ = s;
    } else {
      pending_.append(data);
    }
    if (pending_.size() >= options_.stream_threshold_bytes)
      return SendChunk(false);
    return absl::OkStatus();
  }

  // The whole response, for inline mode or when nothing was streamed.
  std::shared_ptr<bhttp::response<bhttp::string_body>> BuildComplete() {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(status_), version_);
    ApplyHeaders(*res);
    if (StatusHasBody(status_)) {
      if (accepts_gzip_ && pending_.size() >= options_.gzip_min_bytes) {
        absl::StatusOr<std::string> z = GzipCompress(pending_);
        if (z.ok()) {
          pending_ = *std::move(z);
          res->set(bhttp::field::content_encoding, "gzip");
          res->set(bhttp::field::vary, "Accept-Encoding");
        }
      }
      res->body() = std::move(pending_);
      res->prepare_payload();
    }
    res->keep_alive(keep_alive_);
    return res;
  }

  // Worker mode: sends what remains and ends the response. Returns false when the connection
  // must not be reused.
  bool Finish() {
    if (!streaming_) {
      auto res = BuildComplete();
      beast::error_code ec = session_->WriteFromWorker([s = session_, res](auto done) {
        bhttp::async_write(s->stream(), *res,
                           [res, done](beast::error_code ec, size_t) { done(ec); });
      });
      return !ec && keep_alive_;
    }
    if (!error_.ok())
      return false;
    if (gzip_ != nullptr && !gzip_->Finish(pending_).ok())
      return false;
    return SendChunk(true).ok() && keep_alive_;
  }

 private:
  void ApplyHeaders(bhttp::response_header<>& h) {
    h.set(bhttp::field::date, HttpDate());
    for (const auto& [name, value] : headers_)
      h.set(name, value);
  }

  absl::Status StartStreaming() {
    streaming_ = true;
    auto header = std::make_shared<bhttp::response<bhttp::empty_body>>(
        static_cast<bhttp::status>(status_), version_);
    ApplyHeaders(*header);
    header->keep_alive(keep_alive_);
    header->chunked(true);
    if (accepts_gzip_) {
      absl::StatusOr<std::unique_ptr<GzipStream>> z = GzipStream::Create();
      if (z.ok()) {
        gzip_ = *std::move(z);
        header->set(bhttp::field::content_encoding, "gzip");
        header->set(bhttp::field::vary, "Accept-Encoding");
        std::string raw = std::move(pending_);
        pending_.clear();
        if (absl::Status s = gzip_->Write(raw, pending_); !s.ok())
          return error_ = s;
      }
    }
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*header);
    beast::error_code ec = session_->WriteFromWorker([s = session_, header, serializer](auto done) {
      bhttp::async_write_header(
          s->stream(), *serializer,
          [header, serializer, done](beast::error_code ec, size_t) { done(ec); });
    });
    if (ec)
      return Fail(ec);
    return SendChunk(false);
  }

  absl::Status SendChunk(bool last) {
    auto data = std::make_shared<std::string>(std::move(pending_));
    pending_.clear();
    beast::error_code ec = session_->WriteFromWorker([s = session_, data, last](auto done) {
      if (last) {
        auto body = std::make_shared<std::vector<net::const_buffer>>();
        if (!data->empty()) {
          // One write: the chunk, then the terminating chunk.
          auto chunk = std::make_shared<bhttp::chunk_body<net::const_buffer>>(
              bhttp::make_chunk(net::const_buffer(data->data(), data->size())));
          net::async_write(
              s->stream(), *chunk, [s, data, chunk, done](beast::error_code ec, size_t) {
                if (ec)
                  return done(ec);
                auto tail = std::make_shared<bhttp::chunk_last<>>();
                net::async_write(s->stream(), *tail,
                                 [tail, done](beast::error_code ec, size_t) { done(ec); });
              });
          return;
        }
        auto tail = std::make_shared<bhttp::chunk_last<>>();
        net::async_write(s->stream(), *tail,
                         [tail, done](beast::error_code ec, size_t) { done(ec); });
        return;
      }
      if (data->empty())
        return done({});
      auto chunk = std::make_shared<bhttp::chunk_body<net::const_buffer>>(
          bhttp::make_chunk(net::const_buffer(data->data(), data->size())));
      net::async_write(s->stream(), *chunk,
                       [data, chunk, done](beast::error_code ec, size_t) { done(ec); });
    });
    if (ec)
      return Fail(ec);
    return absl::OkStatus();
  }

  absl::Status Fail(beast::error_code ec) {
    session_->cancelled()->store(true);
    error_ = absl::CancelledError(absl::StrCat("writing response: ", ec.message()));
    return error_;
  }

  std::shared_ptr<Session> session_;
  const ServerOptions& options_;
  bool accepts_gzip_;
  bool keep_alive_;
  unsigned version_;
  int status_ = 200;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string pending_;
  bool streaming_ = false;
  std::unique_ptr<GzipStream> gzip_;
  absl::Status error_;
};

}  // namespace

void Session::OnRequest() {
  stream_.expires_never();
  request_active_ = true;
  auto& req = parser_->get();
  bool keep_alive = req.keep_alive();
  beast::string_view accept_encoding = req[bhttp::field::accept_encoding];
  bool accepts_gzip = AcceptsGzip(std::string_view(accept_encoding.data(), accept_encoding.size()));
  unsigned version = req.version();
  std::string_view method(req.method_string().data(), req.method_string().size());
  std::string_view target(req.target().data(), req.target().size());
  HttpRequest request{method, target,
                      std::string_view(req[bhttp::field::content_type].data(),
                                       req[bhttp::field::content_type].size()),
                      req.body()};
  RequestContext ctx{cancelled_.get(), engine::NowSteadyMs()};
  Api* api = server_->api();
  Work work = api->Classify(method, target);

  auto write_inline = [&](ConnectionWriter& w) {
    auto res = w.BuildComplete();
    stream_.expires_after(ToChrono(server_->options().write_timeout));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         self->AfterResponse(!ec && keep_alive);
                       });
  };
  if (work == Work::kInline) {
    ConnectionWriter w(nullptr, server_->options(), accepts_gzip, keep_alive, version);
    api->Handle(request, ctx, w);
    write_inline(w);
    return;
  }
  if (work == Work::kMetadata) {
    // A label call whose answer is at hand (cached) is answered here: a hop to a worker and
    // back would cost more than the answer.
    ConnectionWriter w(nullptr, server_->options(), accepts_gzip, keep_alive, version);
    if (api->HandleWithoutWaiting(request, w)) {
      write_inline(w);
      return;
    }
  }

  // Off the network thread. While it runs, watch the socket: a client that closes cancels.
  if (buffer_.size() == 0)
    WatchForDisconnect();
  net::thread_pool& pool = work == Work::kQuery ? server_->query_pool() : server_->metadata_pool();
  net::post(pool, [self = shared_from_this(), request, ctx, accepts_gzip, keep_alive, version] {
    bool reuse = false;
    if (self->cancelled_->load()) {
      // The client left while the request waited for a slot: nothing to answer.
    } else {
      ConnectionWriter w(self, self->server_->options(), accepts_gzip, keep_alive, version);
      self->server_->api()->Handle(request, ctx, w);
      reuse = w.Finish();
    }
    net::post(self->stream_.get_executor(), [self, reuse] { self->AfterResponse(reuse); });
  });
}

void Session::WatchForDisconnect() {
  watching_ = true;
  uint64_t generation = watch_generation_;
  stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(),
                                                       generation](beast::error_code ec) {
    if (generation != self->watch_generation_ || !self->request_active_)
      return;
    self->watching_ = false;
    if (ec == net::error::operation_aborted)
      return;
    if (!ec) {
      char c;
      ssize_t n = ::recv(self->stream_.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n > 0)
        return;  // a pipelined request: stop watching
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        self->WatchForDisconnect();
        return;
      }
    }
    // EOF or an error: the client is gone.
    self->cancelled_->store(true);
    log::Debug("http", "client closed connection; cancelling request");
  });
}

absl::Status Server::Impl::Listen() {
  absl::StatusOr<tcp::endpoint> endpoint =
      ResolveListenAddress(loops_.front()->ioc, options_.address);
  if (!endpoint.ok())
    return endpoint.status();
  beast::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (!ec)
    acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor_.bind(*endpoint, ec);
  if (!ec)
    acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("listen on ", ToAbsl(options_.address), ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  return absl::OkStatus();
}

void Server::Impl::Run() {
  DoAccept();
  for (auto& l : loops_) {
    l->thread = std::thread([loop = l.get()] { loop->ioc.run(); });
  }
}

void Server::Impl::DoAccept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket accepted) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open())
        return;
      log::Warn("http", "accept failed", {{"err", ec.message()}});
    } else {
      // Chosen now, not when the accept was armed: by now the previous connection of a client
      // that opens one per request has usually closed, and its successor stays on this loop.
      IoLoop* loop = PickLoop();
      const tcp::endpoint::protocol_type protocol = accepted.local_endpoint(ec).protocol();
      tcp::socket socket(net::make_strand(loop->ioc));
      if (!ec) {
        const tcp::socket::native_handle_type fd = accepted.release(ec);
        if (!ec) {
          socket.assign(protocol, fd, ec);
          if (ec)
            ::close(fd);
        }
      }
      if (ec) {
        log::Warn("http", "accept failed", {{"err", ec.message()}});
      } else {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        auto session = std::make_shared<Session>(std::move(socket), this, loop);
        Register(session);
        session->Start();
      }
    }
    DoAccept();
  });
}

void Server::Impl::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_[session.get()] = session;
  if (shutting_down_)
    session->Close();
}

void Server::Impl::Unregister(Session* session) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(session);
}

void Server::Impl::Shutdown() {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_)
      return;
    shutting_down_ = true;
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock())
        open.push_back(std::move(s));
    }
  }
  std::promise<void> closed;
  net::post(acceptor_.get_executor(), [this, &closed] {
    beast::error_code ec;
    acceptor_.close(ec);
    closed.set_value();
  });
  closed.get_future().wait();
  for (auto& s : open)
    s->Close();
  open.clear();
  // Workers finish (their requests are cancelled and their writes fail fast) while the network
  // threads still run.
  query_pool_.join();
  metadata_pool_.join();
  for (auto& l : loops_) {
    l->work.reset();
    l->ioc.stop();
  }
  for (auto& l : loops_) {
    if (l->thread.joinable())
      l->thread.join();
  }
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Api* api, ServerOptions options) {
  auto impl = std::make_unique<Impl>(api, std::move(options));
  if (absl::Status s = impl->Listen(); !s.ok())
    return s;
  impl->Run();
  log::Info("http", "listening",
            {{"address", impl->options().address}, {"port", absl::StrCat(impl->port())}});
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(); }

int Server::port() const { return impl_->port(); }

void Server::Shutdown() { impl_->Shutdown(); }

size_t Server::open_connections() const { return impl_->OpenConnections(); }

}  // namespace paodin::http
