#include "tests/differential/data_gen.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"

namespace paodin::differential {
namespace {

// Prometheus' staleness marker (value bits 0x7ff0000000000002).
double StaleMarker() {
  const uint64_t bits = 0x7ff0000000000002ULL;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// splitmix64: small, fast and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [lo, hi].
  int64_t Int(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }

  // Standard normal (Box-Muller).
  double Normal() {
    double u1 = std::max(Uniform(), 1e-12);
    double u2 = Uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }

 private:
  uint64_t state_;
};

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// Collects samples per label set.
class Collector {
 public:
  void Add(LabelPairs labels, int64_t t, double v) {
    std::sort(labels.begin(), labels.end());
    std::string key;
    for (const auto& [n, val] : labels)
      absl::StrAppend(&key, n, "\xff", val, "\xff");
    auto [it, inserted] = index_.try_emplace(key, series_.size());
    if (inserted) {
      series_.emplace_back();
      series_.back().labels = std::move(labels);
    }
    GenSeries& s = series_[it->second];
    if (!s.ts.empty() && t <= s.ts.back())
      return;  // never out of order
    s.ts.push_back(t);
    s.vs.push_back(v);
  }

  std::vector<GenSeries> Take() { return std::move(series_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<GenSeries> series_;
};

LabelPairs With(LabelPairs base, std::string_view name,
                std::vector<std::pair<std::string, std::string>> extra = {}) {
  base.emplace_back("__name__", std::string(name));
  for (auto& e : extra)
    base.push_back(std::move(e));
  return base;
}

constexpr double kBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
constexpr int kNumBuckets = sizeof(kBuckets) / sizeof(kBuckets[0]);
constexpr const char* kBucketLabels[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                         "0.5",   "1",    "2.5",   "5",    "10"};
constexpr const char* kCodes[] = {"200", "404", "500"};
constexpr const char* kMethods[] = {"GET", "POST"};

// An application target: up, request counters, a latency histogram, process metrics.
void GenerateTarget(const DataSetSpec& spec, int ns_idx, int job_idx, int inst_idx,
                    Collector& out) {
  static constexpr const char* kNamespaces[] = {"prod", "staging"};
  static constexpr const char* kJobs[] = {"api", "worker"};
  const std::string ns = kNamespaces[ns_idx];
  const std::string job = kJobs[job_idx];
  const std::string instance = absl::StrCat("10.", ns_idx, ".", job_idx, ".", inst_idx, ":9090");
  const LabelPairs target = {{"namespace", ns}, {"job", job}, {"instance", instance}};
  const int target_idx = ns_idx * 4 + job_idx * 2 + inst_idx;
  Rng rng(spec.seed * 1000003 + target_idx);

  const int64_t steps = spec.duration_ms / spec.interval_ms;
  const int64_t offset = rng.Int(300, spec.interval_ms - 300);
  std::vector<int64_t> restarts;
  for (int64_t n = rng.Int(0, 2), i = 0; i < n; ++i)
    restarts.push_back(rng.Int(20, steps - 20));
  // staging/api/1 goes down for 6 minutes (stale markers, up == 0) and restarts after.
  int64_t down_from = -1, down_to = -1;
  if (ns_idx == 1 && job_idx == 0 && inst_idx == 1) {
    down_from = steps / 2;
    down_to = down_from + 24;
    restarts.push_back(down_to);
  }
  // prod/worker/1 has a 12 minute hole in its data: no samples at all, no markers.
  int64_t gap_from = -1, gap_to = -1;
  if (ns_idx == 0 && job_idx == 1 && inst_idx == 1) {
    gap_from = steps / 3;
    gap_to = gap_from + 48;
  }
  const double base_rate = 2 + 10 * rng.Uniform() + (job_idx == 0 ? 8 : 0);
  const double code_share[] = {1.0, 0.08, ns_idx == 0 ? 0.02 : 0.0};
  const double latency_mu = job_idx == 0 ? -3.0 : -1.5;

  double reqs[3][2] = {};
  double buckets[kNumBuckets + 1] = {};
  double hist_sum = 0, hist_count = 0, cpu = 0;
  double memory = 2e8 + 1e8 * rng.Uniform();
  double queue = static_cast<double>(rng.Int(0, 5));
  int version = 1;
  double start_time = static_cast<double>((spec.start_ms - rng.Int(3600, 86400) * 1000) / 1000);
  bool was_down = false;

  auto info = [&](int v) {
    return With(target, "target_info",
                {{"version", absl::StrCat("1.", v)}, {"region", ns_idx == 0 ? "eu" : "us"}});
  };

  for (int64_t k = 0; k <= steps; ++k) {
    int64_t t = spec.start_ms + offset + k * spec.interval_ms + rng.Int(-200, 200);
    if (t > spec.start_ms + spec.duration_ms)
      break;
    if (k >= gap_from && k < gap_to)
      continue;
    const bool down = k >= down_from && k < down_to;
    if (down) {
      out.Add(With(target, "up"), t, 0);
      if (!was_down) {
        // Prometheus marks every series of a failed target stale at the failed scrape.
        double stale = StaleMarker();
        for (int c = 0; c < 3; ++c) {
          for (int m = 0; m < 2; ++m) {
            out.Add(
                With(target, "http_requests_total", {{"code", kCodes[c]}, {"method", kMethods[m]}}),
                t, stale);
          }
        }
        for (int b = 0; b <= kNumBuckets; ++b) {
          out.Add(With(target, "http_request_duration_seconds_bucket",
                       {{"le", b < kNumBuckets ? kBucketLabels[b] : "+Inf"}}),
                  t, stale);
        }
        out.Add(With(target, "http_request_duration_seconds_sum"), t, stale);
        out.Add(With(target, "http_request_duration_seconds_count"), t, stale);
        out.Add(With(target, "process_cpu_seconds_total"), t, stale);
        out.Add(With(target, "process_resident_memory_bytes"), t, stale);
        out.Add(With(target, "process_start_time_seconds"), t, stale);
        out.Add(With(target, "queue_depth"), t, stale);
        out.Add(info(version), t, stale);
      }
      was_down = true;
      continue;
    }
    was_down = false;
    if (std::find(restarts.begin(), restarts.end(), k) != restarts.end()) {
      out.Add(info(version), t, StaleMarker());
      ++version;
      for (auto& row : reqs)
        row[0] = row[1] = 0;
      std::fill(std::begin(buckets), std::end(buckets), 0.0);
      hist_sum = hist_count = cpu = 0;
      memory = 1.5e8 + 5e7 * rng.Uniform();
      start_time = static_cast<double>(t / 1000);
    }
    // Traffic follows a slow wave so rates change over time.
    const double wave = 1 + 0.5 * std::sin(static_cast<double>(k) / 40.0 + target_idx);
    for (int c = 0; c < 3; ++c) {
      for (int m = 0; m < 2; ++m) {
        double mean = base_rate * wave * code_share[c] * (m == 0 ? 1.0 : 0.4);
        double inc = std::floor(mean + std::sqrt(mean + 0.01) * rng.Normal());
        reqs[c][m] += std::max(0.0, inc);
      }
    }
    int64_t observations = static_cast<int64_t>(std::max(0.0, base_rate * wave + 2 * rng.Normal()));
    for (int64_t o = 0; o < observations; ++o) {
      double latency = std::exp(latency_mu + 1.1 * rng.Normal());
      for (int b = 0; b < kNumBuckets; ++b) {
        if (latency <= kBuckets[b])
          buckets[b] += 1;
      }
      buckets[kNumBuckets] += 1;
      hist_sum += latency;
      hist_count += 1;
    }
    cpu += 0.05 + 0.4 * rng.Uniform() * wave;
    memory = std::max(5e7, memory + 4e6 * rng.Normal());
    if (rng.Uniform() < 0.3)
      queue = std::max(0.0, queue + static_cast<double>(rng.Int(-3, 3)));

    out.Add(With(target, "up"), t, 1);
    for (int c = 0; c < 3; ++c) {
      for (int m = 0; m < 2; ++m) {
        out.Add(With(target, "http_requests_total", {{"code", kCodes[c]}, {"method", kMethods[m]}}),
                t, reqs[c][m]);
      }
    }
    for (int b = 0; b <= kNumBuckets; ++b) {
      out.Add(With(target, "http_request_duration_seconds_bucket",
                   {{"le", b < kNumBuckets ? kBucketLabels[b] : "+Inf"}}),
              t, buckets[b]);
    }
    out.Add(With(target, "http_request_duration_seconds_sum"), t, hist_sum);
    out.Add(With(target, "http_request_duration_seconds_count"), t, hist_count);
    out.Add(With(target, "process_cpu_seconds_total"), t, cpu);
    out.Add(With(target, "process_resident_memory_bytes"), t, std::round(memory));
    out.Add(With(target, "process_start_time_seconds"), t, start_time);
    out.Add(With(target, "queue_depth"), t, queue);
    out.Add(info(version), t, 1);
  }
}

// Pods of a deployment that are replaced over time: each pod's series end with a staleness
// marker, the next pod starts two scrapes before its predecessor ends.
void GeneratePods(const DataSetSpec& spec, int ns_idx, Collector& out) {
  const std::string ns = ns_idx == 0 ? "prod" : "staging";
  Rng rng(spec.seed * 7919 + 100 + ns_idx);
  const int64_t steps = spec.duration_ms / spec.interval_ms;
  const int64_t ksm_offset = rng.Int(300, spec.interval_ms - 300);
  for (int slot = 0; slot < 3; ++slot) {
    int64_t born = 0;
    int generation = 0;
    while (born <= steps) {
      int64_t dies = born + rng.Int(100, 260);
      std::string pod = absl::StrCat("web-", ns_idx, slot, generation, "-");
      pod.push_back(static_cast<char>('a' + rng.Int(0, 25)));
      pod.push_back(static_cast<char>('a' + rng.Int(0, 25)));
      std::string node = absl::StrCat("node-", rng.Int(1, 3));
      LabelPairs pod_labels = {{"namespace", ns}, {"pod", pod}};
      LabelPairs info = pod_labels;
      info.emplace_back("node", node);
      info.emplace_back("job", "kube-state-metrics");
      info.emplace_back("instance", "ksm:8080");
      LabelPairs cont = pod_labels;
      cont.emplace_back("container", "app");
      cont.emplace_back("job", "kubelet");
      cont.emplace_back("instance", node + ":10250");
      double cpu = 0;
      double mem = 5e7 + 5e7 * rng.Uniform();
      for (int64_t k = born; k <= std::min(dies, steps); ++k) {
        int64_t t = spec.start_ms + ksm_offset + k * spec.interval_ms + rng.Int(-150, 150);
        if (t > spec.start_ms + spec.duration_ms)
          break;
        if (k == dies) {
          out.Add(With(info, "kube_pod_info"), t, StaleMarker());
          out.Add(With(cont, "container_memory_working_set_bytes"), t, StaleMarker());
          out.Add(With(cont, "container_cpu_usage_seconds_total"), t, StaleMarker());
          break;
        }
        cpu += 0.02 + 0.2 * rng.Uniform();
        mem = std::max(1e7, mem + 1e6 * rng.Normal());
        out.Add(With(info, "kube_pod_info"), t, 1);
        out.Add(With(cont, "container_memory_working_set_bytes"), t, std::round(mem));
        out.Add(With(cont, "container_cpu_usage_seconds_total"), t, cpu);
      }
      born = dies - 2;
      ++generation;
    }
  }
}

// Gauges with negative values and with special values (NaN, ±Inf, huge, tiny).
void GenerateSpecial(const DataSetSpec& spec, Collector& out) {
  Rng rng(spec.seed * 31 + 5);
  const int64_t steps = spec.duration_ms / spec.interval_ms;
  const LabelPairs base = {{"job", "special"}, {"instance", "sensor:1"}};
  const char* kLocations[] = {"north", "south", "lab"};
  const int64_t offset = rng.Int(300, spec.interval_ms - 300);
  for (int64_t k = 0; k <= steps; ++k) {
    int64_t t = spec.start_ms + offset + k * spec.interval_ms + rng.Int(-100, 100);
    if (t > spec.start_ms + spec.duration_ms)
      break;
    for (int l = 0; l < 3; ++l) {
      double v =
          10 * l - 5 + 12 * std::sin(static_cast<double>(k) / (25.0 + 10 * l)) + 0.5 * rng.Normal();
      out.Add(With(base, "temperature_celsius", {{"location", kLocations[l]}}), t,
              std::round(v * 100) / 100);
    }
    double nan_v = (k % 37 == 5) ? std::nan("") : static_cast<double>(k % 11);
    out.Add(With(base, "odd_values", {{"kind", "nan"}}), t, nan_v);
    double inf_v = (k % 53 == 7)    ? HUGE_VAL
                   : (k % 53 == 30) ? -HUGE_VAL
                                    : static_cast<double>(k % 7) - 3;
    out.Add(With(base, "odd_values", {{"kind", "inf"}}), t, inf_v);
    out.Add(With(base, "odd_values", {{"kind", "huge"}}), t,
            1e300 * (1 + static_cast<double>(k % 5)));
    out.Add(With(base, "odd_values", {{"kind", "tiny"}}), t,
            1e-300 * static_cast<double>(k % 3 + 1));
  }
}

// Series that probe edges: samples exactly on the 15 s grid from the start (window and lookback
// boundaries hit samples exactly), sparse series every 5 minutes (one exactly on the lookback
// boundary, one 1 ms late), classic histograms with unusual `le` spellings, non-monotonic
// buckets and a missing +Inf bucket, a recording-rule style name and label values that need
// escaping.
void GenerateEdges(const DataSetSpec& spec, Collector& out) {
  Rng rng(spec.seed * 131 + 9);
  const int64_t steps = spec.duration_ms / spec.interval_ms;
  const LabelPairs aligned = {{"job", "aligned"}, {"instance", "grid:1"}};
  double counter = 0;
  for (int64_t k = 0; k <= steps; ++k) {
    const int64_t t = spec.start_ms + k * spec.interval_ms;
    out.Add(With(aligned, "aligned_gauge"), t, static_cast<double>(k % 17));
    counter += static_cast<double>(rng.Int(0, 4));
    if (k % 97 == 50)
      counter = 1;
    out.Add(With(aligned, "aligned_counter_total"), t, counter);
  }
  for (int64_t k = 0; k * 300000 <= spec.duration_ms; ++k) {
    const int64_t t = spec.start_ms + k * 300000;
    out.Add(With({{"job", "sparse"}, {"phase", "exact"}}, "sparse_gauge"), t,
            1.5 * static_cast<double>(k));
    // Every 6 minutes: at 6k+5 minutes the sample is exactly one lookback (5m) old.
    if (k * 300000 % 360000 == 0) {
      out.Add(With({{"job", "sparse"}, {"phase", "six"}}, "sparse_gauge"), t,
              static_cast<double>(k));
    }
    if (t + 1 <= spec.start_ms + spec.duration_ms) {
      out.Add(With({{"job", "sparse"}, {"phase", "late"}}, "sparse_gauge"), t + 1,
              2.5 * static_cast<double>(k));
    }
  }

  // Histograms: (job, le spellings, whether a bucket is made non-monotonic).
  struct Legacy {
    const char* job;
    std::vector<const char*> les;
    bool broken;
  };

  const std::vector<Legacy> legacies = {
      {"legacy", {"0.05", "0.5", "5.0", "1e1", "+inf"}, false},
      {"legacy-broken", {"0.05", "0.5", "5", "10", "+Inf"}, true},
      {"legacy-noinf", {"0.05", "0.5", "5", "10"}, false},
      {"legacy-infonly", {"+Inf"}, false},
  };
  const int64_t offset = rng.Int(300, spec.interval_ms - 300);
  std::vector<std::vector<double>> counts(legacies.size());
  for (size_t h = 0; h < legacies.size(); ++h)
    counts[h].assign(legacies[h].les.size(), 0);
  for (int64_t k = 0; k <= steps; ++k) {
    const int64_t t = spec.start_ms + offset + k * spec.interval_ms;
    if (t > spec.start_ms + spec.duration_ms)
      break;
    for (size_t h = 0; h < legacies.size(); ++h) {
      const Legacy& l = legacies[h];
      int64_t n = rng.Int(0, 12);
      for (int64_t o = 0; o < n; ++o) {
        double latency = std::exp(-1.0 + 1.5 * rng.Normal());
        for (size_t b = 0; b < l.les.size(); ++b) {
          double bound = std::strtod(l.les[b], nullptr);
          if (latency <= bound)
            counts[h][b] += 1;
        }
      }
      for (size_t b = 0; b < l.les.size(); ++b) {
        double v = counts[h][b];
        // A buggy exporter: the 0.5 bucket sometimes reports less than the 0.05 one.
        if (l.broken && b == 1 && k % 9 == 4)
          v = std::max(0.0, counts[h][0] - 3);
        out.Add(With({{"job", l.job}}, "legacy_latency_seconds_bucket", {{"le", l.les[b]}}), t, v);
      }
    }
    out.Add(With({{"job", "api"}}, "job:http_requests:rate5m"), t,
            100 + 20 * std::sin(static_cast<double>(k) / 30.0));
    out.Add(
        With({{"job", "weird"}, {"path", "/a\"b\\c"}, {"text", "\u2713 \u00fc"}, {"space", " x "}},
             "weird_labels"),
        t, static_cast<double>(k % 3));
    out.Add(
        With({{"job", "weird"}, {"path", "line1\nline2"}, {"text", "tab\there"}}, "weird_labels"),
        t, 7);
  }
}

}  // namespace

DataSet GenerateDataSet(const DataSetSpec& spec) {
  Collector out;
  for (int ns = 0; ns < 2; ++ns) {
    for (int job = 0; job < 2; ++job) {
      for (int inst = 0; inst < 2; ++inst)
        GenerateTarget(spec, ns, job, inst, out);
    }
    GeneratePods(spec, ns, out);
  }
  GenerateSpecial(spec, out);
  GenerateEdges(spec, out);
  DataSet data;
  data.series = out.Take();
  std::sort(data.series.begin(), data.series.end(),
            [](const GenSeries& a, const GenSeries& b) { return a.labels < b.labels; });
  data.min_ms = INT64_MAX;
  data.max_ms = INT64_MIN;
  for (const GenSeries& s : data.series) {
    if (s.ts.empty())
      continue;
    data.min_ms = std::min(data.min_ms, s.ts.front());
    data.max_ms = std::max(data.max_ms, s.ts.back());
    data.num_samples += static_cast<int64_t>(s.ts.size());
  }
  return data;
}

}  // namespace paodin::differential
