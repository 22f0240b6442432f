// The set of StoreAPI endpoints a query fans out to. Addresses come from static specs
// (--endpoint / --store, with dns+ / dnssrv+ prefixes resolved at every refresh) and from
// file_sd files (--store.sd-files, re-read when they change). Every refresh (5 s) calls
// thanos.info.Info on every endpoint in parallel (wait-for-ready, 5 s deadline):
//   - a successful call stores the endpoint's metadata and makes it queryable;
//   - a failed call records the error and makes the endpoint unqueryable (strict endpoints
//     stay queryable with their last metadata, or as "all labels, all time" if they never
//     answered);
//   - an endpoint without a successful call for --store.unhealthy-timeout (5 m), or no longer
//     named by any spec, is dropped.
#ifndef PAODIN_STOREAPI_CLIENT_ENDPOINT_SET_H_
#define PAODIN_STOREAPI_CLIENT_ENDPOINT_SET_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "storeapi/client/discovery.h"
#include "storeapi/client/store_client.h"

namespace paodin::storeapi {

// Configuration of an EndpointSet; the `paodin query` flags fill it.
struct EndpointSetOptions {
  // --endpoint and --store specs (may carry dns+ / dnssrv+ / dnssrvnoa+ prefixes).
  std::vector<std::string> endpoints;
  // --endpoint-strict specs: queried even when Info fails.
  std::vector<std::string> strict_endpoints;
  // --store.sd-files paths or globs.
  std::vector<std::string> sd_files;
  // Period of the Info refresh (hidden --endpoint.info-timeout in Thanos).
  std::chrono::milliseconds refresh_interval{5000};
  // Deadline of each Info call.
  std::chrono::milliseconds info_timeout{5000};
  // --store.unhealthy-timeout: drop endpoints without a successful Info for this long.
  std::chrono::milliseconds unhealthy_timeout{std::chrono::minutes(5)};
  // Options of the channels to the endpoints.
  ChannelOptions channel;
  // Client TLS of every channel (--grpc-client-tls-*). When `tls.secure`, the EndpointSet
  // builds channel.credentials and channel.tls_server_name from it.
  ClientTlsOptions tls;
  // Resolves one spec to addresses; ResolveEndpointSpec when empty (tests replace it).
  std::function<absl::StatusOr<std::vector<std::string>>(std::string_view)> resolver;
};

// The state of one endpoint, for /api/v1/stores.
struct EndpointStatus {
  // The address.
  std::string name;
  // Unix ms of the last Info call's end; 0 before the first.
  int64_t last_check_ms = 0;
  // Error of the last Info call; empty when it succeeded.
  std::optional<std::string> last_error;
  // External label sets from the last successful Info.
  std::vector<engine::Labels> label_sets;
  int64_t min_time = 0;
  int64_t max_time = 0;
  // From the last successful Info; empty when Info never succeeded (Thanos' API then skips
  // the endpoint).
  std::string component_type;
  // True when the endpoint is queried right now.
  bool queryable = false;
  // True for --endpoint-strict endpoints.
  bool strict = false;
};

// Keeps endpoints fresh in a background thread. Thread-safe.
class EndpointSet : public StoreProvider {
 public:
  // Checks the options (TLS files are read now) and creates the set, not yet started. Fails
  // with InvalidArgument when the TLS options are unusable.
  static absl::StatusOr<std::unique_ptr<EndpointSet>> Create(EndpointSetOptions options);

  // Creates the set. Prefer Create(): with unusable TLS options this constructor logs the
  // error and every endpoint reports it and stays unqueryable.
  explicit EndpointSet(EndpointSetOptions options);
  // Stops the refresh thread.
  ~EndpointSet() override;

  EndpointSet(const EndpointSet&) = delete;
  EndpointSet& operator=(const EndpointSet&) = delete;

  // Starts the background refresh: one round at once, then every refresh_interval.
  void Start();

  // Stops the background refresh and waits for it. Idempotent.
  void Stop();

  // Runs one refresh round now and returns when every Info call has finished.
  void Refresh();

  // True once the first refresh round has completed (drives /-/ready).
  bool Ready() const;

  // The queryable endpoints, sorted by address.
  std::vector<StoreRef> Stores() const override;

  // Every known endpoint's state, sorted by address.
  std::vector<EndpointStatus> Status() const;

  // Errors of the last round's address resolution and file discovery.
  std::vector<std::string> DiscoveryErrors() const;

 private:
  using Clock = std::chrono::steady_clock;

  struct Endpoint {
    std::string address;
    bool strict = false;
    std::shared_ptr<StoreClient> client;
    std::shared_ptr<const EndpointInfo> info;  // null until one Info succeeded
    Clock::time_point created;
    Clock::time_point last_success;
    bool ever_succeeded = false;
    int64_t last_check_ms = 0;
    std::string last_error;
    bool healthy = false;
  };

  // Resolves all specs; returns address -> strict.
  std::map<std::string, bool> ResolveAll(std::vector<std::string>* errors);
  bool QueryableLocked(const Endpoint& e) const;
  void Loop();

  EndpointSetOptions options_;
  absl::Status tls_error_;  // why the TLS options are unusable; OK when they are fine
  FileSdWatcher file_sd_;
  std::mutex refresh_mu_;                                          // serialises Refresh rounds
  std::map<std::string, std::vector<std::string>> last_resolved_;  // spec -> addresses

  mutable std::mutex mu_;
  std::map<std::string, Endpoint> endpoints_;
  std::vector<std::string> discovery_errors_;
  bool ready_ = false;

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_CLIENT_ENDPOINT_SET_H_
