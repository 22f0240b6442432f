// A deterministic generator of realistic monitoring data: scrape targets (namespace, job, pod,
// instance) each exposing counters with resets, gauges and a classic histogram, scraped at a
// fixed interval with an optional rate of missed scrapes. The same spec and seed always give
// the same series and samples, whether loaded into a MemStore or written as an OpenMetrics file
// for `promtool tsdb create-blocks-from openmetrics` (so Prometheus can be fed identical data).
//
//   PAODIN_ASSIGN_OR_RETURN(SyntheticSpec spec,
//                           ParseSyntheticSpec("series=10000,duration=6h,interval=15s,seed=1",
//                                              now_ms));
//   PAODIN_RETURN_IF_ERROR(GenerateInto(spec, &store));
#ifndef PAODIN_STOREAPI_INGEST_SYNTHETIC_H_
#define PAODIN_STOREAPI_INGEST_SYNTHETIC_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/model/labels.h"
#include "storeapi/memstore/memstore.h"

namespace paodin::storeapi {

// What to generate.
struct SyntheticSpec {
  // Exact number of series.
  int64_t series = 1000;
  // Length of the data and scrape interval, in ms.
  int64_t duration_ms = 6 * 3600 * 1000;
  int64_t interval_ms = 15 * 1000;
  // Seed of every random choice.
  uint64_t seed = 1;
  // First scrape time window start, in ms (each target scrapes at its own offset after it).
  int64_t start_ms = 0;
  // Probability that one scrape of a target is missed (its series get no sample then, and
  // `up` is 0).
  double gaps = 0;

  // The spec string that parses back to this spec.
  std::string ToString() const;
};

// Parses "series=10000,duration=6h,interval=15s,seed=1,start=1700000000,gaps=0.01". Every key
// is optional; durations use Prometheus syntax, `start` is unix seconds (float) or RFC 3339 and
// defaults to `now_ms - duration` rounded down to the interval, so the data ends now. Fails with
// InvalidArgument naming the bad key.
absl::StatusOr<SyntheticSpec> ParseSyntheticSpec(std::string_view text, int64_t now_ms);

// The metric type of a family, as written in `# TYPE`.
enum class SyntheticType { kCounter, kGauge, kHistogram };

// One generated series and all its samples in time order.
struct SyntheticSeries {
  engine::Labels labels;
  std::vector<int64_t> ts;
  std::vector<double> vs;
};

// Generates the data of a spec piece by piece: by target and metric family.
class SyntheticGenerator {
 public:
  // A metric family every target exposes.
  struct Family {
    // Family name for `# TYPE` (a counter's samples carry a `_total` suffix).
    std::string name;
    SyntheticType type;
    std::string help;
  };

  explicit SyntheticGenerator(const SyntheticSpec& spec);

  // The families, in output order.
  const std::vector<Family>& families() const { return families_; }

  // Number of scrape targets.
  int64_t num_targets() const { return num_targets_; }

  // The series of family `family` on target `target` (possibly none), in a fixed order.
  // Depends only on the spec's seed, start, duration, interval and gaps, not on the ask order.
  std::vector<SyntheticSeries> Generate(int64_t target, size_t family) const;

 private:
  SyntheticSpec spec_;
  std::vector<Family> families_;
  int64_t num_targets_ = 0;
};

// Loads the data of `spec` into `store`.
absl::Status GenerateInto(const SyntheticSpec& spec, MemStore* store);

// Writes the data of `spec` as OpenMetrics text (families grouped, timestamps in seconds chosen
// so Prometheus reads back the exact millisecond, ending with "# EOF") to `out`.
absl::Status WriteOpenMetrics(const SyntheticSpec& spec, std::FILE* out);

// WriteOpenMetrics into a new file at `path`.
absl::Status WriteOpenMetricsFile(const SyntheticSpec& spec, const std::string& path);

// Formats a millisecond timestamp as OpenMetrics seconds that parse back (truncating
// seconds * 1000, as Prometheus does) to exactly `ms`.
std::string FormatOpenMetricsTimestamp(int64_t ms);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_INGEST_SYNTHETIC_H_
