// Parsing of the Prometheus text exposition format and of OpenMetrics text with a timestamp on
// every sample: the files `promtool tsdb create-blocks-from openmetrics` takes.
//
//   # HELP http_requests Requests served.
//   # TYPE http_requests counter
//   http_requests_total{code="200",job="api"} 1027 1700000000.123
//   # EOF
//
// OpenMetrics timestamps are float seconds, converted to ms as Prometheus does (truncating
// int64(seconds * 1000)); the Prometheus text format's are integer ms. Values follow Go's
// strconv.ParseFloat (NaN, +Inf, -Inf, exponents, hex floats). Exemplars are skipped. Errors
// name the line: "line 7: expected '=' after label name \"code\"".
#ifndef PAODIN_STOREAPI_INGEST_EXPOSITION_H_
#define PAODIN_STOREAPI_INGEST_EXPOSITION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "storeapi/memstore/memstore.h"

namespace paodin::storeapi {

// Which text format a file is in.
enum class ExpositionFormat {
  // OpenMetrics when the last non-blank line is "# EOF", else the Prometheus text format.
  kAuto,
  // OpenMetrics 1.0 text: timestamps in float seconds, must end with "# EOF".
  kOpenMetrics,
  // Prometheus text format 0.0.4: timestamps in integer milliseconds.
  kPrometheusText,
};

// Resolves kAuto by looking at the end of the input (`tail` may be just its last few KiB).
ExpositionFormat DetectExpositionFormat(std::string_view tail);

// One sample line.
struct ExpositionSample {
  // The series as written, `name{label="value",...}`: a view into the parsed line, usable as a
  // cache key; ParseExpositionSeries turns it into labels.
  std::string_view series;
  int64_t timestamp_ms = 0;
  double value = 0;
};

// Parses a file line by line. Lines are numbered from 1 in the order they are given.
class ExpositionParser {
 public:
  // REQUIRES: `format` is not kAuto (resolve it with DetectExpositionFormat).
  explicit ExpositionParser(ExpositionFormat format);

  // Parses one line (without its newline). Returns true and fills *out for a sample line, false
  // for comments, metadata, blank lines and "# EOF". Fails with InvalidArgument naming the line
  // for malformed input, a sample without a timestamp, or content after "# EOF".
  absl::StatusOr<bool> ParseLine(std::string_view line, ExpositionSample* out);

  // Call after the last line: in OpenMetrics mode fails when "# EOF" never came.
  absl::Status Finish() const;

  // Number of lines seen so far.
  int line_number() const { return line_; }

 private:
  ExpositionFormat format_;
  int line_ = 0;
  bool eof_seen_ = false;
};

// The labels of a series text returned in ExpositionSample::series (metric name as __name__).
// Fails with InvalidArgument on malformed text or a repeated label name.
absl::StatusOr<engine::Labels> ParseExpositionSeries(std::string_view series);

// Parses a float value as Go's strconv.ParseFloat does for the exposition formats.
absl::StatusOr<double> ParseExpositionFloat(std::string_view s);

// What a load added.
struct LoadStats {
  int64_t samples = 0;
  int64_t lines = 0;
};

// Loads every sample of `input` into `store`. `source` names the input in errors
// ("data.om:12: out of order sample ...").
absl::Status LoadExposition(std::string_view input, ExpositionFormat format,
                            std::string_view source, MemStore* store, LoadStats* stats = nullptr);

// Reads a file in either format (auto-detected) into `store`, streaming it line by line.
absl::Status LoadExpositionFile(const std::string& path, MemStore* store,
                                LoadStats* stats = nullptr);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_INGEST_EXPOSITION_H_
