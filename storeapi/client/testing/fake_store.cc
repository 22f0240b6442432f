#include "storeapi/client/testing/fake_store.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "engine/model/matcher.h"
#include "storeapi/chunkenc/xor.h"
#include "storeapi/server/convert.h"

namespace paodin::storeapi::testing {
namespace {

std::string_view Get(const LabelPairs& labels, std::string_view name) {
  for (const auto& [n, v] : labels) {
    if (n == name)
      return v;
  }
  return "";
}

bool MatchesAll(const std::vector<engine::Matcher>& matchers, const LabelPairs& labels) {
  for (const engine::Matcher& m : matchers) {
    if (!m.Matches(Get(labels, m.name())))
      return false;
  }
  return true;
}

// Series labels extended by the external labels (external ones win), sorted by name.
LabelPairs FinalLabels(const thanos::Series& s, const LabelPairs& external) {
  std::map<std::string, std::string> m;
  for (const thanos::Label& l : s.labels())
    m[l.name()] = l.value();
  for (const auto& [n, v] : external)
    m[n] = v;
  return LabelPairs(m.begin(), m.end());
}

grpc::Status WaitForCancel(grpc::ServerContext* ctx) {
  while (!ctx->IsCancelled())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
}

}  // namespace

thanos::Series MakeSeries(LabelPairs labels, const std::vector<Sample>& samples,
                          int samples_per_chunk) {
  std::sort(labels.begin(), labels.end());
  thanos::Series s;
  for (const auto& [n, v] : labels) {
    thanos::Label* l = s.add_labels();
    l->set_name(n);
    l->set_value(v);
  }
  for (size_t start = 0; start < samples.size(); start += samples_per_chunk) {
    const size_t end = std::min(samples.size(), start + samples_per_chunk);
    XorEncoder enc;
    for (size_t i = start; i < end; ++i) {
      if (!enc.Append(samples[i].t, samples[i].v).ok())
        break;
    }
    thanos::AggrChunk* c = s.add_chunks();
    c->set_min_time(samples[start].t);
    c->set_max_time(samples[end - 1].t);
    c->mutable_raw()->set_type(thanos::Chunk::XOR);
    c->mutable_raw()->set_data(std::string(enc.bytes()));
    c->mutable_raw()->set_hash(ChunkHash(enc.bytes()));
  }
  return s;
}

std::vector<Sample> RegularSamples(int64_t start, int64_t step, int count, double (*f)(int)) {
  std::vector<Sample> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    out.push_back({start + step * i, f != nullptr ? f(i) : static_cast<double>(i)});
  }
  return out;
}

class FakeStore::StoreService final : public thanos::Store::Service {
 public:
  explicit StoreService(FakeStore* owner) : owner_(owner) {}

  grpc::Status Series(grpc::ServerContext* ctx, const thanos::SeriesRequest* req,
                      grpc::ServerWriter<thanos::SeriesResponse>* writer) override {
    owner_->series_calls_.fetch_add(1);
    const FakeStoreConfig cfg = owner_->config();
    {
      std::lock_guard<std::mutex> lock(owner_->mu_);
      owner_->last_request_ = *req;
      auto it = ctx->client_metadata().find("thanos-tenant");
      owner_->last_tenant_ = it == ctx->client_metadata().end()
                                 ? ""
                                 : std::string(it->second.data(), it->second.size());
    }
    auto matchers = MatchersFromProto(req->matchers());
    if (!matchers.ok()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          std::string(matchers.status().message()));
    }
    // Like a sidecar: a matcher rejecting an external label's value means an empty answer.
    for (const engine::Matcher& m : *matchers) {
      for (const auto& [n, v] : cfg.external_labels) {
        if (n == m.name() && !m.Matches(v))
          return grpc::Status::OK;
      }
    }
    std::set<std::string> strip;
    if (cfg.supports_without_replica_labels) {
      strip.insert(req->without_replica_labels().begin(), req->without_replica_labels().end());
    }
    std::vector<std::pair<LabelPairs, thanos::Series>> selected;
    for (const thanos::Series& s : cfg.series) {
      LabelPairs labels = FinalLabels(s, cfg.external_labels);
      if (!MatchesAll(*matchers, labels))
        continue;
      thanos::Series out;
      for (const thanos::AggrChunk& c : s.chunks()) {
        if (c.max_time() < req->min_time() || c.min_time() > req->max_time())
          continue;
        if (!req->skip_chunks())
          *out.add_chunks() = c;
      }
      if (!req->skip_chunks() && out.chunks_size() == 0 && s.chunks_size() > 0)
        continue;
      std::erase_if(labels, [&](const auto& l) { return strip.count(l.first) > 0; });
      selected.emplace_back(std::move(labels), std::move(out));
    }
    if (!strip.empty()) {
      std::stable_sort(selected.begin(), selected.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    // Cut into frames.
    std::vector<thanos::Series> frames_series;
    for (auto& [labels, s] : selected) {
      const int parts = std::max(1, std::min(cfg.frames_per_series, s.chunks_size()));
      const int per = (s.chunks_size() + parts - 1) / std::max(parts, 1);
      for (int p = 0; p < parts; ++p) {
        thanos::Series part;
        for (const auto& [n, v] : labels) {
          thanos::Label* l = part.add_labels();
          l->set_name(n);
          l->set_value(v);
        }
        for (int i = p * per; i < std::min(s.chunks_size(), (p + 1) * per); ++i) {
          *part.add_chunks() = s.chunks(i);
        }
        frames_series.push_back(std::move(part));
      }
    }
    std::vector<thanos::SeriesResponse> frames;
    if (!cfg.warning.empty()) {
      thanos::SeriesResponse w;
      w.set_warning(cfg.warning);
      frames.push_back(std::move(w));
    }
    for (size_t i = 0; i < frames_series.size();) {
      thanos::SeriesResponse r;
      if (cfg.batch_size <= 1) {
        *r.mutable_series() = std::move(frames_series[i++]);
      } else {
        for (int b = 0; b < cfg.batch_size && i < frames_series.size(); ++b) {
          *r.mutable_batch()->add_series() = std::move(frames_series[i++]);
        }
      }
      frames.push_back(std::move(r));
    }
    int sent = 0;
    for (const thanos::SeriesResponse& r : frames) {
      if (sent == cfg.fail_after_frames) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure");
      }
      if (sent == cfg.stall_after_frames)
        return WaitForCancel(ctx);
      if (ctx->IsCancelled())
        return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      if (!writer->Write(r))
        return grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      ++sent;
    }
    if (sent == cfg.stall_after_frames)
      return WaitForCancel(ctx);
    if (sent == cfg.fail_after_frames) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure");
    }
    return grpc::Status::OK;
  }

  grpc::Status LabelNames(grpc::ServerContext* ctx, const thanos::LabelNamesRequest* req,
                          thanos::LabelNamesResponse* resp) override {
    const FakeStoreConfig cfg = owner_->config();
    auto matchers = MatchersFromProto(req->matchers());
    if (!matchers.ok())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad matcher");
    std::set<std::string> names;
    for (const thanos::Series& s : cfg.series) {
      const LabelPairs labels = FinalLabels(s, cfg.external_labels);
      if (!MatchesAll(*matchers, labels))
        continue;
      for (const auto& [n, v] : labels)
        names.insert(n);
    }
    for (const std::string& n : names)
      resp->add_names(n);
    if (!cfg.warning.empty())
      resp->add_warnings(cfg.warning);
    if (cfg.fail_after_frames == 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure");
    }
    return grpc::Status::OK;
  }

  grpc::Status LabelValues(grpc::ServerContext* ctx, const thanos::LabelValuesRequest* req,
                           thanos::LabelValuesResponse* resp) override {
    const FakeStoreConfig cfg = owner_->config();
    auto matchers = MatchersFromProto(req->matchers());
    if (!matchers.ok())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad matcher");
    std::set<std::string> values;
    for (const thanos::Series& s : cfg.series) {
      const LabelPairs labels = FinalLabels(s, cfg.external_labels);
      if (!MatchesAll(*matchers, labels))
        continue;
      const std::string_view v = Get(labels, req->label());
      if (!v.empty())
        values.insert(std::string(v));
    }
    for (const std::string& v : values)
      resp->add_values(v);
    if (!cfg.warning.empty())
      resp->add_warnings(cfg.warning);
    if (cfg.fail_after_frames == 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected failure");
    }
    return grpc::Status::OK;
  }

 private:
  FakeStore* owner_;
};

class FakeStore::InfoService final : public thanos::info::Info::Service {
 public:
  explicit InfoService(FakeStore* owner) : owner_(owner) {}

  grpc::Status Info(grpc::ServerContext* ctx, const thanos::info::InfoRequest*,
                    thanos::info::InfoResponse* resp) override {
    owner_->info_calls_.fetch_add(1);
    const FakeStoreConfig cfg = owner_->config();
    if (cfg.info_hangs)
      return WaitForCancel(ctx);
    if (cfg.info_fails)
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not ready");
    *resp = owner_->InfoResponse();
    return grpc::Status::OK;
  }

 private:
  FakeStore* owner_;
};

FakeStore::FakeStore(FakeStoreConfig config) : config_(std::move(config)) {}

FakeStore::~FakeStore() { Shutdown(); }

absl::Status FakeStore::Start() {
  store_service_ = std::make_unique<StoreService>(this);
  info_service_ = std::make_unique<InfoService>(this);
  grpc::ServerBuilder builder;
  int port = 0;
  const std::shared_ptr<grpc::ServerCredentials> creds = config().server_credentials;
  builder.AddListeningPort("127.0.0.1:0",
                           creds != nullptr ? creds : grpc::InsecureServerCredentials(), &port);
  builder.SetMaxSendMessageSize(std::numeric_limits<int32_t>::max());
  builder.RegisterService(store_service_.get());
  builder.RegisterService(info_service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0)
    return absl::InternalError("fake store failed to start");
  address_ = fmt::format("127.0.0.1:{}", port);
  return absl::OkStatus();
}

void FakeStore::Shutdown() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    server_->Wait();
    server_.reset();
  }
}

void FakeStore::SetConfig(FakeStoreConfig config) {
  std::lock_guard<std::mutex> lock(mu_);
  config_ = std::move(config);
}

FakeStoreConfig FakeStore::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

thanos::SeriesRequest FakeStore::last_request() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_request_;
}

std::string FakeStore::last_tenant() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_tenant_;
}

thanos::info::InfoResponse FakeStore::InfoResponse() const {
  const FakeStoreConfig cfg = config();
  thanos::info::InfoResponse resp;
  resp.set_componenttype(cfg.component_type);
  if (!cfg.external_labels.empty()) {
    thanos::ZLabelSet* set = resp.add_label_sets();
    LabelPairs sorted = cfg.external_labels;
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [n, v] : sorted) {
      thanos::Label* l = set->add_labels();
      l->set_name(n);
      l->set_value(v);
    }
  }
  thanos::info::StoreInfo* store = resp.mutable_store();
  store->set_min_time(cfg.min_time);
  store->set_max_time(cfg.max_time);
  store->set_supports_without_replica_labels(cfg.supports_without_replica_labels);
  store->set_supports_sharding(false);
  return resp;
}

}  // namespace paodin::storeapi::testing
