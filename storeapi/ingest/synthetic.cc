#include "storeapi/ingest/synthetic.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/model/time.h"
#include "engine/util/strings.h"

namespace paodin::storeapi {
namespace {

using engine::Labels;

// splitmix64: tiny, fast, and the same everywhere (unlike <random>'s distributions).
struct Rng {
  uint64_t state;

  uint64_t Next() {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
};

uint64_t Mix(uint64_t a, uint64_t b) {
  Rng r{a ^ (b * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL)};
  r.Next();
  return r.Next();
}

// Families in output order; the counts below must match Generate().
enum FamilyIndex : size_t { kUp, kCpu, kMemory, kRequests, kDuration, kQueue, kNumFamilies };

constexpr int64_t kRequestSeries = 4;
constexpr std::array<double, 11> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,    2.5,   5,    10};
constexpr int64_t kHistogramSeries = kBuckets.size() + 3;  // + the +Inf bucket, _sum, _count
// Series of a full target: up, cpu, memory, requests, histogram.
constexpr int64_t kSeriesPerTarget = 3 + kRequestSeries + kHistogramSeries;
// Series of a partial target before the queue gauges fill the rest.
constexpr int64_t kPartialBase = 3 + kRequestSeries;

constexpr std::array<const char*, 8> kJobs = {"api",     "checkout", "search", "auth",
                                              "billing", "frontend", "worker", "cache"};
constexpr int64_t kNamespaces = 10;

// Scrape schedule and identity of one target.
struct Target {
  std::string ns;
  std::string job;
  std::string pod;
  std::string instance;
  int64_t offset_ms = 0;
  std::vector<uint8_t> missed;
  std::vector<uint8_t> restart;
};

std::string FormatLe(double le) { return fmt::format("{}", le); }

}  // namespace

std::string SyntheticSpec::ToString() const {
  return fmt::format("series={},duration={},interval={},seed={},start={},gaps={}", series,
                     engine::FormatDuration(duration_ms), engine::FormatDuration(interval_ms), seed,
                     FormatOpenMetricsTimestamp(start_ms), gaps);
}

absl::StatusOr<SyntheticSpec> ParseSyntheticSpec(std::string_view text, int64_t now_ms) {
  SyntheticSpec spec;
  bool have_start = false;
  auto bad = [](std::string_view key, std::string_view value, std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("synthetic spec: bad {} \"{}\": {}", key, value, why));
  };
  for (absl::string_view item_a : absl::StrSplit(ToAbsl(text), ',', absl::SkipWhitespace())) {
    std::string_view item = ToStd(item_a);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          fmt::format("synthetic spec: expected key=value, got \"{}\"", item));
    }
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    auto parse_int = [&](int64_t* out) -> absl::Status {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), *out);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size()) {
        return bad(key, value, "not an integer");
      }
      return absl::OkStatus();
    };
    auto parse_duration = [&](int64_t* out) -> absl::Status {
      absl::StatusOr<int64_t> d = engine::ParseDuration(value);
      if (!d.ok()) {
        return bad(key, value, ToStd(d.status().message()));
      }
      if (*d <= 0) {
        return bad(key, value, "must be positive");
      }
      *out = *d;
      return absl::OkStatus();
    };
    absl::Status st;
    if (key == "series") {
      st = parse_int(&spec.series);
      if (st.ok() && spec.series <= 0) {
        st = bad(key, value, "must be positive");
      }
    } else if (key == "duration") {
      st = parse_duration(&spec.duration_ms);
    } else if (key == "interval") {
      st = parse_duration(&spec.interval_ms);
    } else if (key == "seed") {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), spec.seed);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size()) {
        st = bad(key, value, "not an unsigned integer");
      }
    } else if (key == "start") {
      absl::StatusOr<int64_t> t = engine::ParseApiTime(value);
      if (!t.ok()) {
        st = bad(key, value, "expected unix seconds or RFC 3339");
      } else {
        spec.start_ms = *t;
        have_start = true;
      }
    } else if (key == "gaps") {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), spec.gaps);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size() ||
          !(spec.gaps >= 0 && spec.gaps < 1)) {
        st = bad(key, value, "expected a probability in [0, 1)");
      }
    } else {
      return absl::InvalidArgumentError(fmt::format(
          "synthetic spec: unknown key \"{}\" (known: series, duration, interval, seed, start, "
          "gaps)",
          key));
    }
    if (!st.ok()) {
      return st;
    }
  }
  if (spec.duration_ms < spec.interval_ms) {
    return absl::InvalidArgumentError("synthetic spec: duration must be at least one interval");
  }
  if (!have_start) {
    const int64_t t = now_ms - spec.duration_ms;
    spec.start_ms = t - ((t % spec.interval_ms) + spec.interval_ms) % spec.interval_ms;
  }
  return spec;
}

SyntheticGenerator::SyntheticGenerator(const SyntheticSpec& spec) : spec_(spec) {
  families_ = {
      {"up", SyntheticType::kGauge, "Whether the last scrape of the target succeeded."},
      {"process_cpu_seconds", SyntheticType::kCounter, "CPU time spent by the process."},
      {"process_resident_memory_bytes", SyntheticType::kGauge, "Resident memory size."},
      {"http_requests", SyntheticType::kCounter, "HTTP requests served."},
      {"http_request_duration_seconds", SyntheticType::kHistogram, "Latency of HTTP requests."},
      {"app_queue_length", SyntheticType::kGauge, "Items waiting in a work queue."},
  };
  num_targets_ = (spec_.series + kSeriesPerTarget - 1) / kSeriesPerTarget;
}

namespace {

Target MakeTarget(const SyntheticSpec& spec, int64_t index, int64_t scrapes) {
  Target t;
  Rng rng{Mix(spec.seed, static_cast<uint64_t>(index))};
  t.ns = fmt::format("ns-{}", index % kNamespaces);
  t.job = kJobs[(index / kNamespaces) % kJobs.size()];
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string suffix;
  for (int i = 0; i < 5; ++i) {
    suffix.push_back(kAlphabet[rng.Next() % (sizeof(kAlphabet) - 1)]);
  }
  t.pod = fmt::format("{}-{}", t.job, suffix);
  t.instance =
      fmt::format("10.{}.{}.{}:8080", (index >> 16) & 255, (index >> 8) & 255, index & 255);
  t.offset_ms = static_cast<int64_t>(rng.Next() % static_cast<uint64_t>(spec.interval_ms));
  // A process restarts about every 4 hours.
  const double p_restart =
      std::min(1.0, static_cast<double>(spec.interval_ms) / (4.0 * 3600 * 1000));
  t.missed.resize(scrapes);
  t.restart.resize(scrapes);
  for (int64_t k = 0; k < scrapes; ++k) {
    const double r = rng.Uniform();
    const double m = rng.Uniform();
    t.restart[k] = k > 0 && r < p_restart;
    t.missed[k] = m < spec.gaps;
  }
  return t;
}

Labels MakeLabels(const Target& t, std::string_view name,
                  std::vector<std::pair<std::string, std::string>> extra) {
  extra.emplace_back("__name__", std::string(name));
  extra.emplace_back("namespace", t.ns);
  extra.emplace_back("job", t.job);
  extra.emplace_back("pod", t.pod);
  extra.emplace_back("instance", t.instance);
  return *Labels::FromPairs(std::move(extra));
}

// Standard normal CDF.
double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

}  // namespace

std::vector<SyntheticSeries> SyntheticGenerator::Generate(int64_t target, size_t family) const {
  std::vector<SyntheticSeries> out;
  if (target < 0 || target >= num_targets_ || family >= kNumFamilies) {
    return out;
  }
  // How many series of this family the target has.
  int64_t count = 0;
  const bool partial = (target + 1) * kSeriesPerTarget > spec_.series;
  const int64_t budget = partial ? spec_.series - target * kSeriesPerTarget : kSeriesPerTarget;
  static constexpr std::array<int64_t, kNumFamilies> kOffsets = {
      0, 1, 2, 3, 3 + kRequestSeries, kSeriesPerTarget};
  static constexpr std::array<int64_t, kNumFamilies> kCounts = {
      1, 1, 1, kRequestSeries, kHistogramSeries, 0};
  if (!partial) {
    count = kCounts[family];
  } else if (family == kDuration) {
    count = 0;
  } else if (family == kQueue) {
    count = std::max<int64_t>(0, budget - kPartialBase);
  } else {
    count = std::clamp<int64_t>(budget - kOffsets[family], 0, kCounts[family]);
  }
  if (count == 0) {
    return out;
  }

  const int64_t scrapes = std::max<int64_t>(1, spec_.duration_ms / spec_.interval_ms);
  const Target t = MakeTarget(spec_, target, scrapes);
  Rng rng{Mix(Mix(spec_.seed, static_cast<uint64_t>(target)), 1000 + family)};
  const double interval_s = static_cast<double>(spec_.interval_ms) / 1000;
  auto time_of = [&](int64_t k) { return spec_.start_ms + t.offset_ms + k * spec_.interval_ms; };
  auto reserve = [&](SyntheticSeries& s) {
    s.ts.reserve(scrapes);
    s.vs.reserve(scrapes);
  };

  switch (family) {
    case kUp: {
      SyntheticSeries s{MakeLabels(t, "up", {}), {}, {}};
      reserve(s);
      for (int64_t k = 0; k < scrapes; ++k) {
        s.ts.push_back(time_of(k));
        s.vs.push_back(t.missed[k] ? 0 : 1);
      }
      out.push_back(std::move(s));
      break;
    }
    case kCpu: {
      SyntheticSeries s{MakeLabels(t, "process_cpu_seconds_total", {}), {}, {}};
      reserve(s);
      const double cores = 0.02 + 0.5 * rng.Uniform();
      double c = std::round(rng.Uniform() * 1000 * 100) / 100;
      for (int64_t k = 0; k < scrapes; ++k) {
        if (t.restart[k]) {
          c = 0;
        }
        c += std::round(cores * interval_s * (0.8 + 0.4 * rng.Uniform()) * 100) / 100;
        if (!t.missed[k]) {
          s.ts.push_back(time_of(k));
          s.vs.push_back(std::round(c * 100) / 100);
        }
      }
      out.push_back(std::move(s));
      break;
    }
    case kMemory: {
      SyntheticSeries s{MakeLabels(t, "process_resident_memory_bytes", {}), {}, {}};
      reserve(s);
      const double base = (50 + 450 * rng.Uniform()) * 1024 * 1024;
      double v = base;
      for (int64_t k = 0; k < scrapes; ++k) {
        v += (rng.Uniform() - 0.5) * 0.02 * base;
        v = std::clamp(v, 0.5 * base, 2 * base);
        if (t.restart[k]) {
          v = 0.6 * base;
        }
        if (!t.missed[k]) {
          s.ts.push_back(time_of(k));
          s.vs.push_back(std::floor(v / 4096) * 4096);
        }
      }
      out.push_back(std::move(s));
      break;
    }
    case kRequests: {
      static constexpr std::array<std::pair<const char*, const char*>, kRequestSeries> kKinds = {
          {{"GET", "200"}, {"POST", "200"}, {"GET", "500"}, {"POST", "500"}}};
      static constexpr std::array<double, kRequestSeries> kShare = {0.7, 0.25, 0.03, 0.02};
      const double rate = 1 + 99 * rng.Uniform();
      for (int64_t i = 0; i < count; ++i) {
        SyntheticSeries s{MakeLabels(t, "http_requests_total",
                                     {{"method", kKinds[i].first}, {"code", kKinds[i].second}}),
                          {},
                          {}};
        reserve(s);
        double c = std::round(rng.Uniform() * 1e6 * kShare[i]);
        for (int64_t k = 0; k < scrapes; ++k) {
          if (t.restart[k]) {
            c = 0;
          }
          c += std::round(rate * kShare[i] * interval_s * (0.5 + rng.Uniform()));
          if (!t.missed[k]) {
            s.ts.push_back(time_of(k));
            s.vs.push_back(c);
          }
        }
        out.push_back(std::move(s));
      }
      break;
    }
    case kDuration: {
      // Observations follow a log-normal latency distribution with a per-target median.
      const double rate = 1 + 49 * rng.Uniform();
      const double median = 0.02 + 0.2 * rng.Uniform();
      const double sigma = 0.8;
      const double mean = median * std::exp(sigma * sigma / 2);
      std::array<double, kBuckets.size() + 1> share{};
      double prev = 0;
      for (size_t b = 0; b < kBuckets.size(); ++b) {
        const double cdf = NormalCdf((std::log(kBuckets[b]) - std::log(median)) / sigma);
        share[b] = cdf - prev;
        prev = cdf;
      }
      share[kBuckets.size()] = 1 - prev;
      const std::string name = "http_request_duration_seconds";
      for (size_t b = 0; b <= kBuckets.size(); ++b) {
        const std::string le = b < kBuckets.size() ? FormatLe(kBuckets[b]) : "+Inf";
        out.push_back({MakeLabels(t, name + "_bucket", {{"le", le}}), {}, {}});
      }
      out.push_back({MakeLabels(t, name + "_sum", {}), {}, {}});
      out.push_back({MakeLabels(t, name + "_count", {}), {}, {}});
      for (SyntheticSeries& s : out) {
        reserve(s);
      }
      std::array<double, kBuckets.size() + 1> counts{};  // per bucket, not cumulative
      double sum = 0;
      for (int64_t k = 0; k < scrapes; ++k) {
        if (t.restart[k]) {
          counts.fill(0);
          sum = 0;
        }
        const double n = std::round(rate * interval_s * (0.5 + rng.Uniform()));
        double added = 0;
        for (size_t b = 0; b < counts.size(); ++b) {
          const double inc = std::floor(n * share[b] + rng.Uniform());
          counts[b] += inc;
          added += inc;
        }
        sum += std::round(added * mean * (0.9 + 0.2 * rng.Uniform()) * 1000) / 1000;
        if (t.missed[k]) {
          continue;
        }
        const int64_t ts = time_of(k);
        double cumulative = 0;
        for (size_t b = 0; b < counts.size(); ++b) {
          cumulative += counts[b];
          out[b].ts.push_back(ts);
          out[b].vs.push_back(cumulative);
        }
        out[counts.size()].ts.push_back(ts);
        out[counts.size()].vs.push_back(std::round(sum * 1000) / 1000);
        out[counts.size() + 1].ts.push_back(ts);
        out[counts.size() + 1].vs.push_back(cumulative);
      }
      break;
    }
    case kQueue: {
      for (int64_t i = 0; i < count; ++i) {
        SyntheticSeries s{
            MakeLabels(t, "app_queue_length", {{"queue", fmt::format("q{}", i)}}), {}, {}};
        reserve(s);
        double v = std::floor(rng.Uniform() * 50);
        for (int64_t k = 0; k < scrapes; ++k) {
          v = std::clamp(v + std::floor(rng.Uniform() * 7) - 3, 0.0, 100.0);
          if (!t.missed[k]) {
            s.ts.push_back(time_of(k));
            s.vs.push_back(v);
          }
        }
        out.push_back(std::move(s));
      }
      break;
    }
    default:
      break;
  }
  return out;
}

absl::Status GenerateInto(const SyntheticSpec& spec, MemStore* store) {
  SyntheticGenerator gen(spec);
  for (int64_t target = 0; target < gen.num_targets(); ++target) {
    for (size_t family = 0; family < gen.families().size(); ++family) {
      for (const SyntheticSeries& s : gen.Generate(target, family)) {
        absl::StatusOr<MemStore::SeriesRef> ref = store->GetOrCreateSeries(s.labels);
        if (!ref.ok()) {
          return ref.status();
        }
        if (absl::Status st = store->AppendSamples(*ref, s.ts, s.vs); !st.ok()) {
          return st;
        }
      }
    }
  }
  return absl::OkStatus();
}

std::string FormatOpenMetricsTimestamp(int64_t ms) {
  const bool negative = ms < 0;
  const uint64_t mag = negative ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  const char* sign = negative ? "-" : "";
  auto reads_back = [ms](const std::string& s) {
    double sec = 0;
    std::from_chars(s.data(), s.data() + s.size(), sec);
    const double x = sec * 1000;
    return x >= -9223372036854775808.0 && x < 9223372036854775808.0 &&
           static_cast<int64_t>(x) == ms;
  };
  std::string s;
  if (mag % 1000 == 0) {
    s = fmt::format("{}{}", sign, mag / 1000);
  } else {
    s = fmt::format("{}{}.{:03d}", sign, mag / 1000, mag % 1000);
    while (s.back() == '0') {
      s.pop_back();
    }
  }
  if (reads_back(s)) {
    return s;
  }
  // seconds * 1000 rounded just below the millisecond: half a millisecond further from zero
  // makes the truncation land on it.
  s = fmt::format("{}{}.{:03d}5", sign, mag / 1000, mag % 1000);
  return s;
}

namespace {

void AppendValue(std::string& buf, double v) {
  if (std::isnan(v)) {
    buf.append("NaN");
  } else if (std::isinf(v)) {
    buf.append(v > 0 ? "+Inf" : "-Inf");
  } else {
    fmt::format_to(std::back_inserter(buf), "{}", v);
  }
}

void AppendSeriesText(std::string& buf, const Labels& labels) {
  buf.append(labels.Get(engine::kMetricName));
  buf.push_back('{');
  bool first = true;
  for (engine::Label l : labels) {
    if (l.name == engine::kMetricName) {
      continue;
    }
    if (!first) {
      buf.push_back(',');
    }
    first = false;
    buf.append(l.name);
    buf.append("=\"");
    for (char c : l.value) {
      switch (c) {
        case '\\':
          buf.append("\\\\");
          break;
        case '"':
          buf.append("\\\"");
          break;
        case '\n':
          buf.append("\\n");
          break;
        default:
          buf.push_back(c);
      }
    }
    buf.push_back('"');
  }
  buf.push_back('}');
}

}  // namespace

absl::Status WriteOpenMetrics(const SyntheticSpec& spec, std::FILE* out) {
  SyntheticGenerator gen(spec);
  std::string buf;
  auto flush = [&]() -> absl::Status {
    if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) {
      return absl::DataLossError(fmt::format("writing OpenMetrics: {}", std::strerror(errno)));
    }
    buf.clear();
    return absl::OkStatus();
  };
  static constexpr std::array<const char*, 3> kTypeNames = {"counter", "gauge", "histogram"};
  for (size_t family = 0; family < gen.families().size(); ++family) {
    const SyntheticGenerator::Family& f = gen.families()[family];
    bool header = false;
    for (int64_t target = 0; target < gen.num_targets(); ++target) {
      for (const SyntheticSeries& s : gen.Generate(target, family)) {
        if (!header) {
          fmt::format_to(std::back_inserter(buf), "# HELP {} {}\n# TYPE {} {}\n", f.name, f.help,
                         f.name, kTypeNames[static_cast<size_t>(f.type)]);
          header = true;
        }
        std::string series;
        AppendSeriesText(series, s.labels);
        for (size_t i = 0; i < s.ts.size(); ++i) {
          buf.append(series);
          buf.push_back(' ');
          AppendValue(buf, s.vs[i]);
          buf.push_back(' ');
          buf.append(FormatOpenMetricsTimestamp(s.ts[i]));
          buf.push_back('\n');
        }
        if (buf.size() > (1 << 20)) {
          if (absl::Status st = flush(); !st.ok()) {
            return st;
          }
        }
      }
    }
  }
  buf.append("# EOF\n");
  if (absl::Status st = flush(); !st.ok()) {
    return st;
  }
  if (std::fflush(out) != 0) {
    return absl::DataLossError(fmt::format("writing OpenMetrics: {}", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status WriteOpenMetricsFile(const SyntheticSpec& spec, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return absl::NotFoundError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  absl::Status st = WriteOpenMetrics(spec, f);
  if (std::fclose(f) != 0 && st.ok()) {
    st = absl::DataLossError(fmt::format("closing {}: {}", path, std::strerror(errno)));
  }
  return st;
}

}  // namespace paodin::storeapi
