#include "storeapi/server/server.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "proto/thanos/info.grpc.pb.h"
#include "proto/thanos/store.grpc.pb.h"

#include "engine/model/matcher.h"
#include "engine/util/log.h"
#include "engine/util/strings.h"
#include "storeapi/server/series_wire.h"
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace paodin::storeapi {
namespace {

// A fixed set of threads running submitted tasks in order.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Run(); });
    }
  }

  ~WorkerPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) {
      t.join();
    }
  }

  void Submit(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) {
          return;
        }
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

grpc::Status ToGrpc(const absl::Status& st) {
  if (st.ok()) {
    return grpc::Status::OK;
  }
  return grpc::Status(static_cast<grpc::StatusCode>(st.code()), std::string(st.message()));
}

// A counter kept both as an atomic (for stats()) and, when a registry is given, as a metric.
struct Counter {
  std::atomic<int64_t> value{0};
  prometheus::Counter* metric = nullptr;

  void Add(int64_t n = 1) {
    value.fetch_add(n, std::memory_order_relaxed);
    if (metric != nullptr) {
      metric->Increment(static_cast<double>(n));
    }
  }
};

std::string MatchersText(const google::protobuf::RepeatedPtrField<thanos::LabelMatcher>& ms) {
  std::string out = "{";
  for (int i = 0; i < ms.size(); ++i) {
    static constexpr const char* kOps[] = {"=", "!=", "=~", "!~"};
    const int type = ms[i].type();
    fmt::format_to(std::back_inserter(out), "{}{}{}{}", i > 0 ? "," : "", ms[i].name(),
                   type >= 0 && type < 4 ? kOps[type] : "?", engine::GoQuote(ms[i].value()));
  }
  out.push_back('}');
  return out;
}

// The contents of the PEM file `path` (the `flag` it came from names it in errors), which must
// hold a block whose type ends in `kind` ("CERTIFICATE", "PRIVATE KEY").
absl::StatusOr<std::string> ReadPemFile(const std::string& path, std::string_view flag,
                                        std::string_view kind) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  if (in) {
    out << in.rdbuf();
  }
  if (!in || (!in.good() && !in.eof())) {
    return absl::InvalidArgumentError(
        fmt::format("cannot read {} file {}: {}", flag, path, std::strerror(errno)));
  }
  std::string pem = out.str();
  if (pem.find("-----BEGIN ") == std::string::npos ||
      pem.find(fmt::format("{}-----", kind)) == std::string::npos) {
    return absl::InvalidArgumentError(
        fmt::format("{} file {} holds no PEM {} block", flag, path, kind));
  }
  return pem;
}

// Why binding `address` fails, found by trying a plain socket (gRPC only logs it); "" when a
// plain socket binds.
std::string DiagnoseBind(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return "expected host:port";
  }
  std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
      rc != 0) {
    return fmt::format("cannot resolve: {}", gai_strerror(rc));
  }
  std::string reason;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      reason = std::strerror(errno);
    }
    close(fd);
  }
  freeaddrinfo(res);
  return reason;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& tls) {
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    if (!tls.client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--grpc-server-tls-client-ca needs a server certificate and key "
          "(--grpc-server-tls-cert, --grpc-server-tls-key)");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "both a server TLS certificate (--grpc-server-tls-cert) and its key "
        "(--grpc-server-tls-key) are needed, or neither");
  }
  absl::StatusOr<std::string> cert =
      ReadPemFile(tls.cert_file, "--grpc-server-tls-cert", "CERTIFICATE");
  if (!cert.ok()) {
    return cert.status();
  }
  absl::StatusOr<std::string> key =
      ReadPemFile(tls.key_file, "--grpc-server-tls-key", "PRIVATE KEY");
  if (!key.ok()) {
    return key.status();
  }
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  if (!tls.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca =
        ReadPemFile(tls.client_ca_file, "--grpc-server-tls-client-ca", "CERTIFICATE");
    if (!ca.ok()) {
      return ca.status();
    }
    // As Thanos (tls.RequireAndVerifyClientCert): no call without a certificate the CAs sign.
    ssl.pem_root_certs = *std::move(ca);
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

// Series is a raw method: the request is parsed here and frames are written as bytes, so a
// backend can hand over frames it encoded itself (SeriesResponseStream::NextEncoded).
using StoreService =
    thanos::Store::WithRawCallbackMethod_Series<thanos::Store::WithCallbackMethod_LabelNames<
        thanos::Store::WithCallbackMethod_LabelValues<thanos::Store::Service>>>;

struct StoreServer::Impl final : public StoreService, public thanos::info::Info::CallbackService {
  std::shared_ptr<StoreBackend> backend;
  StoreServerOptions options;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<prometheus::Registry> registry;
  int port = 0;
  std::once_flag shutdown_once;

  // Calls in progress, so Shutdown can wait for them (and only them) up to its grace period.
  std::mutex calls_mu;
  std::condition_variable calls_cv;
  int in_flight = 0;
  bool draining = false;

  Counter info_requests;
  Counter series_requests;
  Counter label_names_requests;
  Counter label_values_requests;
  Counter series_sent;
  Counter failed_requests;

  void RegisterMetrics() {
    if (registry == nullptr) {
      return;
    }
    const std::string& p = options.metric_prefix;
    auto counter = [&](Counter& c, const std::string& name, const std::string& help) {
      c.metric = &prometheus::BuildCounter().Name(p + name).Help(help).Register(*registry).Add({});
    };
    counter(info_requests, "_info_requests_total", "thanos.info.Info/Info calls received.");
    counter(series_requests, "_series_requests_total", "thanos.Store/Series calls received.");
    counter(label_names_requests, "_label_names_requests_total",
            "thanos.Store/LabelNames calls received.");
    counter(label_values_requests, "_label_values_requests_total",
            "thanos.Store/LabelValues calls received.");
    counter(series_sent, "_series_sent_total", "Series sent in Series responses.");
    counter(failed_requests, "_failed_requests_total", "StoreAPI calls that ended with an error.");
  }

  CallContext MakeCallContext(grpc::CallbackServerContext* ctx, const std::atomic<bool>* cancel) {
    CallContext call;
    call.query.cancelled = cancel;
    const auto deadline = ctx->deadline();
    if (deadline != std::chrono::system_clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::system_clock::now())
                            .count();
      call.query.deadline_steady_ms = engine::NowSteadyMs() + std::max<int64_t>(left, 1);
    }
    const auto& md = ctx->client_metadata();
    if (auto it = md.find("thanos-tenant"); it != md.end()) {
      call.tenant.assign(it->second.data(), it->second.size());
    }
    call.peer = ctx->peer();
    return call;
  }

  // Registers a new call; false once Shutdown started.
  bool BeginCall() {
    std::lock_guard lock(calls_mu);
    if (draining) {
      return false;
    }
    ++in_flight;
    return true;
  }

  void EndCall() {
    std::lock_guard lock(calls_mu);
    if (--in_flight == 0) {
      calls_cv.notify_all();
    }
  }

  static grpc::Status ShuttingDown() {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down");
  }

  void CountFailure(const absl::Status& st) {
    if (!st.ok()) {
      failed_requests.Add();
    }
  }

  // Runs a call's work: inline when the backend never waits, else on the worker pool.
  template <typename Fn>
  void Dispatch(Fn fn) {
    if (backend->NeverWaits()) {
      fn();
    } else {
      pool->Submit(std::move(fn));
    }
  }

  grpc::ServerUnaryReactor* Info(grpc::CallbackServerContext* ctx,
                                 const thanos::info::InfoRequest* /*request*/,
                                 thanos::info::InfoResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    info_requests.Add();
    if (!BeginCall()) {
      reactor->Finish(ShuttingDown());
      return reactor;
    }
    Dispatch([this, reactor, response] {
      absl::StatusOr<thanos::info::InfoResponse> info = backend->Info();
      CountFailure(info.status());
      if (info.ok()) {
        *response = *std::move(info);
      }
      reactor->Finish(ToGrpc(info.status()));
      EndCall();
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* LabelNames(grpc::CallbackServerContext* ctx,
                                       const thanos::LabelNamesRequest* request,
                                       thanos::LabelNamesResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    label_names_requests.Add();
    if (!BeginCall()) {
      reactor->Finish(ShuttingDown());
      return reactor;
    }
    Dispatch([this, reactor, request, response, call = MakeCallContext(ctx, nullptr)] {
      absl::StatusOr<thanos::LabelNamesResponse> r = backend->LabelNames(*request, call);
      CountFailure(r.status());
      log::Debug(options.component, "label names call",
                 {{"peer", call.peer},
                  {"matchers", MatchersText(request->matchers())},
                  {"code", absl::StatusCodeToString(r.status().code())}});
      if (r.ok()) {
        *response = *std::move(r);
      }
      reactor->Finish(ToGrpc(r.status()));
      EndCall();
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* LabelValues(grpc::CallbackServerContext* ctx,
                                        const thanos::LabelValuesRequest* request,
                                        thanos::LabelValuesResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    label_values_requests.Add();
    if (!BeginCall()) {
      reactor->Finish(ShuttingDown());
      return reactor;
    }
    Dispatch([this, reactor, request, response, call = MakeCallContext(ctx, nullptr)] {
      absl::StatusOr<thanos::LabelValuesResponse> r = backend->LabelValues(*request, call);
      CountFailure(r.status());
      log::Debug(options.component, "label values call",
                 {{"peer", call.peer},
                  {"label", request->label()},
                  {"matchers", MatchersText(request->matchers())},
                  {"code", absl::StatusCodeToString(r.status().code())}});
      if (r.ok()) {
        *response = *std::move(r);
      }
      reactor->Finish(ToGrpc(r.status()));
      EndCall();
    });
    return reactor;
  }

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Series(grpc::CallbackServerContext* ctx,
                                                     const grpc::ByteBuffer* request) override;
};

namespace {

constexpr size_t kFrameArenaBytes = 64 << 10;

google::protobuf::ArenaOptions FrameArenaOptions(char* block) {
  google::protobuf::ArenaOptions o;
  o.initial_block = block;
  o.initial_block_size = kFrameArenaBytes;
  return o;
}

void DeleteString(void* p) { delete static_cast<std::string*>(p); }

// One Series call: alternates between producing a frame on the worker pool and writing it.
// Frames of a stream that encodes itself are written straight into the buffer gRPC sends (no
// message objects, no copy). Others are built in an arena that is reset once gRPC has written
// them, so the messages of a batch (series, labels, chunks) cost no malloc each.
class SeriesReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  SeriesReactor(StoreServer::Impl* impl, grpc::CallbackServerContext* ctx,
                const grpc::ByteBuffer* request)
      : impl_(impl),
        start_(std::chrono::steady_clock::now()),
        arena_block_(new char[kFrameArenaBytes]),
        arena_(FrameArenaOptions(arena_block_.get())) {
    call_ = impl_->MakeCallContext(ctx, &cancelled_);
    impl_->series_requests.Add();
    if (!impl_->BeginCall()) {
      Finish(StoreServer::Impl::ShuttingDown());
      return;
    }
    counted_ = true;
    grpc::ByteBuffer copy(*request);  // Deserialize consumes its input; this copies references
    if (!grpc::SerializationTraits<thanos::SeriesRequest>::Deserialize(&copy, &request_).ok()) {
      End(absl::InvalidArgumentError("cannot parse the SeriesRequest"));
      return;
    }
    impl_->Dispatch([this] { Open(); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      End(absl::CancelledError("client stopped reading the stream"));
      return;
    }
    impl_->Dispatch([this] { Produce(); });
  }

  void OnCancel() override { cancelled_.store(true); }

  void OnDone() override {
    if (counted_) {
      impl_->EndCall();
    }
    delete this;
  }

 private:
  void Open() {
    absl::StatusOr<std::unique_ptr<SeriesResponseStream>> stream =
        impl_->backend->Series(request_, call_);
    if (!stream.ok()) {
      End(stream.status());
      return;
    }
    stream_ = *std::move(stream);
    Produce();
  }

  void Produce() {
    if (cancelled_.load()) {
      End(absl::CancelledError("call cancelled"));
      return;
    }
    if (stream_->EncodesSeries()) {
      ProduceEncoded();
      return;
    }
    arena_.Reset();
    response_ = google::protobuf::Arena::CreateMessage<thanos::SeriesResponse>(&arena_);
    if (pending_.has_value()) {
      response_->CopyFrom(*pending_);
      pending_.reset();
      Write(*response_);
      return;
    }
    const int64_t batch = request_.response_batch_size();
    int64_t in_batch = 0;
    while (!ended_) {
      thanos::SeriesResponse* frame =
          google::protobuf::Arena::CreateMessage<thanos::SeriesResponse>(&arena_);
      absl::StatusOr<bool> more = Pull([&] { return stream_->Next(frame); });
      if (!more.ok()) {
        End(more.status());
        return;
      }
      if (!*more)
        break;
      if (frame->has_series()) {
        ++sent_;
        impl_->series_sent.Add();
        if (batch <= 1) {
          Write(*frame);
          return;
        }
        // Same arena: the swap exchanges pointers.
        response_->mutable_batch()->add_series()->Swap(frame->mutable_series());
        if (++in_batch >= batch) {
          break;
        }
        continue;
      }
      if (in_batch == 0) {
        Write(*frame);
        return;
      }
      // A warning or hints frame after a partial batch: sent next, from outside the arena.
      pending_.emplace();
      pending_->CopyFrom(*frame);
      break;
    }
    if (in_batch > 0) {
      Write(*response_);
      return;
    }
    End(absl::OkStatus());
  }

  // The next frame from `next` (true), or false once the stream ended or the request's limit
  // is reached (ended_ is then set).
  template <typename Next>
  absl::StatusOr<bool> Pull(Next next) {
    const int64_t limit = request_.limit();
    if (limit > 0 && sent_ >= limit) {
      ended_ = true;
      return false;
    }
    absl::StatusOr<bool> more = next();
    if (more.ok() && !*more)
      ended_ = true;
    return more;
  }

  // Packs up to response_batch_size encoded series into one frame (a bare `series` frame when
  // the request does not batch) and hands its buffer to gRPC.
  void ProduceEncoded() {
    const int64_t batch = request_.response_batch_size();
    const int64_t per_frame = batch <= 1 ? 1 : batch;
    auto frame = std::make_unique<std::string>();
    frame->reserve(kMaxBatchHeaderBytes + last_frame_bytes_ + last_frame_bytes_ / 8);
    frame->resize(kMaxBatchHeaderBytes);  // room for the batch header, written last
    int64_t in_frame = 0;
    while (!ended_ && in_frame < per_frame) {
      absl::StatusOr<bool> more = Pull([&] { return stream_->NextEncoded(frame.get()); });
      if (!more.ok()) {
        End(more.status());
        return;
      }
      if (!*more)
        break;
      ++sent_;
      ++in_frame;
      impl_->series_sent.Add();
    }
    if (in_frame == 0) {
      End(absl::OkStatus());
      return;
    }
    const size_t body = frame->size() - kMaxBatchHeaderBytes;
    last_frame_bytes_ = body;
    size_t offset = kMaxBatchHeaderBytes;
    if (batch > 1) {
      offset -= BatchHeaderSize(body);
      WriteBatchHeader(body, frame->data() + offset);
    }
    std::string* bytes = frame.release();
    grpc::Slice slice(bytes->data() + offset, bytes->size() - offset, &DeleteString, bytes);
    out_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&out_);
  }

  void Write(const thanos::SeriesResponse& frame) {
    bool own_buffer = false;
    out_.Clear();  // the writer wants an empty buffer; gRPC is done with the last frame
    grpc::Status st =
        grpc::SerializationTraits<thanos::SeriesResponse>::Serialize(frame, &out_, &own_buffer);
    if (!st.ok()) {
      End(absl::InternalError(
          absl::StrCat("cannot serialize a Series frame: ", st.error_message())));
      return;
    }
    StartWrite(&out_);
  }

  void End(const absl::Status& st) {
    impl_->CountFailure(st);
    if (log::Enabled(log::Level::kDebug)) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start_)
                          .count();
      log::Debug(impl_->options.component, "series call",
                 {{"peer", call_.peer},
                  {"matchers", MatchersText(request_.matchers())},
                  {"min_time", std::to_string(request_.min_time())},
                  {"max_time", std::to_string(request_.max_time())},
                  {"series", std::to_string(sent_)},
                  {"code", absl::StatusCodeToString(st.code())},
                  {"err", ToStd(st.message())},
                  {"duration_ms", std::to_string(ms)}});
    }
    Finish(ToGrpc(st));
  }

  StoreServer::Impl* impl_;
  thanos::SeriesRequest request_;
  std::chrono::steady_clock::time_point start_;
  CallContext call_;
  std::atomic<bool> cancelled_{false};
  std::unique_ptr<SeriesResponseStream> stream_;
  std::unique_ptr<char[]> arena_block_;
  google::protobuf::Arena arena_;
  thanos::SeriesResponse* response_ = nullptr;  // on arena_, valid until the next Produce()
  std::optional<thanos::SeriesResponse> pending_;
  grpc::ByteBuffer out_;  // the frame being written
  size_t last_frame_bytes_ = 0;
  int64_t sent_ = 0;
  bool ended_ = false;
  bool counted_ = false;
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* StoreServer::Impl::Series(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request) {
  return new SeriesReactor(this, ctx, request);
}

StoreServer::StoreServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StoreServer::~StoreServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<StoreServer>> StoreServer::Start(
    std::shared_ptr<StoreBackend> backend, const StoreServerOptions& options) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options.tls);
  if (!credentials.ok()) {
    return credentials.status();
  }
  auto impl = std::make_unique<Impl>();
  impl->backend = std::move(backend);
  impl->options = options;
  impl->registry = options.registry;
  impl->RegisterMetrics();
  const int workers = options.workers > 0
                          ? options.workers
                          : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  impl->pool = std::make_unique<WorkerPool>(workers);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.address, *credentials, &impl->port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  // Thanos clients ping every 10 s; gRPC's default would answer that with GOAWAY.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC sets SO_REUSEPORT by default, which would let a second server share a busy port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(static_cast<StoreService*>(impl.get()));
  builder.RegisterService(static_cast<thanos::info::Info::CallbackService*>(impl.get()));
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0) {
    if (impl->server != nullptr) {
      impl->server->Shutdown();
    }
    std::string reason = DiagnoseBind(options.address);
    if (reason.empty()) {
      reason = options.tls.enabled()
                   ? "gRPC rejected the TLS certificate or key (does the key belong to the "
                     "certificate?)"
                   : "unknown error";
    }
    return absl::UnavailableError(
        fmt::format("cannot listen for gRPC on {}: {}", options.address, reason));
  }
  return std::unique_ptr<StoreServer>(new StoreServer(std::move(impl)));
}

int StoreServer::port() const { return impl_->port; }

std::string StoreServer::address() const {
  const std::string& a = impl_->options.address;
  const size_t colon = a.rfind(':');
  return fmt::format("{}:{}", colon == std::string::npos ? a : a.substr(0, colon), impl_->port);
}

StoreServerStats StoreServer::stats() const {
  StoreServerStats s;
  s.info_requests = impl_->info_requests.value.load();
  s.series_requests = impl_->series_requests.value.load();
  s.label_names_requests = impl_->label_names_requests.value.load();
  s.label_values_requests = impl_->label_values_requests.value.load();
  s.series_sent = impl_->series_sent.value.load();
  s.failed_requests = impl_->failed_requests.value.load();
  return s;
}

void StoreServer::Shutdown(int64_t grace_ms) {
  std::call_once(impl_->shutdown_once, [&] {
    {
      std::unique_lock lock(impl_->calls_mu);
      impl_->draining = true;
      impl_->calls_cv.wait_for(lock, std::chrono::milliseconds(grace_ms),
                               [this] { return impl_->in_flight == 0; });
    }
    // gRPC would wait for idle client connections until the deadline; calls are done (or out
    // of grace), so cancel what is left now.
    impl_->server->Shutdown(std::chrono::system_clock::now());
    impl_->server->Wait();
    impl_->pool.reset();
  });
}

}  // namespace paodin::storeapi
