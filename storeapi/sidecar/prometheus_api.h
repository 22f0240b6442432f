// The parts of Prometheus' HTTP API the sidecar reads: the configuration (for the external
// labels), the lowest stored timestamp (from its /metrics), the label and series endpoints,
// and the streamed remote read (POST /api/v1/read, snappy-compressed protobuf request,
// STREAMED_XOR_CHUNKS response).
#ifndef PAODIN_STOREAPI_SIDECAR_PROMETHEUS_API_H_
#define PAODIN_STOREAPI_SIDECAR_PROMETHEUS_API_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/prometheus/remote.pb.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "engine/model/matcher.h"
#include "engine/storage/queryable.h"
#include "storeapi/sidecar/frame.h"
#include "storeapi/sidecar/http_client.h"

namespace paodin::storeapi {

// Reads global.external_labels from GET /api/v1/status/config. Unavailable / DeadlineExceeded
// when Prometheus cannot be reached, Internal when the answer is not what Prometheus sends.
absl::StatusOr<engine::Labels> FetchExternalLabels(HttpClient& client,
                                                   const engine::QueryContext& ctx);

// Prometheus' lowest stored timestamp in ms (gauge prometheus_tsdb_lowest_timestamp of its own
// /metrics), or nullopt when the TSDB holds no sample yet.
absl::StatusOr<std::optional<int64_t>> FetchLowestTimestamp(HttpClient& client,
                                                            const engine::QueryContext& ctx);

// GET /api/v1/labels with the matchers as one match[] selector (none when empty).
absl::StatusOr<std::vector<std::string>> FetchLabelNames(HttpClient& client,
                                                         std::span<const engine::Matcher> matchers,
                                                         int64_t start_ms, int64_t end_ms,
                                                         const engine::QueryContext& ctx);

// GET /api/v1/label/<name>/values with the matchers as one match[] selector (none when empty).
absl::StatusOr<std::vector<std::string>> FetchLabelValues(HttpClient& client, std::string_view name,
                                                          std::span<const engine::Matcher> matchers,
                                                          int64_t start_ms, int64_t end_ms,
                                                          const engine::QueryContext& ctx);

// GET /api/v1/series for one selector. REQUIRES: matchers not empty.
absl::StatusOr<std::vector<engine::Labels>> FetchSeries(HttpClient& client,
                                                        std::span<const engine::Matcher> matchers,
                                                        int64_t start_ms, int64_t end_ms,
                                                        const engine::QueryContext& ctx);

// The body-side parsers, exposed for tests. Each takes the HTTP status and body.
absl::StatusOr<engine::Labels> ParseConfigResponse(int status, std::string_view body);
absl::StatusOr<std::optional<int64_t>> ParseLowestTimestamp(std::string_view metrics_text);
absl::StatusOr<std::vector<std::string>> ParseStringListResponse(int status, std::string_view body);
absl::StatusOr<std::vector<engine::Labels>> ParseSeriesResponse(int status, std::string_view body);

// A selector `{a="b",c=~"d"}` for a match[] parameter.
std::string MatchersToSelector(std::span<const engine::Matcher> matchers);

// Converts matchers to remote-read ones.
void MatchersToRemote(std::span<const engine::Matcher> matchers,
                      google::protobuf::RepeatedPtrField<prometheus::LabelMatcher>* out);

// An open streamed remote-read response.
class RemoteReadStream {
 public:
  // Sends `request` (asking for STREAMED_XOR_CHUNKS) and waits for the response headers. Fails
  // when Prometheus cannot be reached, answers an error status (its message quoted) or answers
  // something other than a streamed chunk response.
  static absl::StatusOr<std::unique_ptr<RemoteReadStream>> Start(
      HttpClient& client, const prometheus::ReadRequest& request, size_t max_frame_bytes,
      const engine::QueryContext& ctx);

  // The next frame, or false at the end of the response. Fails with DataLoss on a corrupt or
  // cut stream and Unavailable / DeadlineExceeded when the connection fails.
  absl::StatusOr<bool> Next(prometheus::ChunkedReadResponse* out);

  // Body bytes received so far.
  int64_t bytes() const { return bytes_; }

 private:
  RemoteReadStream(std::unique_ptr<HttpBodyStream> body, size_t max_frame_bytes, std::string url)
      : body_(std::move(body)), reader_(max_frame_bytes), url_(std::move(url)) {}

  std::unique_ptr<HttpBodyStream> body_;
  ChunkedFrameReader reader_;
  std::string url_;
  std::string piece_;
  bool eof_ = false;
  int64_t bytes_ = 0;
};

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_SIDECAR_PROMETHEUS_API_H_
