// The StoreAPI backend of `paodin sidecar`: serves one Prometheus through its HTTP API.
//
// - External labels come from Prometheus' configuration (global.external_labels), read at start
//   and by Refresh() (periodically, from a background thread). While the last read failed the
//   sidecar is not ready: Info fails with Unavailable, so queries leave the endpoint out, and
//   the other calls fail too; the first successful read makes it ready again.
// - Info: component "sidecar", the external labels as the one label set, min time =
//   max(--min-time, Prometheus' lowest stored timestamp), max time unbounded.
// - Series: matchers on external labels are checked against them (a mismatch gives an empty
//   stream) and dropped; no matcher left is InvalidArgument. Data comes from remote read with
//   STREAMED_XOR_CHUNKS; chunks are passed through (Prometheus' encoding enum shifted down by
//   one, XXH64 hash added); series split over frames are joined; external labels are added
//   (overriding), without_replica_labels stripped, and the order kept with the least holding
//   back (see relabel.h). skip_chunks uses the series API instead.
// - LabelNames / LabelValues: Prometheus' label APIs with the matchers, plus the external labels.
#ifndef PAODIN_STOREAPI_SIDECAR_SIDECAR_BACKEND_H_
#define PAODIN_STOREAPI_SIDECAR_SIDECAR_BACKEND_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "storeapi/server/backend.h"
#include "storeapi/sidecar/http_client.h"

namespace paodin::storeapi {

// --min-time: a fixed timestamp or a duration relative to the time of use.
struct MinTimeSpec {
  std::optional<int64_t> fixed_ms;
  int64_t relative_ms = 0;

  // The timestamp now (ms since the epoch).
  int64_t Resolve(int64_t now_ms) const { return fixed_ms ? *fixed_ms : now_ms + relative_ms; }
};

// Parses --min-time as Thanos does: RFC 3339 ("2026-01-02T15:04:05Z") or a Prometheus
// duration with an optional sign relative to now ("-2h", "1d"). Empty means no limit.
// InvalidArgument otherwise.
absl::StatusOr<MinTimeSpec> ParseMinTime(std::string_view s);

// Counters for /metrics and tests.
struct SidecarStats {
  int64_t refreshes = 0;
  int64_t failed_refreshes = 0;
  int64_t remote_reads = 0;
  int64_t remote_read_bytes = 0;
  int64_t frames = 0;
  // The most series one Series call held back to keep the order (see relabel.h).
  int64_t max_held_series = 0;
};

// Settings of a SidecarBackend.
struct SidecarOptions {
  MinTimeSpec min_time{std::numeric_limits<int64_t>::min(), 0};
  // How often the background thread re-reads the configuration.
  int64_t refresh_interval_ms = 30000;
  // Timeout of one configuration read.
  int64_t refresh_timeout_ms = 5000;
  // When not ready, Info and the other calls retry the configuration read at most this often.
  int64_t retry_interval_ms = 1000;
  // Frames of the remote-read stream larger than this are rejected.
  size_t max_frame_bytes = 64u << 20;
  // Name used in log lines.
  std::string component = "sidecar";
};

// A StoreBackend over one Prometheus.
class SidecarBackend final : public StoreBackend {
 public:
  SidecarBackend(std::shared_ptr<HttpClient> client, SidecarOptions options);
  ~SidecarBackend() override;

  // Reads the configuration and the lowest timestamp now. Logs a clear line when readiness
  // changes. Returns the error of the configuration read.
  absl::Status Refresh();

  // Starts a thread calling Refresh() every refresh_interval_ms; stopped by the destructor.
  void StartBackgroundRefresh();

  // True after a successful Refresh() and until a failed one.
  bool ready() const;

  // The external labels of the last successful read.
  engine::Labels external_labels() const;

  // Counters so far.
  SidecarStats stats() const;

  absl::StatusOr<thanos::info::InfoResponse> Info() override;
  absl::StatusOr<std::unique_ptr<SeriesResponseStream>> Series(const thanos::SeriesRequest& request,
                                                               const CallContext& ctx) override;
  absl::StatusOr<thanos::LabelNamesResponse> LabelNames(const thanos::LabelNamesRequest& request,
                                                        const CallContext& ctx) override;
  absl::StatusOr<thanos::LabelValuesResponse> LabelValues(const thanos::LabelValuesRequest& request,
                                                          const CallContext& ctx) override;

  // Implementation detail, public for the stream class in the .cc file.
  void AddStreamStats(int64_t bytes, int64_t frames, int64_t max_held);

 private:
  // OK when ready; otherwise retries the read (rate-limited) and fails with Unavailable.
  absl::Status EnsureReady();
  int64_t MinTime() const;

  std::shared_ptr<HttpClient> client_;
  SidecarOptions options_;

  std::mutex refresh_mu_;  // one Refresh at a time
  mutable std::mutex mu_;
  bool ready_ = false;
  bool ever_ready_ = false;
  std::string last_error_ = "not read yet";
  int64_t last_attempt_steady_ms_ = 0;
  engine::Labels external_;
  std::optional<int64_t> lowest_ts_;
  SidecarStats stats_;

  std::thread refresher_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SIDECAR_SIDECAR_BACKEND_H_
