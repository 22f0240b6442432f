#include "storeapi/proxyserver/proxy_backend.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "engine/util/status_macros.h"
#include "storeapi/chunkenc/xor.h"
#include "storeapi/server/convert.h"

namespace paodin::storeapi {
namespace {

constexpr const char* kNoMatchers = "no matchers specified (excluding selector labels)";

class EmptyStream final : public SeriesResponseStream {
 public:
  absl::StatusOr<bool> Next(thanos::SeriesResponse* /*out*/) override { return false; }
};

// Streams the proxy's merged series, re-encoding their samples.
class ProxySeriesStream final : public SeriesResponseStream {
 public:
  ProxySeriesStream(std::unique_ptr<engine::Queryable> queryable,
                    std::unique_ptr<engine::SeriesSet> set, bool skip_chunks, int samples_per_chunk,
                    const CallContext& ctx)
      : queryable_(std::move(queryable)),
        set_(std::move(set)),
        skip_chunks_(skip_chunks),
        samples_per_chunk_(std::clamp(samples_per_chunk, 1, kXorMaxSamples)),
        ctx_(ctx) {}

  absl::StatusOr<bool> Next(thanos::SeriesResponse* out) override {
    if (series_done_) {
      if (warning_pos_ < warnings_.size()) {
        out->set_warning(warnings_[warning_pos_++]);
        return true;
      }
      return false;
    }
    PAODIN_RETURN_IF_ERROR(ctx_.query.Done());
    if (!set_->Next()) {
      PAODIN_RETURN_IF_ERROR(set_->status());
      series_done_ = true;
      warnings_ = set_->warnings();
      set_.reset();
      queryable_.reset();
      return Next(out);
    }
    thanos::Series* series = out->mutable_series();
    LabelsToProto(set_->labels(), series->mutable_labels());
    if (!skip_chunks_) {
      PAODIN_RETURN_IF_ERROR(EncodeChunks(series));
    }
    return true;
  }

 private:
  absl::Status EncodeChunks(thanos::Series* series) {
    std::unique_ptr<engine::SampleIterator> it = set_->Samples();
    if (it == nullptr) {
      return absl::OkStatus();
    }
    XorEncoder enc;
    int64_t first_t = 0;
    int64_t last_t = 0;
    auto flush = [&] {
      if (enc.num_samples() == 0) {
        return;
      }
      thanos::AggrChunk* chunk = series->add_chunks();
      chunk->set_min_time(first_t);
      chunk->set_max_time(last_t);
      thanos::Chunk* raw = chunk->mutable_raw();
      raw->set_type(thanos::Chunk::XOR);
      raw->set_data(enc.bytes().data(), enc.bytes().size());
      raw->set_hash(ChunkHash(enc.bytes()));
      enc.Reset();
    };
    for (;;) {
      PAODIN_ASSIGN_OR_RETURN(size_t n, it->Next(ts_, vs_));
      if (n == 0) {
        break;
      }
      for (size_t i = 0; i < n; ++i) {
        if (enc.num_samples() == 0) {
          first_t = ts_[i];
        }
        PAODIN_RETURN_IF_ERROR(enc.Append(ts_[i], vs_[i]));
        last_t = ts_[i];
        if (enc.num_samples() >= samples_per_chunk_) {
          flush();
        }
      }
    }
    flush();
    return absl::OkStatus();
  }

  static constexpr size_t kTile = 256;

  std::unique_ptr<engine::Queryable> queryable_;
  std::unique_ptr<engine::SeriesSet> set_;
  bool skip_chunks_;
  int samples_per_chunk_;
  CallContext ctx_;
  bool series_done_ = false;
  std::vector<std::string> warnings_;
  size_t warning_pos_ = 0;
  int64_t ts_[kTile];
  double vs_[kTile];
};

}  // namespace

ProxyStoreBackend::ProxyStoreBackend(const Proxy* proxy,
                                     std::shared_ptr<const StoreProvider> stores,
                                     ProxyBackendOptions options)
    : proxy_(proxy), stores_(std::move(stores)), options_(std::move(options)) {
  std::sort(options_.replica_labels.begin(), options_.replica_labels.end());
  options_.replica_labels.erase(
      std::unique(options_.replica_labels.begin(), options_.replica_labels.end()),
      options_.replica_labels.end());
}

bool ProxyStoreBackend::IsReplicaLabel(std::string_view name) const {
  return std::binary_search(options_.replica_labels.begin(), options_.replica_labels.end(), name);
}

RequestOptions ProxyStoreBackend::MakeRequest(thanos::PartialResponseStrategy strategy,
                                              bool disabled, const CallContext& ctx) const {
  RequestOptions r;
  r.dedup = !options_.replica_labels.empty();
  r.replica_labels = options_.replica_labels;
  r.partial_response = (strategy == thanos::ABORT || disabled) ? PartialResponseStrategy::kAbort
                                                               : PartialResponseStrategy::kWarn;
  r.tenant = ctx.tenant;
  return r;
}

absl::StatusOr<thanos::info::InfoResponse> ProxyStoreBackend::Info() {
  thanos::info::InfoResponse resp;
  resp.set_componenttype("query");
  std::set<engine::Labels> sets;
  int64_t min_time = std::numeric_limits<int64_t>::max();
  int64_t max_time = std::numeric_limits<int64_t>::min();
  const std::vector<StoreRef> stores = stores_->Stores();
  for (const StoreRef& s : stores) {
    if (s.info == nullptr) {
      continue;
    }
    min_time = std::min(min_time, s.info->min_time);
    max_time = std::max(max_time, s.info->max_time);
    for (const engine::Labels& ls : s.info->label_sets) {
      engine::LabelsBuilder b(ls);
      for (const std::string& r : options_.replica_labels) {
        b.Del(r);
      }
      for (const engine::Label& l : options_.selector_labels) {
        b.Set(l.name, l.value);
      }
      engine::Labels out = b.Build();
      if (!out.empty()) {
        sets.insert(std::move(out));
      }
    }
  }
  if (sets.empty() && !options_.selector_labels.empty()) {
    sets.insert(options_.selector_labels);
  }
  if (min_time > max_time) {  // no store: claim everything so that clients keep asking
    min_time = std::numeric_limits<int64_t>::min();
    max_time = std::numeric_limits<int64_t>::max();
  }
  for (const engine::Labels& ls : sets) {
    LabelsToProto(ls, resp.add_label_sets()->mutable_labels());
  }
  thanos::info::StoreInfo* store = resp.mutable_store();
  store->set_min_time(min_time);
  store->set_max_time(max_time);
  store->set_supports_sharding(false);
  store->set_supports_without_replica_labels(false);
  return resp;
}

absl::StatusOr<std::unique_ptr<SeriesResponseStream>> ProxyStoreBackend::Series(
    const thanos::SeriesRequest& request, const CallContext& ctx) {
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers,
                          MatchersFromProto(request.matchers()));
  if (request.min_time() > request.max_time()) {
    return absl::InvalidArgumentError(
        fmt::format("min_time {} is after max_time {}", request.min_time(), request.max_time()));
  }
  if (!MatchExternalLabels(options_.selector_labels, &matchers)) {
    return std::make_unique<EmptyStream>();
  }
  if (matchers.empty()) {
    return absl::InvalidArgumentError(kNoMatchers);
  }
  engine::SelectHints hints;
  hints.start_ms = request.min_time();
  hints.end_ms = request.max_time();
  const thanos::QueryHints& qh = request.query_hints();
  hints.step_ms = qh.step_millis();
  hints.range_ms = qh.range().millis();
  hints.func = request.skip_chunks() ? std::string("series") : qh.func().name();
  hints.by = qh.grouping().by();
  hints.grouping.assign(qh.grouping().labels().begin(), qh.grouping().labels().end());

  std::unique_ptr<engine::Queryable> queryable = proxy_->ForRequest(
      MakeRequest(request.partial_response_strategy(), request.partial_response_disabled(), ctx));
  PAODIN_ASSIGN_OR_RETURN(std::unique_ptr<engine::SeriesSet> set,
                          queryable->Select(hints, matchers, ctx.query));
  return std::make_unique<ProxySeriesStream>(
      std::move(queryable), std::move(set), request.skip_chunks(), options_.samples_per_chunk, ctx);
}

absl::StatusOr<thanos::LabelNamesResponse> ProxyStoreBackend::LabelNames(
    const thanos::LabelNamesRequest& request, const CallContext& ctx) {
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers,
                          MatchersFromProto(request.matchers()));
  thanos::LabelNamesResponse resp;
  if (!MatchExternalLabels(options_.selector_labels, &matchers)) {
    return resp;
  }
  PAODIN_ASSIGN_OR_RETURN(
      LabelResult r,
      proxy_->LabelNamesWithWarnings(MakeRequest(request.partial_response_strategy(),
                                                 request.partial_response_disabled(), ctx),
                                     request.start(), request.end(), matchers, 0, ctx.query));
  for (std::string& name : r.values) {
    if (IsReplicaLabel(name)) {
      continue;
    }
    if (request.limit() > 0 && resp.names_size() >= request.limit()) {
      break;
    }
    resp.add_names(std::move(name));
  }
  for (std::string& w : r.warnings) {
    resp.add_warnings(std::move(w));
  }
  return resp;
}

absl::StatusOr<thanos::LabelValuesResponse> ProxyStoreBackend::LabelValues(
    const thanos::LabelValuesRequest& request, const CallContext& ctx) {
  if (request.label().empty()) {
    return absl::InvalidArgumentError("label name parameter cannot be empty");
  }
  PAODIN_ASSIGN_OR_RETURN(std::vector<engine::Matcher> matchers,
                          MatchersFromProto(request.matchers()));
  thanos::LabelValuesResponse resp;
  if (IsReplicaLabel(request.label()) ||
      !MatchExternalLabels(options_.selector_labels, &matchers)) {
    return resp;
  }
  PAODIN_ASSIGN_OR_RETURN(LabelResult r, proxy_->LabelValuesWithWarnings(
                                             MakeRequest(request.partial_response_strategy(),
                                                         request.partial_response_disabled(), ctx),
                                             request.label(), request.start(), request.end(),
                                             matchers, request.limit(), ctx.query));
  for (std::string& v : r.values) {
    resp.add_values(std::move(v));
  }
  for (std::string& w : r.warnings) {
    resp.add_warnings(std::move(w));
  }
  return resp;
}

}  // namespace paodin::storeapi
