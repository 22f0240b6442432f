#include "storeapi/client/endpoint_set.h"

#include <utility>

#include <fmt/format.h>

#include "engine/util/log.h"
#include "storeapi/client/grpc_util.h"

namespace paodin::storeapi {
namespace {

int64_t UnixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The metadata of a strict endpoint that never answered Info: no labels, all time.
std::shared_ptr<const EndpointInfo> MaxRangeInfo() {
  static const auto* info = new std::shared_ptr<const EndpointInfo>([] {
    auto i = std::make_shared<EndpointInfo>();
    i->has_store_api = true;
    return i;
  }());
  return *info;
}

// One outstanding Info call.
struct InfoCall {
  std::string address;
  std::shared_ptr<StoreClient> client;
  grpc::ClientContext context;
  thanos::info::InfoRequest request;
  thanos::info::InfoResponse response;
  grpc::Status status;
};

}  // namespace

absl::StatusOr<std::unique_ptr<EndpointSet>> EndpointSet::Create(EndpointSetOptions options) {
  auto set = std::make_unique<EndpointSet>(std::move(options));
  if (!set->tls_error_.ok())
    return set->tls_error_;
  return set;
}

EndpointSet::EndpointSet(EndpointSetOptions options)
    : options_(std::move(options)), file_sd_(options_.sd_files) {
  if (!options_.resolver)
    options_.resolver = ResolveEndpointSpec;
  if (options_.tls.secure) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds =
        MakeChannelCredentials(options_.tls);
    if (creds.ok()) {
      options_.channel.credentials = *std::move(creds);
      options_.channel.tls_server_name = options_.tls.server_name;
    } else {
      tls_error_ = creds.status();
      log::Error("endpointset", "unusable client TLS options",
                 {{"err", std::string(tls_error_.message())}});
    }
  }
}

EndpointSet::~EndpointSet() { Stop(); }

void EndpointSet::Start() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (thread_.joinable())
    return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void EndpointSet::Stop() {
  {
    std::lock_guard<std::mutex> lock(loop_mu_);
    stop_ = true;
  }
  loop_cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void EndpointSet::Loop() {
  for (;;) {
    Refresh();
    std::unique_lock<std::mutex> lock(loop_mu_);
    if (loop_cv_.wait_for(lock, options_.refresh_interval, [this] { return stop_; }))
      return;
  }
}

std::map<std::string, bool> EndpointSet::ResolveAll(std::vector<std::string>* errors) {
  std::map<std::string, bool> wanted;
  auto add_spec = [&](const std::string& spec, bool strict) {
    auto addrs = options_.resolver(spec);
    if (addrs.ok()) {
      last_resolved_[spec] = *addrs;
    } else {
      // Keep the previous resolution of this spec (as Thanos' DNS provider does).
      errors->push_back(std::string(addrs.status().message()));
    }
    for (const std::string& a : last_resolved_[spec]) {
      bool& s = wanted[a];
      s = s || strict;
    }
  };
  for (const std::string& spec : options_.endpoints)
    add_spec(spec, false);
  for (const std::string& spec : options_.strict_endpoints)
    add_spec(spec, true);
  if (!options_.sd_files.empty()) {
    for (const std::string& spec : file_sd_.Targets(errors))
      add_spec(spec, false);
  }
  return wanted;
}

void EndpointSet::Refresh() {
  std::lock_guard<std::mutex> round(refresh_mu_);
  std::vector<std::string> errors;
  const std::map<std::string, bool> wanted = ResolveAll(&errors);
  for (const std::string& e : errors) {
    log::Warn("endpointset", "endpoint discovery failed", {{"err", e}});
  }

  // Create endpoints that appeared; collect the clients to check.
  std::vector<std::unique_ptr<InfoCall>> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [address, strict] : wanted) {
      auto [it, inserted] = endpoints_.try_emplace(address);
      Endpoint& e = it->second;
      if (inserted) {
        e.address = address;
        e.created = Clock::now();
        e.client =
            std::make_shared<StoreClient>(address, MakeStoreChannel(address, options_.channel));
      }
      e.strict = strict;
      auto call = std::make_unique<InfoCall>();
      call->address = address;
      call->client = e.client;
      calls.push_back(std::move(call));
    }
  }

  // All Info calls in parallel on gRPC's threads.
  std::mutex done_mu;
  std::condition_variable done_cv;
  size_t pending = calls.size();
  const auto deadline = std::chrono::system_clock::now() + options_.info_timeout;
  for (auto& call : calls) {
    if (!tls_error_.ok()) {
      // No usable channel can be made: every endpoint reports why, none is called.
      call->status =
          grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, std::string(tls_error_.message()));
      std::lock_guard<std::mutex> lock(done_mu);
      --pending;
      continue;
    }
    // Not wait_for_ready: an endpoint that refuses the connection or fails the TLS handshake
    // is reported at once with gRPC's reason, not as a deadline 5 s later (as Thanos).
    call->context.set_deadline(deadline);
    InfoCall* c = call.get();
    c->client->info().async()->Info(&c->context, &c->request, &c->response,
                                    [c, &done_mu, &done_cv, &pending](grpc::Status status) {
                                      std::lock_guard<std::mutex> lock(done_mu);
                                      c->status = std::move(status);
                                      if (--pending == 0)
                                        done_cv.notify_all();
                                    });
  }
  {
    std::unique_lock<std::mutex> lock(done_mu);
    done_cv.wait(lock, [&] { return pending == 0; });
  }

  std::lock_guard<std::mutex> lock(mu_);
  const Clock::time_point now = Clock::now();
  const int64_t now_ms = UnixMillisNow();
  for (auto& call : calls) {
    auto it = endpoints_.find(call->address);
    if (it == endpoints_.end())
      continue;
    Endpoint& e = it->second;
    e.last_check_ms = now_ms;
    absl::StatusOr<EndpointInfo> info =
        call->status.ok() ? EndpointInfoFromProto(call->response)
                          : absl::StatusOr<EndpointInfo>(FromGrpcStatus(call->status));
    if (info.ok()) {
      e.info = std::make_shared<const EndpointInfo>(*std::move(info));
      e.last_success = now;
      e.ever_succeeded = true;
      e.last_error.clear();
      e.healthy = true;
    } else {
      e.last_error = call->status.ok() ? std::string(info.status().message())
                                       : fmt::format("fetching info from {}: {}", e.address,
                                                     GrpcStatusText(call->status));
      if (e.healthy || !e.ever_succeeded) {
        log::Warn("endpointset", "update of endpoint failed",
                  {{"address", e.address}, {"err", e.last_error}});
      }
      e.healthy = false;
    }
  }
  // Drop endpoints no spec names any more, and those unhealthy for too long.
  for (auto it = endpoints_.begin(); it != endpoints_.end();) {
    const Endpoint& e = it->second;
    const Clock::time_point since = e.ever_succeeded ? e.last_success : e.created;
    const bool gone = !wanted.count(e.address);
    const bool expired = !e.strict && !e.healthy && now - since >= options_.unhealthy_timeout;
    if (gone || expired) {
      log::Info("endpointset", "removing endpoint",
                {{"address", e.address}, {"reason", gone ? "not discovered" : "unhealthy"}});
      it = endpoints_.erase(it);
    } else {
      ++it;
    }
  }
  discovery_errors_ = std::move(errors);
  ready_ = true;
}

bool EndpointSet::Ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ready_;
}

bool EndpointSet::QueryableLocked(const Endpoint& e) const {
  if (!tls_error_.ok())
    return false;
  if (e.strict)
    return e.info == nullptr || e.info->has_store_api;
  return e.healthy && e.info != nullptr && e.info->has_store_api;
}

std::vector<StoreRef> EndpointSet::Stores() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoreRef> out;
  for (const auto& [address, e] : endpoints_) {
    if (!QueryableLocked(e))
      continue;
    out.push_back(StoreRef{e.client, e.info != nullptr ? e.info : MaxRangeInfo()});
  }
  return out;
}

std::vector<EndpointStatus> EndpointSet::Status() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<EndpointStatus> out;
  for (const auto& [address, e] : endpoints_) {
    EndpointStatus s;
    s.name = address;
    s.last_check_ms = e.last_check_ms;
    if (!e.last_error.empty())
      s.last_error = e.last_error;
    if (e.info != nullptr) {
      s.label_sets = e.info->label_sets;
      s.min_time = e.info->min_time;
      s.max_time = e.info->max_time;
      s.component_type = e.info->component_type;
    }
    s.queryable = QueryableLocked(e);
    s.strict = e.strict;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> EndpointSet::DiscoveryErrors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return discovery_errors_;
}

}  // namespace paodin::storeapi
