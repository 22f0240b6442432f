// An in-process StoreAPI server for tests: serves a fixed list of series over thanos.Store and
// thanos.info.Info on 127.0.0.1, like a sidecar (external-label pruning, matcher filtering,
// replica label stripping, batch frames), with switchable faults.
#ifndef PAODIN_STOREAPI_CLIENT_TESTING_FAKE_STORE_H_
#define PAODIN_STOREAPI_CLIENT_TESTING_FAKE_STORE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "proto/thanos/info.grpc.pb.h"
#include "proto/thanos/store.grpc.pb.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace paodin::storeapi::testing {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// One sample.
struct Sample {
  int64_t t;
  double v;
};

// Builds a wire series: labels sorted by name, samples cut into XOR chunks of at most
// `samples_per_chunk` samples (hash filled).
thanos::Series MakeSeries(LabelPairs labels, const std::vector<Sample>& samples,
                          int samples_per_chunk = 120);

// Regular samples: t = start, start+step, ... (count of them), v = f(i).
std::vector<Sample> RegularSamples(int64_t start, int64_t step, int count,
                                   double (*f)(int) = nullptr);

// What the fake serves and how it misbehaves.
struct FakeStoreConfig {
  // External labels (one set); added to Info and to every served series (overriding).
  LabelPairs external_labels;
  int64_t min_time = std::numeric_limits<int64_t>::min();
  int64_t max_time = std::numeric_limits<int64_t>::max();
  std::string component_type = "sidecar";
  bool supports_without_replica_labels = true;
  // Series served, in the order given (give them sorted unless testing disorder).
  std::vector<thanos::Series> series;
  // Series per frame: <= 1 sends `series` frames, more sends `batch` frames.
  int batch_size = 1;
  // Sends every series as this many frames, its chunks split among them.
  int frames_per_series = 1;
  // A warning frame sent before the series (empty: none).
  std::string warning;
  // Faults: fail with Unavailable after this many frames (-1: never).
  int fail_after_frames = -1;
  // Stop sending after this many frames and wait until the call is cancelled (-1: never).
  int stall_after_frames = -1;
  // Info never answers (waits until the caller gives up).
  bool info_hangs = false;
  // Info fails with Unavailable.
  bool info_fails = false;
  // Credentials of the listening port (read by Start); null serves without TLS.
  std::shared_ptr<grpc::ServerCredentials> server_credentials;
};

// A running fake store.
class FakeStore {
 public:
  explicit FakeStore(FakeStoreConfig config);
  ~FakeStore();

  // Listens on 127.0.0.1 on a free port.
  absl::Status Start();

  // Stops serving: open streams are cancelled.
  void Shutdown();

  // "127.0.0.1:port".
  std::string address() const { return address_; }

  // Replaces the configuration (affects calls that start afterwards).
  void SetConfig(FakeStoreConfig config);

  // Series calls received so far.
  int series_calls() const { return series_calls_.load(); }

  // Info calls received so far.
  int info_calls() const { return info_calls_.load(); }

  // The last Series request and its `thanos-tenant` metadata.
  thanos::SeriesRequest last_request() const;
  std::string last_tenant() const;

  // The Info response this fake gives.
  thanos::info::InfoResponse InfoResponse() const;

 private:
  class StoreService;
  class InfoService;

  FakeStoreConfig config() const;

  mutable std::mutex mu_;
  FakeStoreConfig config_;
  thanos::SeriesRequest last_request_;
  std::string last_tenant_;
  std::atomic<int> series_calls_{0};
  std::atomic<int> info_calls_{0};
  std::unique_ptr<StoreService> store_service_;
  std::unique_ptr<InfoService> info_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace paodin::storeapi::testing

#endif  // PAODIN_STOREAPI_CLIENT_TESTING_FAKE_STORE_H_
