#include "storeapi/sidecar/sidecar_backend.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "engine/model/time.h"
#include "engine/util/log.h"
#include "engine/util/status_macros.h"
#include "engine/util/strings.h"
#include "storeapi/chunkenc/xor.h"
#include "storeapi/server/convert.h"
#include "storeapi/sidecar/prometheus_api.h"
#include "storeapi/sidecar/relabel.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> SortedUnique(const google::protobuf::RepeatedPtrField<std::string>& in) {
  std::vector<std::string> out(in.begin(), in.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

class EmptyStream final : public SeriesResponseStream {
 public:
  absl::StatusOr<bool> Next(thanos::SeriesResponse* /*out*/) override { return false; }
};

// Label-only series already in their final order.
class VectorStream final : public SeriesResponseStream {
 public:
  explicit VectorStream(std::vector<Labels> series) : series_(std::move(series)) {}

  absl::StatusOr<bool> Next(thanos::SeriesResponse* out) override {
    if (pos_ == series_.size()) {
      return false;
    }
    LabelsToProto(series_[pos_++], out->mutable_series()->mutable_labels());
    return true;
  }

 private:
  std::vector<Labels> series_;
  size_t pos_ = 0;
};

// Labels of one remote-read series; DataLoss for a repeated name.
absl::StatusOr<Labels> RemoteLabels(const prometheus::ChunkedSeries& series) {
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(static_cast<size_t>(series.labels_size()));
  for (const prometheus::Label& l : series.labels()) {
    pairs.emplace_back(l.name(), l.value());
  }
  absl::StatusOr<Labels> labels = Labels::FromPairs(std::move(pairs));
  if (!labels.ok()) {
    return absl::DataLossError(fmt::format("remote read returned a bad label set: {}",
                                           std::string(labels.status().message())));
  }
  return labels;
}

// Series from a streamed remote-read response, joined, relabeled and ordered.
class RemoteSeriesStream final : public SeriesResponseStream {
 public:
  RemoteSeriesStream(SidecarBackend* backend, std::unique_ptr<RemoteReadStream> remote,
                     SeriesRelabeler relabeler, bool clean, bool skip_chunks,
                     const CallContext& ctx)
      : backend_(backend),
        remote_(std::move(remote)),
        queue_(std::move(relabeler), clean),
        skip_chunks_(skip_chunks),
        ctx_(ctx) {}

  absl::StatusOr<bool> Next(thanos::SeriesResponse* out) override {
    for (;;) {
      if (queue_.Pop(out->mutable_series())) {
        return true;
      }
      if (finished_) {
        return false;
      }
      if ((++steps_ & 63) == 0) {
        PAODIN_RETURN_IF_ERROR(ctx_.query.Done());
      }
      if (frame_pos_ < frame_.chunked_series_size()) {
        PAODIN_RETURN_IF_ERROR(Take(frame_.mutable_chunked_series(frame_pos_++)));
        continue;
      }
      frame_pos_ = 0;
      frame_.Clear();
      PAODIN_ASSIGN_OR_RETURN(bool more, remote_->Next(&frame_));
      if (more) {
        ++frames_;
        if (frame_.query_index() != 0) {
          return absl::DataLossError(
              fmt::format("remote read returned a frame for query {}, only query 0 was sent",
                          frame_.query_index()));
        }
        continue;
      }
      if (has_current_) {
        PAODIN_RETURN_IF_ERROR(queue_.Push(current_labels_, std::move(current_)));
        has_current_ = false;
      }
      finished_ = true;
      PAODIN_RETURN_IF_ERROR(queue_.Finish());
      backend_->AddStreamStats(remote_->bytes(), frames_, static_cast<int64_t>(queue_.max_held()));
    }
  }

 private:
  // Adds one ChunkedSeries of a frame: part of the current series when the labels are equal
  // (Prometheus splits long series over frames), else the start of the next one.
  absl::Status Take(prometheus::ChunkedSeries* in) {
    PAODIN_ASSIGN_OR_RETURN(Labels labels, RemoteLabels(*in));
    if (!has_current_ || !(labels == current_labels_)) {
      if (has_current_) {
        PAODIN_RETURN_IF_ERROR(queue_.Push(current_labels_, std::move(current_)));
      }
      current_ = thanos::Series();
      current_labels_ = std::move(labels);
      has_current_ = true;
    }
    if (skip_chunks_) {
      return absl::OkStatus();
    }
    for (prometheus::Chunk& c : *in->mutable_chunks()) {
      const int type = static_cast<int>(c.type());
      if (type < prometheus::Chunk::XOR || type > prometheus::Chunk::FLOAT_HISTOGRAM) {
        return absl::DataLossError(
            fmt::format("remote read returned a chunk of {} with encoding {}",
                        current_labels_.ToString(), type));
      }
      thanos::AggrChunk* chunk = current_.add_chunks();
      chunk->set_min_time(c.min_time_ms());
      chunk->set_max_time(c.max_time_ms());
      thanos::Chunk* raw = chunk->mutable_raw();
      // Remote read counts UNKNOWN as 0, so its XOR is 1; the StoreAPI's XOR is 0.
      raw->set_type(static_cast<thanos::Chunk::Encoding>(type - 1));
      raw->set_hash(ChunkHash(c.data()));
      raw->mutable_data()->swap(*c.mutable_data());
    }
    return absl::OkStatus();
  }

  SidecarBackend* backend_;
  std::unique_ptr<RemoteReadStream> remote_;
  OrderedRelabelQueue queue_;
  bool skip_chunks_;
  CallContext ctx_;
  prometheus::ChunkedReadResponse frame_;
  int frame_pos_ = 0;
  thanos::Series current_;
  Labels current_labels_;
  bool has_current_ = false;
  bool finished_ = false;
  int64_t frames_ = 0;
  int64_t steps_ = 0;
};

}  // namespace

absl::StatusOr<MinTimeSpec> ParseMinTime(std::string_view s) {
  MinTimeSpec spec;
  if (s.empty()) {
    spec.fixed_ms = std::numeric_limits<int64_t>::min();
    return spec;
  }
  std::string_view d = s;
  int64_t sign = 1;
  if (d.front() == '-' || d.front() == '+') {
    sign = d.front() == '-' ? -1 : 1;
    d.remove_prefix(1);
  }
  if (absl::StatusOr<int64_t> ms = engine::ParseDuration(d); ms.ok()) {
    spec.relative_ms = sign * *ms;
    return spec;
  }
  if (s.find('T') != std::string_view::npos) {
    if (absl::StatusOr<int64_t> ms = engine::ParseApiTimestamp(s); ms.ok()) {
      spec.fixed_ms = *ms;
      return spec;
    }
  }
  return absl::InvalidArgumentError(fmt::format(
      "--min-time {:?}: want an RFC 3339 time or a duration relative to now (e.g. -2h)", s));
}

SidecarBackend::SidecarBackend(std::shared_ptr<HttpClient> client, SidecarOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

SidecarBackend::~SidecarBackend() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (refresher_.joinable()) {
    refresher_.join();
  }
}

void SidecarBackend::StartBackgroundRefresh() {
  refresher_ = std::thread([this] {
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.refresh_interval_ms),
                              [this] { return stopping_; })) {
      lock.unlock();
      Refresh().IgnoreError();
      lock.lock();
    }
  });
}

absl::Status SidecarBackend::Refresh() {
  std::lock_guard refresh_lock(refresh_mu_);
  engine::QueryContext ctx;
  ctx.deadline_steady_ms = engine::NowSteadyMs() + options_.refresh_timeout_ms;
  absl::StatusOr<Labels> external = FetchExternalLabels(*client_, ctx);
  std::optional<int64_t> lowest;
  bool lowest_ok = false;
  if (external.ok()) {
    absl::StatusOr<std::optional<int64_t>> ts = FetchLowestTimestamp(*client_, ctx);
    if (ts.ok()) {
      lowest = *ts;
      lowest_ok = true;
    } else {
      log::Debug(options_.component, "cannot read Prometheus' lowest timestamp",
                 {{"err", ToStd(ts.status().message())}});
    }
  }
  bool was_ready;
  bool first_attempt;
  bool labels_changed = false;
  {
    std::lock_guard lock(mu_);
    was_ready = ready_;
    first_attempt = stats_.refreshes == 0;
    last_attempt_steady_ms_ = engine::NowSteadyMs();
    ++stats_.refreshes;
    if (external.ok()) {
      labels_changed = ever_ready_ && !(external_ == *external);
      external_ = *external;
      if (lowest_ok) {
        lowest_ts_ = lowest;
      }
      ready_ = true;
      ever_ready_ = true;
    } else {
      ++stats_.failed_refreshes;
      ready_ = false;
      last_error_ = std::string(external.status().message());
    }
  }
  if (external.ok()) {
    if (!was_ready) {
      log::Info(options_.component, "Prometheus is reachable, serving StoreAPI",
                {{"prometheus", client_->url()},
                 {"external_labels", external->ToString()},
                 {"min_time", lowest ? engine::FormatRfc3339Millis(*lowest) : "none"}});
    } else if (labels_changed) {
      log::Info(options_.component, "external labels changed",
                {{"external_labels", external->ToString()}});
    }
    return absl::OkStatus();
  }
  if (was_ready || first_attempt) {
    log::Error(options_.component,
               "Prometheus is unreachable: refusing to serve (Info fails) until it answers",
               {{"prometheus", client_->url()}, {"err", ToStd(external.status().message())}});
  } else {
    log::Debug(options_.component, "Prometheus still unreachable",
               {{"err", ToStd(external.status().message())}});
  }
  return external.status();
}

bool SidecarBackend::ready() const {
  std::lock_guard lock(mu_);
  return ready_;
}

Labels SidecarBackend::external_labels() const {
  std::lock_guard lock(mu_);
  return external_;
}

SidecarStats SidecarBackend::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void SidecarBackend::AddStreamStats(int64_t bytes, int64_t frames, int64_t max_held) {
  std::lock_guard lock(mu_);
  stats_.remote_read_bytes += bytes;
  stats_.frames += frames;
  stats_.max_held_series = std::max(stats_.max_held_series, max_held);
}

absl::Status SidecarBackend::EnsureReady() {
  {
    std::lock_guard lock(mu_);
    if (ready_) {
      return absl::OkStatus();
    }
    if (last_attempt_steady_ms_ != 0 &&
        engine::NowSteadyMs() - last_attempt_steady_ms_ < options_.retry_interval_ms) {
      return absl::UnavailableError(
          fmt::format("sidecar not ready: Prometheus at {}: {}", client_->url(), last_error_));
    }
  }
  if (absl::Status st = Refresh(); !st.ok()) {
    return absl::UnavailableError(fmt::format("sidecar not ready: Prometheus at {}: {}",
                                              client_->url(), std::string(st.message())));
  }
  return absl::OkStatus();
}

int64_t SidecarBackend::MinTime() const {
  const int64_t flag = options_.min_time.Resolve(NowMs());
  std::lock_guard lock(mu_);
  return lowest_ts_ ? std::max(flag, *lowest_ts_) : flag;
}

absl::StatusOr<thanos::info::InfoResponse> SidecarBackend::Info() {
  PAODIN_RETURN_IF_ERROR(EnsureReady());
  const Labels external = external_labels();
  const int64_t min_time = MinTime();
  const int64_t max_time = std::numeric_limits<int64_t>::max();
  return DataStoreInfo("sidecar", external, min_time, max_time);
}

absl::StatusOr<std::unique_ptr<SeriesResponseStream>> SidecarBackend::Series(
    const thanos::SeriesRequest& request, const CallContext& ctx) {
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers, SeriesRequestMatchers(request));
  PAODIN_RETURN_IF_ERROR(EnsureReady());
  const Labels external = external_labels();
  if (!MatchExternalLabels(external, &matchers)) {
    return std::make_unique<EmptyStream>();
  }
  if (matchers.empty()) {
    return absl::InvalidArgumentError(kNoMatchersExcludingExternal);
  }
  const int64_t mint = std::max(request.min_time(), MinTime());
  const int64_t maxt = request.max_time();
  if (mint > maxt) {
    return std::make_unique<EmptyStream>();
  }
  SeriesRelabeler relabeler(external, SortedUnique(request.without_replica_labels()));
  const bool selective = std::any_of(matchers.begin(), matchers.end(),
                                     [](const engine::Matcher& m) { return !m.MatchesEmpty(); });
  if (request.skip_chunks() && selective) {
    // Labels only: the series API reads no chunks at all.
    PAODIN_ASSIGN_OR_RETURN(std::vector<Labels> series,
                            FetchSeries(*client_, matchers, mint, maxt, ctx.query));
    for (Labels& l : series) {
      l = relabeler.Apply(l);
    }
    std::sort(series.begin(), series.end());
    return std::make_unique<VectorStream>(std::move(series));
  }
  // Whether any matching series carries an external or replica label decides how much of the
  // response must be held back to keep the order (see relabel.h).
  bool clean = true;
  if (!relabeler.identity()) {
    absl::StatusOr<std::vector<std::string>> names =
        FetchLabelNames(*client_, matchers, mint, maxt, ctx.query);
    if (names.ok()) {
      clean = !relabeler.TouchesAnyName(*names);
    } else if (names.status().code() == absl::StatusCode::kInvalidArgument) {
      clean = false;  // e.g. only empty-matching matchers, which the label API refuses
    } else {
      return names.status();
    }
  }
  prometheus::ReadRequest read;
  prometheus::Query* query = read.add_queries();
  query->set_start_timestamp_ms(mint);
  query->set_end_timestamp_ms(maxt);
  MatchersToRemote(matchers, query->mutable_matchers());
  prometheus::ReadHints* hints = query->mutable_hints();
  hints->set_start_ms(mint);
  hints->set_end_ms(maxt);
  if (request.has_query_hints()) {
    const thanos::QueryHints& qh = request.query_hints();
    hints->set_step_ms(qh.step_millis());
    hints->set_func(qh.func().name());
    hints->set_range_ms(qh.range().millis());
    hints->set_by(qh.grouping().by());
    for (const std::string& g : qh.grouping().labels()) {
      hints->add_grouping(g);
    }
  }
  read.add_accepted_response_types(prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
  PAODIN_ASSIGN_OR_RETURN(
      std::unique_ptr<RemoteReadStream> remote,
      RemoteReadStream::Start(*client_, read, options_.max_frame_bytes, ctx.query));
  {
    std::lock_guard lock(mu_);
    ++stats_.remote_reads;
  }
  return std::make_unique<RemoteSeriesStream>(this, std::move(remote), std::move(relabeler), clean,
                                              request.skip_chunks(), ctx);
}

absl::StatusOr<thanos::LabelNamesResponse> SidecarBackend::LabelNames(
    const thanos::LabelNamesRequest& request, const CallContext& ctx) {
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers,
                          MatchersFromProto(request.matchers()));
  PAODIN_RETURN_IF_ERROR(EnsureReady());
  const Labels external = external_labels();
  thanos::LabelNamesResponse response;
  if (!MatchExternalLabels(external, &matchers)) {
    return response;
  }
  PAODIN_ASSIGN_OR_RETURN(
      std::vector<std::string> names,
      FetchLabelNames(*client_, matchers, request.start(), request.end(), ctx.query));
  if (!names.empty()) {
    for (engine::Label l : external) {
      names.emplace_back(l.name);
    }
  }
  const std::vector<std::string> replicas = SortedUnique(request.without_replica_labels());
  std::erase_if(names, [&](const std::string& n) {
    return std::binary_search(replicas.begin(), replicas.end(), n);
  });
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (request.limit() > 0 && names.size() > static_cast<size_t>(request.limit())) {
    names.resize(static_cast<size_t>(request.limit()));
  }
  for (std::string& n : names) {
    response.add_names(std::move(n));
  }
  return response;
}

absl::StatusOr<thanos::LabelValuesResponse> SidecarBackend::LabelValues(
    const thanos::LabelValuesRequest& request, const CallContext& ctx) {
  if (request.label().empty()) {
    return absl::InvalidArgumentError("label name parameter cannot be empty");
  }
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers,
                          MatchersFromProto(request.matchers()));
  PAODIN_RETURN_IF_ERROR(EnsureReady());
  const Labels external = external_labels();
  thanos::LabelValuesResponse response;
  const std::vector<std::string> replicas = SortedUnique(request.without_replica_labels());
  if (std::binary_search(replicas.begin(), replicas.end(), request.label()) ||
      !MatchExternalLabels(external, &matchers)) {
    return response;
  }
  std::vector<std::string> values;
  if (external.Has(request.label())) {
    // The external label's value, when any series matches.
    PAODIN_ASSIGN_OR_RETURN(
        std::vector<std::string> names,
        FetchLabelNames(*client_, matchers, request.start(), request.end(), ctx.query));
    if (!names.empty()) {
      values.emplace_back(external.Get(request.label()));
    }
  } else {
    PAODIN_ASSIGN_OR_RETURN(values, FetchLabelValues(*client_, request.label(), matchers,
                                                     request.start(), request.end(), ctx.query));
  }
  if (request.limit() > 0 && values.size() > static_cast<size_t>(request.limit())) {
    values.resize(static_cast<size_t>(request.limit()));
  }
  for (std::string& v : values) {
    response.add_values(std::move(v));
  }
  return response;
}

}  // namespace paodin::storeapi
