#include "storeapi/proxy/proxy.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "absl/cleanup/cleanup.h"
#include "engine/util/status_macros.h"
#include "engine/util/strings.h"
#include "storeapi/chunkenc/xor.h"
#include "storeapi/client/grpc_util.h"
#include "storeapi/client/series_stream.h"
#include "storeapi/proxy/label_cache.h"
#include "storeapi/proxy/merge.h"
#include "storeapi/proxy/sample_iterators.h"
#include "storeapi/proxy/selection.h"

namespace paodin::storeapi {
namespace {

using Clock = std::chrono::steady_clock;

thanos::LabelMatcher::Type ToWireType(engine::MatchType type) {
  switch (type) {
    case engine::MatchType::kEqual:
      return thanos::LabelMatcher::EQ;
    case engine::MatchType::kNotEqual:
      return thanos::LabelMatcher::NEQ;
    case engine::MatchType::kRegexMatch:
      return thanos::LabelMatcher::RE;
    case engine::MatchType::kRegexNoMatch:
      return thanos::LabelMatcher::NRE;
  }
  return thanos::LabelMatcher::EQ;
}

void AddMatchers(std::span<const engine::Matcher> matchers,
                 google::protobuf::RepeatedPtrField<thanos::LabelMatcher>* out) {
  for (const engine::Matcher& m : matchers) {
    thanos::LabelMatcher* w = out->Add();
    w->set_type(ToWireType(m.type()));
    w->set_name(m.name());
    w->set_value(m.value());
  }
}

// Thanos' aggrsFromFunc: which downsampled aggregates a function wants.
void AddAggregates(std::string_view func, thanos::SeriesRequest* req) {
  auto starts = [&](std::string_view p) { return func.starts_with(p); };
  if (starts("min")) {
    req->add_aggregates(thanos::MIN);
  } else if (starts("max")) {
    req->add_aggregates(thanos::MAX);
  } else if (starts("count")) {
    req->add_aggregates(thanos::COUNT);
  } else if (starts("sum_")) {
    req->add_aggregates(thanos::SUM);
  } else if (func == "increase" || func == "rate" || func == "irate" || func == "resets" ||
             func == "xincrease" || func == "xrate") {
    req->add_aggregates(thanos::COUNTER);
  } else {
    req->add_aggregates(thanos::COUNT);
    req->add_aggregates(thanos::SUM);
  }
}

thanos::PartialResponseStrategy ToWire(PartialResponseStrategy s) {
  return s == PartialResponseStrategy::kAbort ? thanos::ABORT : thanos::WARN;
}

// The request's options with the process-wide defaults filled in.
struct Resolved {
  bool dedup = false;
  std::vector<std::string> replica_labels;
  PartialResponseStrategy strategy = PartialResponseStrategy::kWarn;
  std::string tenant;
};

Resolved Resolve(const ProxyOptions& options, const RequestOptions& request) {
  Resolved r;
  r.replica_labels = request.replica_labels.value_or(options.replica_labels);
  std::sort(r.replica_labels.begin(), r.replica_labels.end());
  r.replica_labels.erase(std::unique(r.replica_labels.begin(), r.replica_labels.end()),
                         r.replica_labels.end());
  r.dedup = request.dedup.value_or(true) && !r.replica_labels.empty();
  r.strategy = request.partial_response.value_or(options.default_partial_response);
  r.tenant = request.tenant.empty() ? options.default_tenant : request.tenant;
  return r;
}

Clock::time_point SelectDeadline(const ProxyOptions& options, const engine::QueryContext& ctx) {
  Clock::time_point deadline = Clock::time_point::max();
  if (options.query_timeout.count() > 0)
    deadline = Clock::now() + options.query_timeout;
  if (ctx.deadline_steady_ms != 0) {
    deadline =
        std::min(deadline, Clock::time_point(std::chrono::milliseconds(ctx.deadline_steady_ms)));
  }
  return deadline;
}

std::chrono::system_clock::time_point ToSystem(Clock::time_point t) {
  if (t == Clock::time_point::max())
    return std::chrono::system_clock::time_point::max();
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - Clock::now());
}

// A counting semaphore bounding the Selects of one request that fetch at once.
class Gate {
 public:
  explicit Gate(int slots) : free_(std::max(slots, 1)) {}

  absl::Status Acquire(Clock::time_point deadline, const engine::QueryContext& ctx) {
    std::unique_lock<std::mutex> lock(mu_);
    while (free_ == 0) {
      if (absl::Status st = ctx.Done(); !st.ok())
        return st;
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError("query timed out waiting for a Select slot");
      }
      cv_.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::milliseconds(50)));
    }
    --free_;
    return absl::OkStatus();
  }

  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

// One store's stream as a merge input, applying the partial response strategy.
class StreamSource final : public SeriesSource {
 public:
  StreamSource(std::unique_ptr<SeriesStream> stream, PartialResponseStrategy strategy,
               std::shared_ptr<WarningSink> warnings, const engine::QueryContext* ctx)
      : stream_(std::move(stream)),
        strategy_(strategy),
        warnings_(std::move(warnings)),
        ctx_(ctx) {}

  absl::StatusOr<bool> Next() override {
    if (finished_)
      return false;
    absl::StatusOr<bool> more = stream_->Next(&current_, *ctx_);
    if (!more.ok())
      return more.status();
    for (std::string& w : stream_->TakeWarnings())
      warnings_->Add(std::move(w));
    if (*more)
      return true;
    finished_ = true;
    absl::Status err = stream_->store_error();
    if (!err.ok()) {
      if (strategy_ == PartialResponseStrategy::kAbort)
        return err;
      warnings_->Add(std::string(err.message()));
    }
    stream_.reset();  // release the call and its buffers now
    return false;
  }

  StoreSeries& current() override { return current_; }

 private:
  std::unique_ptr<SeriesStream> stream_;
  PartialResponseStrategy strategy_;
  std::shared_ptr<WarningSink> warnings_;
  const engine::QueryContext* ctx_;
  StoreSeries current_;
  bool finished_ = false;
};

class EmptySeriesSet final : public engine::SeriesSet {
 public:
  bool Next() override { return false; }

  const engine::Labels& labels() const override { return labels_; }

  std::unique_ptr<engine::SampleIterator> Samples() override { return nullptr; }

  absl::Status status() const override { return absl::OkStatus(); }

 private:
  engine::Labels labels_;
};

// The merged, optionally deduplicated answer of one Select.
class ProxySeriesSet final : public engine::SeriesSet {
 public:
  struct Params {
    int64_t mint = 0;
    int64_t maxt = 0;
    bool dedup = false;
    DedupParams dedup_params;
    int64_t max_series = 0;
    int64_t max_samples = 0;
  };

  ProxySeriesSet(std::unique_ptr<engine::QueryContext> ctx,
                 std::shared_ptr<IterationContext> iter_ctx, Params params)
      : ctx_(std::move(ctx)), iter_ctx_(std::move(iter_ctx)), params_(params) {}

  // Takes the sources (which point at ctx_) and primes the merge.
  absl::Status Init(std::vector<std::unique_ptr<SeriesSource>> sources) {
    merger_ = std::make_unique<SeriesMerger>(std::move(sources));
    return merger_->Init();
  }

  const engine::QueryContext* query_context() const { return ctx_.get(); }

  bool Next() override {
    if (!status_.ok() || merger_ == nullptr)
      return false;
    StoreSeries next;
    absl::StatusOr<bool> more = merger_->Next(&next);
    if (!more.ok()) {
      status_ = more.status();
      return false;
    }
    if (!*more) {
      merger_.reset();  // every stream is finished: free them
      current_.reset();
      return false;
    }
    ++series_;
    if (params_.max_series > 0 && series_ > params_.max_series) {
      status_ = absl::ResourceExhaustedError(
          fmt::format("exceeded series limit: limit {} violated (got {}) "
                      "(--store.limits.request-series)",
                      params_.max_series, series_));
      return false;
    }
    if (params_.max_samples > 0) {
      for (const StoreChunk& c : next.chunks) {
        absl::StatusOr<int> n = XorNumSamples(c.data);
        samples_ += n.ok() ? *n : 0;
      }
      if (samples_ > params_.max_samples) {
        status_ = absl::ResourceExhaustedError(
            fmt::format("exceeded samples limit: limit {} violated (got {}) "
                        "(--store.limits.request-samples)",
                        params_.max_samples, samples_));
        return false;
      }
    }
    current_ = std::make_shared<const StoreSeries>(std::move(next));
    return true;
  }

  const engine::Labels& labels() const override { return current_->labels; }

  std::unique_ptr<engine::SampleIterator> Samples() override {
    if (params_.dedup) {
      return NewDedupSampleIterator(current_, params_.mint, params_.maxt, params_.dedup_params,
                                    iter_ctx_);
    }
    return NewChunkSampleIterator(current_, params_.mint, params_.maxt, iter_ctx_);
  }

  absl::Status status() const override { return status_; }

  std::vector<std::string> warnings() const override { return iter_ctx_->warnings->Get(); }

 private:
  std::unique_ptr<engine::QueryContext> ctx_;
  std::shared_ptr<IterationContext> iter_ctx_;
  Params params_;
  std::unique_ptr<SeriesMerger> merger_;
  std::shared_ptr<const StoreSeries> current_;
  absl::Status status_;
  int64_t series_ = 0;
  int64_t samples_ = 0;
};

// Series per frame asked of the stores: `base` for a long selection, more for a short one (an
// instant selection carries one or two chunks per series, so `base` of them make frames of
// ~15 KB whose fixed costs, a gRPC message and a wake-up at each end, dominate), so that frames
// come out about the same size either way.
int64_t SeriesBatchSize(int64_t base, int64_t start_ms, int64_t end_ms) {
  constexpr uint64_t kChunkSpanMs = 30 * 60 * 1000;  // 120 samples at a 15 s scrape
  constexpr int64_t kLongChunks = 13;                // chunks of a 6 h selection
  if (base <= 1)
    return base;
  const uint64_t range =
      end_ms > start_ms ? static_cast<uint64_t>(end_ms) - static_cast<uint64_t>(start_ms) : 0;
  const int64_t chunks =
      1 + static_cast<int64_t>(std::min<uint64_t>(range / kChunkSpanMs, kLongChunks));
  return std::clamp<int64_t>(base * kLongChunks / chunks, base, 16 * base);
}

// Fans a unary label call out to stores and merges the answers. The calls complete on a
// completion queue that the calling thread polls itself: no hand-off to gRPC's callback threads
// and back, which costs more than the call on a small machine.
template <typename Req, typename Resp>
struct UnaryCall {
  grpc::ClientContext context;
  Req request;
  Resp response;
  grpc::Status status;
  std::string store;
  // The store's Info when the call started, and the answer's cache key (empty: not cached).
  std::shared_ptr<const EndpointInfo> info;
  std::string cache_key;
  Clock::time_point started;
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> reader;
};

template <typename Req, typename Resp, typename Start, typename Values>
absl::StatusOr<LabelResult> FanOutLabels(std::span<const StoreRef> stores, const Req& request,
                                         const Resolved& resolved, Clock::time_point deadline,
                                         int64_t limit, std::string_view what,
                                         StoreRequestObserver* observer, LabelCache* cache,
                                         bool cached_only, std::string_view method, Start start,
                                         Values values) {
  LabelResult result;
  std::vector<std::unique_ptr<UnaryCall<Req, Resp>>> calls;
  std::optional<grpc::CompletionQueue> cq;  // made for the first call (cache hits need none)
  const Clock::time_point now = Clock::now();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::string request_bytes;
  for (const StoreRef& s : stores) {
    std::string key;
    if (cache != nullptr && cache->Cacheable(s.info.get(), now_ms)) {
      if (request_bytes.empty())
        request_bytes = request.SerializeAsString();
      key = LabelCache::Key(s.client->address(), method, resolved.tenant, request_bytes);
      if (std::optional<std::vector<std::string>> hit = cache->Get(key, *s.info, now)) {
        for (std::string& v : *hit)
          result.values.push_back(std::move(v));
        continue;
      }
    }
    if (cached_only)
      return absl::NotFoundError("not in the label cache");
    auto call = std::make_unique<UnaryCall<Req, Resp>>();
    call->request = request;
    call->store = s.client->address();
    call->info = s.info;
    call->cache_key = std::move(key);
    if (deadline != Clock::time_point::max())
      call->context.set_deadline(ToSystem(deadline));
    if (!resolved.tenant.empty()) {
      call->context.AddMetadata(std::string(kTenantMetadataKey), resolved.tenant);
    }
    UnaryCall<Req, Resp>* c = call.get();
    c->started = Clock::now();
    if (!cq.has_value())
      cq.emplace();
    c->reader = start(*s.client, c, &*cq);
    c->reader->Finish(&c->response, &c->status, c);
    calls.push_back(std::move(call));
  }
  for (size_t pending = calls.size(); pending > 0; --pending) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq->Next(&tag, &ok))
      break;
    auto* c = static_cast<UnaryCall<Req, Resp>*>(tag);
    if (observer != nullptr) {
      const std::chrono::duration<double> took = Clock::now() - c->started;
      observer->Observe(c->store, method, took.count(), c->status);
    }
  }
  if (cq.has_value()) {
    cq->Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) {
    }
  }
  for (auto& call : calls) {
    if (!call->status.ok()) {
      std::string msg =
          fmt::format("fetch {} from {}: {}", what, call->store, GrpcStatusText(call->status));
      if (resolved.strategy == PartialResponseStrategy::kAbort) {
        return absl::UnavailableError(ToAbsl(msg));
      }
      result.warnings.push_back(std::move(msg));
      continue;
    }
    for (const std::string& w : call->response.warnings())
      result.warnings.push_back(w);
    for (const std::string& v : values(call->response))
      result.values.push_back(v);
    if (!call->cache_key.empty() && call->response.warnings().empty()) {
      const auto& got = values(call->response);
      cache->Put(std::move(call->cache_key), *call->info,
                 std::vector<std::string>(got.begin(), got.end()), now);
    }
  }
  std::sort(result.values.begin(), result.values.end());
  result.values.erase(std::unique(result.values.begin(), result.values.end()), result.values.end());
  if (limit > 0 && static_cast<int64_t>(result.values.size()) > limit) {
    result.values.resize(limit);
  }
  return result;
}

}  // namespace

class Proxy::RequestQueryable final : public engine::Queryable {
 public:
  RequestQueryable(const Proxy* proxy, RequestOptions request)
      : proxy_(proxy), request_(std::move(request)), gate_(proxy->options_.max_concurrent_select) {}

  absl::StatusOr<std::unique_ptr<engine::SeriesSet>> Select(
      const engine::SelectHints& hints, std::span<const engine::Matcher> request_matchers,
      const engine::QueryContext& ctx) override {
    const ProxyOptions& options = proxy_->options_;
    std::vector<engine::Matcher> matchers;
    if (!MatchSelectorLabels(request_matchers, options.selector_labels, &matchers))
      return std::unique_ptr<engine::SeriesSet>(new EmptySeriesSet());
    if (matchers.empty()) {
      return absl::InvalidArgumentError("no matchers specified (excluding selector labels)");
    }
    const Resolved resolved = Resolve(options, request_);
    const Clock::time_point deadline = SelectDeadline(options, ctx);
    if (absl::Status st = gate_.Acquire(deadline, ctx); !st.ok())
      return st;
    absl::Cleanup release = [this] { gate_.Release(); };

    const std::vector<StoreRef> all = proxy_->stores_->Stores();
    std::vector<StoreRef> stores =
        SelectStores(all, hints.start_ms, hints.end_ms, matchers, request_.store_matchers);
    if (stores.empty())
      return std::unique_ptr<engine::SeriesSet>(new EmptySeriesSet());

    thanos::SeriesRequest req;
    req.set_min_time(hints.start_ms);
    req.set_max_time(hints.end_ms);
    AddMatchers(matchers, req.mutable_matchers());
    AddAggregates(hints.func, &req);
    req.set_partial_response_strategy(ToWire(resolved.strategy));
    req.set_skip_chunks(hints.func == "series");
    req.set_response_batch_size(
        SeriesBatchSize(options.response_batch_size, hints.start_ms, hints.end_ms));
    thanos::QueryHints* qh = req.mutable_query_hints();
    qh->set_step_millis(hints.step_ms);
    if (!hints.func.empty())
      qh->mutable_func()->set_name(hints.func);
    if (hints.by || !hints.grouping.empty()) {
      qh->mutable_grouping()->set_by(hints.by);
      for (const std::string& g : hints.grouping)
        qh->mutable_grouping()->add_labels(g);
    }
    if (hints.range_ms > 0)
      qh->mutable_range()->set_millis(hints.range_ms);
    thanos::SeriesRequest req_strip_remote = req;
    if (resolved.dedup) {
      for (const std::string& l : resolved.replica_labels) {
        req_strip_remote.add_without_replica_labels(l);
      }
    }

    auto iter_ctx = std::make_shared<IterationContext>();
    iter_ctx->strategy = resolved.strategy;
    for (const StoreRef& s : stores)
      iter_ctx->store_names.push_back(s.client->address());

    ProxySeriesSet::Params params;
    params.mint = hints.start_ms;
    params.maxt = hints.end_ms;
    params.dedup = resolved.dedup;
    params.dedup_params.func = options.dedup_func;
    params.dedup_params.initial_penalty_ms = options.initial_penalty_ms;
    params.dedup_params.counter = IsCounterFunc(hints.func);
    params.max_series = options.max_series_per_select;
    params.max_samples = options.max_samples_per_select;
    auto set = std::make_unique<ProxySeriesSet>(std::make_unique<engine::QueryContext>(ctx),
                                                iter_ctx, params);

    std::vector<std::unique_ptr<SeriesSource>> sources;
    for (size_t i = 0; i < stores.size(); ++i) {
      const StoreRef& s = stores[i];
      SeriesStreamOptions so;
      so.store_name = s.client->address();
      so.store_index = static_cast<uint32_t>(i);
      so.max_buffered_bytes = options.max_buffered_bytes_per_store;
      so.response_timeout = options.response_timeout;
      so.deadline = deadline;
      so.tenant = resolved.tenant;
      so.observer = options.observer;
      const bool remote_strip = s.info->supports_without_replica_labels;
      if (resolved.dedup && !remote_strip)
        so.strip_labels = resolved.replica_labels;
      auto stream =
          SeriesStream::Open(s.client, remote_strip ? req_strip_remote : req, std::move(so));
      sources.push_back(std::make_unique<StreamSource>(std::move(stream), resolved.strategy,
                                                       iter_ctx->warnings, set->query_context()));
    }
    if (absl::Status st = set->Init(std::move(sources)); !st.ok())
      return st;
    return std::unique_ptr<engine::SeriesSet>(std::move(set));
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(int64_t start_ms, int64_t end_ms,
                                                      std::span<const engine::Matcher> matchers,
                                                      const engine::QueryContext& ctx) override {
    PAODIN_ASSIGN_OR_RETURN(LabelResult r, proxy_->LabelNamesWithWarnings(
                                               request_, start_ms, end_ms, matchers, 0, ctx));
    return std::move(r.values);
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(std::string_view name, int64_t start_ms,
                                                       int64_t end_ms,
                                                       std::span<const engine::Matcher> matchers,
                                                       const engine::QueryContext& ctx) override {
    PAODIN_ASSIGN_OR_RETURN(LabelResult r, proxy_->LabelValuesWithWarnings(
                                               request_, name, start_ms, end_ms, matchers, 0, ctx));
    return std::move(r.values);
  }

 private:
  const Proxy* proxy_;
  RequestOptions request_;
  Gate gate_;
};

Proxy::Proxy(std::shared_ptr<const StoreProvider> stores, ProxyOptions options)
    : stores_(std::move(stores)), options_(std::move(options)) {
  default_ = std::make_unique<RequestQueryable>(this, RequestOptions{});
}

Proxy::~Proxy() = default;

std::unique_ptr<engine::Queryable> Proxy::ForRequest(RequestOptions request) const {
  return std::make_unique<RequestQueryable>(this, std::move(request));
}

absl::StatusOr<std::unique_ptr<engine::SeriesSet>> Proxy::Select(
    const engine::SelectHints& hints, std::span<const engine::Matcher> matchers,
    const engine::QueryContext& ctx) {
  return default_->Select(hints, matchers, ctx);
}

absl::StatusOr<std::vector<std::string>> Proxy::LabelNames(
    int64_t start_ms, int64_t end_ms, std::span<const engine::Matcher> matchers,
    const engine::QueryContext& ctx) {
  return default_->LabelNames(start_ms, end_ms, matchers, ctx);
}

absl::StatusOr<std::vector<std::string>> Proxy::LabelValues(
    std::string_view name, int64_t start_ms, int64_t end_ms,
    std::span<const engine::Matcher> matchers, const engine::QueryContext& ctx) {
  return default_->LabelValues(name, start_ms, end_ms, matchers, ctx);
}

namespace {

// Where a label call goes: its matchers without the selector labels, its strategy and the
// selected stores. Null when the selector labels rule the request out (an empty answer).
struct LabelPlan {
  std::vector<engine::Matcher> matchers;
  Resolved resolved;
  std::vector<StoreRef> stores;
};

std::optional<LabelPlan> PlanLabelCall(const ProxyOptions& options, const StoreProvider& provider,
                                       const RequestOptions& request, int64_t start_ms,
                                       int64_t end_ms,
                                       std::span<const engine::Matcher> request_matchers) {
  LabelPlan plan;
  if (!MatchSelectorLabels(request_matchers, options.selector_labels, &plan.matchers))
    return std::nullopt;
  plan.resolved = Resolve(options, request);
  plan.stores =
      SelectStores(provider.Stores(), start_ms, end_ms, plan.matchers, request.store_matchers);
  return plan;
}

// The fields LabelNamesRequest and LabelValuesRequest share.
template <typename Req>
void FillLabelRequest(const LabelPlan& plan, int64_t start_ms, int64_t end_ms, int64_t limit,
                      Req* req) {
  req->set_start(start_ms);
  req->set_end(end_ms);
  req->set_partial_response_strategy(ToWire(plan.resolved.strategy));
  AddMatchers(plan.matchers, req->mutable_matchers());
  if (limit > 0)
    req->set_limit(limit);
}

// A label names call, or with `cached_only` its answer from the label cache alone (NotFound
// when a store would have to be asked).
absl::StatusOr<LabelResult> LabelNamesCall(
    const ProxyOptions& options, const StoreProvider& provider, const RequestOptions& request,
    int64_t start_ms, int64_t end_ms, std::span<const engine::Matcher> request_matchers,
    int64_t limit, Clock::time_point deadline, bool cached_only) {
  std::optional<LabelPlan> plan =
      PlanLabelCall(options, provider, request, start_ms, end_ms, request_matchers);
  if (!plan.has_value())
    return LabelResult{};
  thanos::LabelNamesRequest req;
  FillLabelRequest(*plan, start_ms, end_ms, limit, &req);
  using Call = UnaryCall<thanos::LabelNamesRequest, thanos::LabelNamesResponse>;
  return FanOutLabels<thanos::LabelNamesRequest, thanos::LabelNamesResponse>(
      plan->stores, req, plan->resolved, deadline, limit, "label names", options.observer.get(),
      options.label_cache.get(), cached_only, "LabelNames",
      [](StoreClient& client, Call* c, grpc::CompletionQueue* cq) {
        return client.store().AsyncLabelNames(&c->context, c->request, cq);
      },
      [](const thanos::LabelNamesResponse& r) -> const auto& { return r.names(); });
}

// The same for the values of label `name`.
absl::StatusOr<LabelResult> LabelValuesCall(const ProxyOptions& options,
                                            const StoreProvider& provider,
                                            const RequestOptions& request, std::string_view name,
                                            int64_t start_ms, int64_t end_ms,
                                            std::span<const engine::Matcher> request_matchers,
                                            int64_t limit, Clock::time_point deadline,
                                            bool cached_only) {
  std::optional<LabelPlan> plan =
      PlanLabelCall(options, provider, request, start_ms, end_ms, request_matchers);
  if (!plan.has_value())
    return LabelResult{};
  thanos::LabelValuesRequest req;
  req.set_label(std::string(name));
  FillLabelRequest(*plan, start_ms, end_ms, limit, &req);
  using Call = UnaryCall<thanos::LabelValuesRequest, thanos::LabelValuesResponse>;
  return FanOutLabels<thanos::LabelValuesRequest, thanos::LabelValuesResponse>(
      plan->stores, req, plan->resolved, deadline, limit, "label values", options.observer.get(),
      options.label_cache.get(), cached_only, "LabelValues",
      [](StoreClient& client, Call* c, grpc::CompletionQueue* cq) {
        return client.store().AsyncLabelValues(&c->context, c->request, cq);
      },
      [](const thanos::LabelValuesResponse& r) -> const auto& { return r.values(); });
}

std::optional<LabelResult> OkOrNothing(absl::StatusOr<LabelResult> r) {
  if (!r.ok())
    return std::nullopt;
  return *std::move(r);
}

}  // namespace

absl::StatusOr<LabelResult> Proxy::LabelNamesWithWarnings(const RequestOptions& request,
                                                          int64_t start_ms, int64_t end_ms,
                                                          std::span<const engine::Matcher> matchers,
                                                          int64_t limit,
                                                          const engine::QueryContext& ctx) const {
  if (absl::Status st = ctx.Done(); !st.ok())
    return st;
  return LabelNamesCall(options_, *stores_, request, start_ms, end_ms, matchers, limit,
                        SelectDeadline(options_, ctx), /*cached_only=*/false);
}

absl::StatusOr<LabelResult> Proxy::LabelValuesWithWarnings(
    const RequestOptions& request, std::string_view name, int64_t start_ms, int64_t end_ms,
    std::span<const engine::Matcher> matchers, int64_t limit,
    const engine::QueryContext& ctx) const {
  if (absl::Status st = ctx.Done(); !st.ok())
    return st;
  return LabelValuesCall(options_, *stores_, request, name, start_ms, end_ms, matchers, limit,
                         SelectDeadline(options_, ctx), /*cached_only=*/false);
}

std::optional<LabelResult> Proxy::CachedLabelNames(const RequestOptions& request, int64_t start_ms,
                                                   int64_t end_ms,
                                                   std::span<const engine::Matcher> matchers,
                                                   int64_t limit) const {
  if (options_.label_cache == nullptr)
    return std::nullopt;
  return OkOrNothing(LabelNamesCall(options_, *stores_, request, start_ms, end_ms, matchers, limit,
                                    Clock::time_point::max(), /*cached_only=*/true));
}

std::optional<LabelResult> Proxy::CachedLabelValues(const RequestOptions& request,
                                                    std::string_view name, int64_t start_ms,
                                                    int64_t end_ms,
                                                    std::span<const engine::Matcher> matchers,
                                                    int64_t limit) const {
  if (options_.label_cache == nullptr)
    return std::nullopt;
  return OkOrNothing(LabelValuesCall(options_, *stores_, request, name, start_ms, end_ms, matchers,
                                     limit, Clock::time_point::max(),
                                     /*cached_only=*/true));
}

}  // namespace paodin::storeapi
