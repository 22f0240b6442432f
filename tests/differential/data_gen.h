// The deterministic data set of the differential test: scrape targets in two namespaces with
// counters that reset on restarts, gauges, classic histograms (`le` buckets up to +Inf, _sum,
// _count), an info metric whose version changes, pods that churn (their series end with a
// staleness marker), a target that goes down (staleness markers, `up` 0, then back), a target
// whose data has a gap longer than the lookback, and a few series with NaN, ±Inf and extreme
// values. Scrapes are every 15 s at a per-target offset with a little jitter.
//
//   DataSet data = GenerateDataSet(DataSetSpec{.start_ms = t0});
//   for (const GenSeries& s : data.series) ...
#ifndef PAODIN_TESTS_DIFFERENTIAL_DATA_GEN_H_
#define PAODIN_TESTS_DIFFERENTIAL_DATA_GEN_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace paodin::differential {

// What to generate.
struct DataSetSpec {
  // First possible scrape time, ms.
  int64_t start_ms = 0;
  // Length of the data, ms (kept under 3 h so a Prometheus head never compacts it).
  int64_t duration_ms = (2 * 60 + 40) * 60 * 1000;
  // Scrape interval, ms.
  int64_t interval_ms = 15 * 1000;
  // Seed of every random choice.
  uint64_t seed = 42;
};

// One series: labels sorted by name (the metric name as `__name__`), samples in strictly
// increasing time order (values may be staleness markers).
struct GenSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<int64_t> ts;
  std::vector<double> vs;
};

// The generated data.
struct DataSet {
  // Smallest and largest sample timestamp over all series.
  int64_t min_ms = 0;
  int64_t max_ms = 0;
  std::vector<GenSeries> series;
  // Total samples, staleness markers included.
  int64_t num_samples = 0;
};

// Generates the data set; the same spec always gives the same data.
DataSet GenerateDataSet(const DataSetSpec& spec);

}  // namespace paodin::differential

#endif  // PAODIN_TESTS_DIFFERENTIAL_DATA_GEN_H_
