// The JSON bodies of the API: the envelope {"status","data","errorType","error","warnings"} in
// Prometheus' key order, and each endpoint's data. Results are written piece by piece into a
// buffer that is handed to a BodySink whenever it grows past a threshold, so a large matrix
// streams out without ever being held whole (and without a document tree).
#ifndef PAODIN_HTTP_ENCODE_H_
#define PAODIN_HTTP_ENCODE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "http/api_error.h"
#include "http/backend.h"

namespace paodin::http {

// Receives a response body in order, piece by piece. A failed Write (the client went away)
// makes the encoder stop.
class BodySink {
 public:
  virtual ~BodySink() = default;

  // Appends `data` to the body.
  virtual absl::Status Write(std::string_view data) = 0;
};

// A body buffer in front of a sink.
class JsonOut {
 public:
  // `flush_bytes`: MaybeFlush() hands the buffer over once it holds at least this much.
  explicit JsonOut(BodySink* sink, size_t flush_bytes = 64 * 1024)
      : sink_(sink), flush_bytes_(flush_bytes) {}

  // The buffer to append to.
  std::string& buf() { return buf_; }

  // Writes the buffer to the sink when it is large enough.
  absl::Status MaybeFlush() {
    if (buf_.size() < flush_bytes_)
      return absl::OkStatus();
    return Flush();
  }

  // Writes whatever is buffered.
  absl::Status Flush();

 private:
  BodySink* sink_;
  size_t flush_bytes_;
  std::string buf_;
};

// Timings the HTTP layer measured for `stats`.
struct ExecTimings {
  // Waiting for a query slot.
  double exec_queue_seconds = 0;
  // Evaluating (the backend call).
  double eval_seconds = 0;
};

// {"status":"success","data":{"resultType":..,"result":..[,"stats":..]}[,"warnings":[..]]}.
absl::Status WriteQueryResponse(const QueryResult& result, bool with_stats,
                                const ExecTimings& timings, JsonOut& out);

// {"status":"success","data":[{labels}...][,"warnings":..]}.
absl::Status WriteSeriesResponse(const std::vector<engine::Labels>& series,
                                 const std::vector<std::string>& warnings, JsonOut& out);

// {"status":"success","data":["a","b"][,"warnings":..]}.
absl::Status WriteStringsResponse(const std::vector<std::string>& values,
                                  const std::vector<std::string>& warnings, JsonOut& out);

// {"status":"error","errorType":"..","error":".."}.
void WriteErrorResponse(const ApiError& error, std::string& out);

// {"status":"success","data":<raw data JSON>}: `data` must already be valid JSON.
void WriteRawDataResponse(std::string_view data, std::string& out);

// A labels object: {"name":"value",...} in label order.
void AppendLabels(std::string& out, const engine::Labels& labels);

// Go's time.Time JSON form in UTC: RFC 3339 with up to nine fraction digits, trailing zeros
// dropped, and "Z": "2026-08-22T10:00:05.123456789Z".
std::string FormatRfc3339Nano(absl::Time t);

// The data object of /api/v1/stores: endpoints grouped by component type (sorted keys);
// endpoints of unknown type are left out.
std::string StoresData(const std::vector<EndpointStatus>& endpoints);

// The data object of /api/v1/status/buildinfo.
std::string BuildInfoData(const BuildInfo& info);

// The data object of /api/v1/status/flags: name -> value, sorted by name.
std::string FlagsData(std::vector<std::pair<std::string, std::string>> flags);

// The data object of /api/v1/metadata.
std::string MetadataData(
    const std::vector<std::pair<std::string, std::vector<MetricMetadata>>>& metadata);

}  // namespace paodin::http

#endif  // PAODIN_HTTP_ENCODE_H_
