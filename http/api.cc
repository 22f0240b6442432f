#include "http/api.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/model/time.h"
#include "engine/util/log.h"
#include "engine/util/strings.h"
#include "http/form.h"
#include "http/json.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include <unistd.h>

namespace paodin::http {

// Which handler a route runs.
enum class Endpoint {
  kQuery,
  kQueryRange,
  kSeries,
  kLabelNames,
  kLabelValues,
  kMetadata,
  kExemplars,
  kBuildInfo,
  kFlags,
  kRuntimeInfo,
  kStores,
  kHealthy,
  kReady,
  kMetrics,
  kOptions,
};

struct ApiRoute {
  Endpoint endpoint;
  // The `handler` label of the request metrics (Thanos' names).
  std::string_view handler;
  bool allow_post;
  // Served under /api/v1 (JSON API with CORS) rather than at the root.
  bool api;
};

struct Api::Metrics {
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Histogram>* duration = nullptr;
  prometheus::Family<prometheus::Gauge>* inflight = nullptr;
  prometheus::Gauge* gate_in_flight = nullptr;
  prometheus::Gauge* gate_max = nullptr;
  prometheus::Counter* gate_total = nullptr;
  prometheus::Histogram* gate_duration = nullptr;
};

namespace {

constexpr std::string_view kCorsHeaders[][2] = {
    {"Access-Control-Allow-Headers",
     "Accept, Accept-Encoding, Authorization, Content-Type, Origin"},
    {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
    {"Access-Control-Allow-Origin", "*"},
    {"Access-Control-Expose-Headers", "Date"},
};

std::string NormalizePrefix(std::string_view prefix) {
  std::string p(prefix);
  while (!p.empty() && p.back() == '/')
    p.pop_back();
  if (!p.empty() && p.front() != '/')
    p.insert(p.begin(), '/');
  return p;
}

// The API route for a path below /api/v1 (without that part), and the label name of
// /label/<name>/values.
const ApiRoute* FindApiRoute(std::string_view rest, std::string_view& label_name);

void PlainText(ResponseWriter& w, int status, std::string_view body) {
  w.SetStatus(status);
  w.SetHeader("Content-Type", "text/plain; charset=utf-8");
  w.SetHeader("X-Content-Type-Options", "nosniff");
  (void)w.Write(body);
}

void TruncateToLimit(int64_t limit, std::vector<std::string>& warnings, auto& values) {
  if (limit > 0 && values.size() > static_cast<size_t>(limit)) {
    values.resize(static_cast<size_t>(limit));
    warnings.push_back("results truncated due to limit");
  }
}

Form ParseRequestForm(const HttpRequest& request) {
  size_t q = request.target.find('?');
  std::string_view query =
      q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1);
  return Form::Parse(request.method, query, request.content_type, request.body);
}

// The number of threads of this process (Thanos reports goroutines).
int64_t CountThreads() {
  std::error_code ec;
  int64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/task", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n;
}

std::string FormatSeconds(double seconds) {
  std::string out;
  AppendGoJsonFloat(out, seconds);
  return out;
}

}  // namespace

namespace {

constexpr ApiRoute kRoutes[] = {
    {Endpoint::kQuery, "query", true, true},
    {Endpoint::kQueryRange, "query_range", true, true},
    {Endpoint::kSeries, "series", true, true},
    {Endpoint::kLabelNames, "label_names", true, true},
    {Endpoint::kLabelValues, "label_values", false, true},
    {Endpoint::kMetadata, "metadata", false, true},
    {Endpoint::kExemplars, "exemplars", true, true},
    {Endpoint::kBuildInfo, "status_build", false, true},
    {Endpoint::kFlags, "status_flags", false, true},
    {Endpoint::kRuntimeInfo, "status_runtime", false, true},
    {Endpoint::kStores, "stores", false, true},
    {Endpoint::kHealthy, "healthy", false, false},
    {Endpoint::kReady, "ready", false, false},
    {Endpoint::kMetrics, "metrics", false, false},
    {Endpoint::kOptions, "options", false, true},
};

const ApiRoute* RouteFor(Endpoint e) {
  for (const ApiRoute& r : kRoutes) {
    if (r.endpoint == e)
      return &r;
  }
  return nullptr;
}

const ApiRoute* FindApiRoute(std::string_view rest, std::string_view& label_name) {
  struct Fixed {
    std::string_view path;
    Endpoint endpoint;
  };

  static constexpr Fixed kFixed[] = {
      {"/query", Endpoint::kQuery},
      {"/query_range", Endpoint::kQueryRange},
      {"/series", Endpoint::kSeries},
      {"/labels", Endpoint::kLabelNames},
      {"/metadata", Endpoint::kMetadata},
      {"/query_exemplars", Endpoint::kExemplars},
      {"/status/buildinfo", Endpoint::kBuildInfo},
      {"/status/flags", Endpoint::kFlags},
      {"/status/runtimeinfo", Endpoint::kRuntimeInfo},
      {"/stores", Endpoint::kStores},
  };
  for (const Fixed& f : kFixed) {
    if (rest == f.path)
      return RouteFor(f.endpoint);
  }
  constexpr std::string_view kLabel = "/label/";
  constexpr std::string_view kValues = "/values";
  if (absl::StartsWith(ToAbsl(rest), ToAbsl(kLabel)) &&
      absl::EndsWith(ToAbsl(rest), ToAbsl(kValues)) &&
      rest.size() > kLabel.size() + kValues.size()) {
    std::string_view name =
        rest.substr(kLabel.size(), rest.size() - kLabel.size() - kValues.size());
    if (name.find('/') == std::string_view::npos) {
      label_name = name;
      return RouteFor(Endpoint::kLabelValues);
    }
  }
  return nullptr;
}

// The API route of `path` (a route under `prefix` + "/api/v1"), null for any other path;
// `label_name` points into `path`.
const ApiRoute* ApiRouteOf(std::string_view path, std::string_view prefix,
                           std::string_view& label_name) {
  if (!absl::StartsWith(ToAbsl(path), ToAbsl(prefix)))
    return nullptr;
  path.remove_prefix(prefix.size());
  if (!absl::StartsWith(ToAbsl(path), "/api/v1/"))
    return nullptr;
  path.remove_prefix(7);
  return FindApiRoute(path, label_name);
}

// The method as the request metrics label it ("get", "post").
std::string MethodLabel(std::string_view method) {
  std::string label(method);
  std::transform(label.begin(), label.end(), label.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return label;
}

// Splits a target into the unescaped path and the raw query. False when the path has a bad
// escape (Go rejects such a request line).
bool SplitTarget(std::string_view target, std::string& path, std::string_view& query) {
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  absl::StatusOr<std::string> p = PathUnescape(raw_path);
  if (!p.ok())
    return false;
  path = *std::move(p);
  return true;
}

}  // namespace

Api::Api(ApiBackend* backend, ApiOptions options)
    : backend_(backend), options_(std::move(options)), metrics_(std::make_unique<Metrics>()) {
  options_.route_prefix = NormalizePrefix(options_.route_prefix);
  if (!options_.now)
    options_.now = [] { return absl::Now(); };
  start_time_ = options_.now();
  if (options_.registry) {
    prometheus::Registry& reg = *options_.registry;
    metrics_->requests = &prometheus::BuildCounter()
                              .Name("http_requests_total")
                              .Help("Tracks the number of HTTP requests.")
                              .Register(reg);
    metrics_->duration = &prometheus::BuildHistogram()
                              .Name("http_request_duration_seconds")
                              .Help("Tracks the latencies for HTTP requests.")
                              .Register(reg);
    metrics_->inflight = &prometheus::BuildGauge()
                              .Name("http_inflight_requests")
                              .Help("Current number of HTTP requests the handler is responding to.")
                              .Register(reg);
    metrics_->gate_in_flight = &prometheus::BuildGauge()
                                    .Name("thanos_query_concurrent_gate_queries_in_flight")
                                    .Help("Number of queries that are currently in flight.")
                                    .Register(reg)
                                    .Add({});
    metrics_->gate_max = &prometheus::BuildGauge()
                              .Name("thanos_query_concurrent_gate_queries_max")
                              .Help("Maximum number of concurrent queries.")
                              .Register(reg)
                              .Add({});
    metrics_->gate_max->Set(options_.max_concurrent_queries);
    metrics_->gate_total = &prometheus::BuildCounter()
                                .Name("thanos_query_concurrent_gate_queries_total")
                                .Help("Total number of queries.")
                                .Register(reg)
                                .Add({});
    metrics_->gate_duration =
        &prometheus::BuildHistogram()
             .Name("thanos_query_concurrent_gate_duration_seconds")
             .Help("How many seconds it took for queries to wait at the gate.")
             .Register(reg)
             .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9, 20,
                                                              30, 60, 90, 120, 240, 360, 720});
  }
}

Api::~Api() = default;

int64_t Api::NowMs() const { return absl::ToUnixMillis(options_.now()); }

Work Api::Classify(std::string_view method, std::string_view target) const {
  std::string path;
  std::string_view query;
  if (!SplitTarget(target, path, query))
    return Work::kInline;
  std::string_view label_name;
  const ApiRoute* route = ApiRouteOf(path, options_.route_prefix, label_name);
  if (route == nullptr || method == "OPTIONS")
    return Work::kInline;
  switch (route->endpoint) {
    case Endpoint::kQuery:
    case Endpoint::kQueryRange:
      return Work::kQuery;
    case Endpoint::kSeries:
    case Endpoint::kLabelNames:
    case Endpoint::kLabelValues:
    case Endpoint::kMetadata:
      return Work::kMetadata;
    default:
      return Work::kInline;
  }
}

void RespondError(const ApiError& error, ResponseWriter& w) {
  std::string body;
  WriteErrorResponse(error, body);
  w.SetStatus(HttpStatusFor(error.type));
  w.SetHeader("Content-Type", "application/json");
  w.SetHeader("Cache-Control", "no-store");
  (void)w.Write(body);
}

void Api::Handle(const HttpRequest& request, const RequestContext& ctx, ResponseWriter& w) {
  std::string path;
  std::string_view query;
  if (!SplitTarget(request.target, path, query)) {
    PlainText(w, 400, "400 Bad Request");
    return;
  }
  // Find the route: the API under <prefix>/api/v1, the probes and metrics at the root or under
  // the prefix.
  const ApiRoute* route = nullptr;
  std::string_view label_name;
  std::string_view rest = path;
  bool under_prefix = absl::StartsWith(ToAbsl(rest), ToAbsl(options_.route_prefix));
  if (under_prefix)
    rest.remove_prefix(options_.route_prefix.size());
  bool api_path = under_prefix && absl::StartsWith(ToAbsl(rest), "/api/v1/");
  if (api_path) {
    rest.remove_prefix(7);
    route = FindApiRoute(rest, label_name);
    if (request.method == "OPTIONS")
      route = RouteFor(Endpoint::kOptions);
  } else {
    for (std::string_view candidate : {std::string_view(path), rest}) {
      if (candidate == "/-/healthy")
        route = RouteFor(Endpoint::kHealthy);
      if (candidate == "/-/ready")
        route = RouteFor(Endpoint::kReady);
      if (candidate == "/metrics")
        route = RouteFor(Endpoint::kMetrics);
      if (route != nullptr || !under_prefix)
        break;
    }
  }
  if (route == nullptr) {
    PlainText(w, 404, "404 page not found\n");
    return;
  }
  bool method_ok = request.method == "GET" || (route->allow_post && request.method == "POST") ||
                   route->endpoint == Endpoint::kOptions;
  if (!method_ok) {
    w.SetHeader("Allow", route->allow_post ? "GET, OPTIONS, POST" : "GET, OPTIONS");
    PlainText(w, 405, "Method Not Allowed\n");
    return;
  }

  const std::string method_label = MethodLabel(request.method);
  prometheus::Gauge* inflight = nullptr;
  if (metrics_->inflight != nullptr) {
    inflight = &metrics_->inflight->Add(
        {{"handler", std::string(route->handler)}, {"method", method_label}});
    inflight->Increment();
  }
  absl::Time begin = absl::Now();

  if (route->api && !options_.disable_cors) {
    for (const auto& h : kCorsHeaders)
      w.SetHeader(h[0], h[1]);
  }
  int status = 200;
  Dispatch(*route, request, label_name, ctx, w, status);

  if (inflight != nullptr)
    inflight->Decrement();
  CountRequest(*route, method_label, status, begin);
}

void Api::CountRequest(const ApiRoute& route, const std::string& method_label, int status,
                       absl::Time begin) {
  if (metrics_->requests == nullptr)
    return;
  std::map<std::string, std::string> labels = {{"code", absl::StrCat(status)},
                                               {"handler", std::string(route.handler)},
                                               {"method", method_label}};
  metrics_->requests->Add(labels).Increment();
  metrics_->duration
      ->Add(labels, prometheus::Histogram::BucketBoundaries{0.001, 0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9,
                                                            20, 30, 60, 90, 120})
      .Observe(absl::ToDoubleSeconds(absl::Now() - begin));
}

void Api::Dispatch(const ApiRoute& route, const HttpRequest& request, std::string_view label_name,
                   const RequestContext& ctx, ResponseWriter& w, int& status) {
  auto json_ok = [&](std::string_view data) {
    std::string body;
    WriteRawDataResponse(data, body);
    w.SetStatus(200);
    w.SetHeader("Content-Type", "application/json");
    (void)w.Write(body);
  };
  switch (route.endpoint) {
    case Endpoint::kOptions:
      status = 204;
      w.SetStatus(204);
      return;
    case Endpoint::kHealthy:
      w.SetStatus(200);
      w.SetHeader("Content-Type", "text/plain; charset=utf-8");
      (void)w.Write("OK");
      return;
    case Endpoint::kReady:
      if (backend_->Ready()) {
        w.SetStatus(200);
        w.SetHeader("Content-Type", "text/plain; charset=utf-8");
        (void)w.Write("OK");
      } else {
        status = 503;
        PlainText(w, 503, "NOT OK\n");
      }
      return;
    case Endpoint::kMetrics:
      WriteMetrics(w);
      return;
    case Endpoint::kBuildInfo:
      json_ok(BuildInfoData(backend_->GetBuildInfo()));
      return;
    case Endpoint::kFlags:
      json_ok(FlagsData(backend_->Flags()));
      return;
    case Endpoint::kRuntimeInfo: {
      std::error_code ec;
      std::string cwd = std::filesystem::current_path(ec).string();
      if (ec)
        cwd = "<error retrieving current working directory>";
      std::string data = "{\"startTime\":";
      AppendJsonString(data, FormatRfc3339Nano(start_time_));
      data.append(",\"CWD\":");
      AppendJsonString(data, cwd);
      data.append(",\"goroutineCount\":");
      AppendInt(data, CountThreads());
      data.append(",\"GOMAXPROCS\":");
      AppendInt(data, static_cast<int64_t>(std::thread::hardware_concurrency()));
      data.append(",\"GOGC\":\"\",\"GODEBUG\":\"\"}");
      json_ok(data);
      return;
    }
    case Endpoint::kStores:
      json_ok(StoresData(backend_->Stores()));
      return;
    case Endpoint::kExemplars: {
      Form form = ParseRequestForm(request);
      std::string_view start = form.Value("start");
      std::string_view end = form.Value("end");
      int64_t start_ms = engine::kMinApiTime;
      int64_t end_ms = engine::kMaxApiTime;
      for (auto [name, value, target] :
           {std::tuple{"start", start, &start_ms}, std::tuple{"end", end, &end_ms}}) {
        if (value.empty())
          continue;
        absl::StatusOr<int64_t> t = engine::ParseApiTime(value);
        if (!t.ok()) {
          ApiError e = InvalidParam(
              name, absl::StrCat("Invalid time value for '", name, "': ", t.status().message()));
          status = HttpStatusFor(e.type);
          RespondError(e, w);
          return;
        }
        *target = *t;
      }
      if (end_ms < start_ms) {
        ApiError e = InvalidParam("end", "end timestamp must not be before start timestamp");
        status = HttpStatusFor(e.type);
        RespondError(e, w);
        return;
      }
      json_ok("[]");
      return;
    }
    case Endpoint::kQuery:
    case Endpoint::kQueryRange:
      Query(route.endpoint == Endpoint::kQueryRange, request, ctx, w, status);
      return;
    case Endpoint::kSeries:
    case Endpoint::kLabelNames:
    case Endpoint::kLabelValues:
    case Endpoint::kMetadata:
      Metadata(static_cast<int>(route.endpoint), label_name, request, ctx, w, status);
      return;
  }
}

namespace {

engine::QueryContext MakeQueryContext(const RequestContext& ctx, int64_t timeout_ms) {
  engine::QueryContext qctx;
  qctx.cancelled = ctx.cancelled;
  int64_t received = ctx.received_steady_ms != 0 ? ctx.received_steady_ms : engine::NowSteadyMs();
  qctx.deadline_steady_ms = received + std::max<int64_t>(timeout_ms, 0);
  // A deadline of exactly 0 would read as "none".
  if (qctx.deadline_steady_ms == 0)
    qctx.deadline_steady_ms = 1;
  return qctx;
}

// Answers a successful result whose body is streamed by `write`.
template <typename WriteFn>
void RespondStreamed(ResponseWriter& w, bool no_store, WriteFn write) {
  w.SetStatus(200);
  w.SetHeader("Content-Type", "application/json");
  if (no_store)
    w.SetHeader("Cache-Control", "no-store");
  JsonOut out(&w);
  (void)write(out);
}

}  // namespace

void Api::Query(bool range, const HttpRequest& request, const RequestContext& ctx,
                ResponseWriter& w, int& status) {
  int64_t start_steady = engine::NowSteadyMs();
  absl::Time begin = absl::Now();
  int64_t queue_ms =
      ctx.received_steady_ms != 0 ? std::max<int64_t>(start_steady - ctx.received_steady_ms, 0) : 0;
  Form form = ParseRequestForm(request);
  auto fail = [&](const ApiError& e) {
    status = HttpStatusFor(e.type);
    if (status >= 500 && e.type != ErrorType::kCanceled) {
      log::Warn("http", "request failed",
                {{"path", request.target.substr(0, request.target.find('?'))},
                 {"type", ErrorTypeName(e.type)},
                 {"err", e.message}});
    }
    RespondError(e, w);
  };

  absl::StatusOr<QueryResult> result;
  std::string log_range;
  std::string query_text;
  if (range) {
    absl::StatusOr<ParsedRangeQuery> parsed =
        ParseRangeQuery(form, options_.defaults, options_.parse_selector);
    if (!parsed.ok())
      return fail(FromStatus(parsed.status()));
    query_text = parsed->request.params.query;
    log_range = absl::StrCat("start=", engine::FormatRfc3339Millis(parsed->request.start_ms),
                             " end=", engine::FormatRfc3339Millis(parsed->request.end_ms),
                             " step=", parsed->request.step_ms);
    if (metrics_->gate_total != nullptr) {
      metrics_->gate_total->Increment();
      metrics_->gate_duration->Observe(static_cast<double>(queue_ms) / 1000);
      metrics_->gate_in_flight->Increment();
    }
    result = backend_->RangeQuery(parsed->request, MakeQueryContext(ctx, parsed->timeout_ms));
  } else {
    absl::StatusOr<ParsedInstantQuery> parsed =
        ParseInstantQuery(form, options_.defaults, options_.parse_selector, NowMs());
    if (!parsed.ok())
      return fail(FromStatus(parsed.status()));
    query_text = parsed->request.params.query;
    log_range = absl::StrCat("time=", engine::FormatRfc3339Millis(parsed->request.time_ms));
    if (metrics_->gate_total != nullptr) {
      metrics_->gate_total->Increment();
      metrics_->gate_duration->Observe(static_cast<double>(queue_ms) / 1000);
      metrics_->gate_in_flight->Increment();
    }
    result = backend_->InstantQuery(parsed->request, MakeQueryContext(ctx, parsed->timeout_ms));
  }
  if (metrics_->gate_in_flight != nullptr)
    metrics_->gate_in_flight->Decrement();

  absl::Duration took = absl::Now() - begin;
  if (options_.slow_query_threshold > absl::ZeroDuration() &&
      took >= options_.slow_query_threshold) {
    std::string seconds = FormatSeconds(absl::ToDoubleSeconds(took));
    std::string outcome = result.ok() ? "ok" : std::string(result.status().message());
    log::Info("query", "slow query",
              {{"path", range ? "query_range" : "query"},
               {"query", query_text},
               {"params", log_range},
               {"duration_seconds", seconds},
               {"result", outcome}});
  }

  if (!result.ok()) {
    ApiError e = FromStatus(result.status());
    // Prometheus 2.42 prefixes expression errors on /query only; /query_range answers them
    // bare.
    if (e.type == ErrorType::kBadData && !range)
      e = InvalidParam("query", e.message);
    return fail(e);
  }
  ExecTimings timings;
  timings.exec_queue_seconds = static_cast<double>(queue_ms) / 1000;
  timings.eval_seconds = absl::ToDoubleSeconds(took);
  bool with_stats = !form.Value("stats").empty();
  RespondStreamed(w, !result->warnings.empty(), [&](JsonOut& out) {
    return WriteQueryResponse(*result, with_stats, timings, out);
  });
}

void Api::Metadata(int endpoint_int, std::string_view label_name, const HttpRequest& request,
                   const RequestContext& ctx, ResponseWriter& w, int& status) {
  Endpoint endpoint = static_cast<Endpoint>(endpoint_int);
  auto fail = [&](const ApiError& e) {
    status = HttpStatusFor(e.type);
    if (status >= 500 && e.type != ErrorType::kCanceled) {
      log::Warn("http", "request failed",
                {{"path", request.target.substr(0, request.target.find('?'))},
                 {"type", ErrorTypeName(e.type)},
                 {"err", e.message}});
    }
    RespondError(e, w);
  };
  engine::QueryContext qctx = MakeQueryContext(ctx, options_.defaults.query_timeout_ms);

  if (endpoint == Endpoint::kMetadata) {
    // Like Thanos, only the URL query counts here.
    Form form = ParseRequestForm(HttpRequest{"GET", request.target, "", ""});
    int64_t limit = -1;
    if (std::string_view l = form.Value("limit"); !l.empty()) {
      absl::StatusOr<int64_t> n = ParseGoInt(l);
      if (!n.ok() || *n > INT32_MAX || *n < INT32_MIN) {
        return fail(ApiError{ErrorType::kBadData,
                             absl::StrCat("invalid metric metadata limit='",
                                          ToAbsl(n.ok() ? std::string_view(l) : "0"), "'")});
      }
      limit = *n;
    }
    auto md = backend_->Metadata(form.Value("metric"), limit, qctx);
    if (!md.ok()) {
      return fail(ApiError{ErrorType::kInternal,
                           absl::StrCat("retrieving metadata: ", md.status().message())});
    }
    std::string body;
    WriteRawDataResponse(MetadataData(*md), body);
    w.SetStatus(200);
    w.SetHeader("Content-Type", "application/json");
    (void)w.Write(body);
    return;
  }

  if (endpoint == Endpoint::kLabelValues) {
    if (absl::Status s = ValidateLabelName(label_name); !s.ok())
      return fail(FromStatus(s));
  }
  Form form = ParseRequestForm(request);
  MetadataEndpoint which = endpoint == Endpoint::kSeries       ? MetadataEndpoint::kSeries
                           : endpoint == Endpoint::kLabelNames ? MetadataEndpoint::kLabelNames
                                                               : MetadataEndpoint::kLabelValues;
  absl::StatusOr<MetadataRequest> parsed =
      ParseMetadataRequest(which, form, options_.defaults, options_.parse_selector, NowMs());
  if (!parsed.ok())
    return fail(FromStatus(parsed.status()));

  // Backend failures here are execution errors (Thanos), except cancellation and timeouts.
  auto backend_error = [&](const absl::Status& s) {
    ApiError e = FromStatus(s);
    if (e.type != ErrorType::kCanceled && e.type != ErrorType::kTimeout) {
      e.type = ErrorType::kExecution;
    }
    fail(e);
  };
  if (endpoint == Endpoint::kSeries) {
    absl::StatusOr<SeriesResult> r = backend_->Series(*parsed, qctx);
    if (!r.ok())
      return backend_error(r.status());
    TruncateToLimit(parsed->limit, r->warnings, r->series);
    RespondStreamed(w, !r->warnings.empty(),
                    [&](JsonOut& out) { return WriteSeriesResponse(r->series, r->warnings, out); });
    return;
  }
  absl::StatusOr<StringsResult> r = endpoint == Endpoint::kLabelNames
                                        ? backend_->LabelNames(*parsed, qctx)
                                        : backend_->LabelValues(label_name, *parsed, qctx);
  if (!r.ok())
    return backend_error(r.status());
  TruncateToLimit(parsed->limit, r->warnings, r->values);
  RespondStreamed(w, !r->warnings.empty(),
                  [&](JsonOut& out) { return WriteStringsResponse(r->values, r->warnings, out); });
}

bool Api::HandleWithoutWaiting(const HttpRequest& request, ResponseWriter& w) {
  // Larger answers are written by a worker, which streams and compresses them.
  constexpr size_t kMaxInlineBytes = 32 << 10;
  if (request.method != "GET" && request.method != "POST")
    return false;
  std::string path;
  std::string_view query;
  if (!SplitTarget(request.target, path, query))
    return false;
  std::string_view label_name;
  const ApiRoute* route = ApiRouteOf(path, options_.route_prefix, label_name);
  if (route == nullptr ||
      (route->endpoint != Endpoint::kLabelNames && route->endpoint != Endpoint::kLabelValues)) {
    return false;
  }
  const bool names = route->endpoint == Endpoint::kLabelNames;
  if (!names && !ValidateLabelName(label_name).ok())
    return false;
  const absl::Time begin = absl::Now();
  absl::StatusOr<MetadataRequest> parsed = ParseMetadataRequest(
      names ? MetadataEndpoint::kLabelNames : MetadataEndpoint::kLabelValues,
      ParseRequestForm(request), options_.defaults, options_.parse_selector, NowMs());
  if (!parsed.ok())
    return false;
  std::optional<StringsResult> r = names ? backend_->LabelNamesAtHand(*parsed)
                                         : backend_->LabelValuesAtHand(label_name, *parsed);
  if (!r.has_value())
    return false;
  size_t bytes = 0;
  for (const std::string& v : r->values)
    bytes += v.size() + 3;
  if (bytes > kMaxInlineBytes)
    return false;
  TruncateToLimit(parsed->limit, r->warnings, r->values);
  if (!options_.disable_cors) {
    for (const auto& h : kCorsHeaders)
      w.SetHeader(h[0], h[1]);
  }
  RespondStreamed(w, !r->warnings.empty(),
                  [&](JsonOut& out) { return WriteStringsResponse(r->values, r->warnings, out); });
  CountRequest(*route, MethodLabel(request.method), 200, begin);
  return true;
}

void Api::WriteMetrics(ResponseWriter& w) {
  w.SetStatus(200);
  w.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  if (!options_.registry) {
    (void)w.Write("");
    return;
  }
  prometheus::TextSerializer serializer;
  (void)w.Write(serializer.Serialize(options_.registry->Collect()));
}

}  // namespace paodin::http
