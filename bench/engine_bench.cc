// Engine benchmarks over the XOR-chunk memstore (storeapi/memstore): range queries over 24 h at
// a 60 s step on 10,000-series metrics scraped every 15 s (5,760 samples per series, 57.6 M
// samples per metric), decoded tile by tile from the chunks as in production.
//
// Metrics (all series have 5,760 samples over 24 h):
//   m{pod,container}       10,000 counters (1,000 pods x 10 containers), integer increments,
//                          1 % of the series reset once;
//   h_bucket{pod,le}       10,000 histogram bucket counters (1,000 pods x 10 buckets);
//   m1{pod,container}      10,000 counters; m2{pod} 1,000 gauges (one per pod);
//   g{pod,container}       10,000 gauges (random walk of 0.5 steps).
//
// Counters per benchmark (see bench/README.md, section Engine):
//   Msamples/cpu_s  samples read from the store per second of CPU time (all threads): the
//                   "samples per second per core" figure;
//   scanned_M       samples read per query;
//   cpu_ms          CPU time of the whole process per query;
//   crit_ms         CPU time of the busiest query thread: the wall time on idle cores;
//   work_MiB        peak heap above the query's start, minus the result: working memory;
//   result_MiB      heap held by the returned result.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include <benchmark/benchmark.h>

#include "engine/exec/engine.h"
#include "storeapi/memstore/memstore.h"
#include <malloc.h>
#include <sys/resource.h>

// ------------------------------------------------------------------------------------------
// Heap accounting: every operator new/delete of the process goes through these counters, so a
// query's peak working memory is measured exactly (not via RSS, which the allocator keeps).
namespace {

std::atomic<int64_t> g_heap_now{0};
std::atomic<int64_t> g_heap_peak{0};

void Track(int64_t delta) {
  int64_t now = g_heap_now.fetch_add(delta, std::memory_order_relaxed) + delta;
  int64_t peak = g_heap_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_heap_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void* Allocate(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr)
    throw std::bad_alloc();
  Track(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}

void* AllocateAligned(size_t n, std::align_val_t al) {
  void* p = nullptr;
  if (posix_memalign(&p, std::max(sizeof(void*), static_cast<size_t>(al)), n == 0 ? 1 : n) != 0)
    throw std::bad_alloc();
  Track(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}

void Release(void* p) {
  if (p == nullptr)
    return;
  Track(-static_cast<int64_t>(malloc_usable_size(p)));
  std::free(p);
}

}  // namespace

void* operator new(size_t n) { return Allocate(n); }

void* operator new[](size_t n) { return Allocate(n); }

void* operator new(size_t n, std::align_val_t al) { return AllocateAligned(n, al); }

void* operator new[](size_t n, std::align_val_t al) { return AllocateAligned(n, al); }

void operator delete(void* p) noexcept { Release(p); }

void operator delete[](void* p) noexcept { Release(p); }

void operator delete(void* p, size_t) noexcept { Release(p); }

void operator delete[](void* p, size_t) noexcept { Release(p); }

void operator delete(void* p, std::align_val_t) noexcept { Release(p); }

void operator delete[](void* p, std::align_val_t) noexcept { Release(p); }

void operator delete(void* p, size_t, std::align_val_t) noexcept { Release(p); }

void operator delete[](void* p, size_t, std::align_val_t) noexcept { Release(p); }

namespace paodin::engine {
namespace {

constexpr int64_t kScrape = 15'000;
constexpr int64_t kHours = 24;
constexpr int64_t kStart = 1'700'000'000'000;  // a realistic epoch-ms base
constexpr int64_t kSamples = kHours * 3'600'000 / kScrape;
constexpr int64_t kStep = 60'000;

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb3f98d1c8d16ULL;
  x ^= x >> 33;
  return x;
}

std::string Pod(int p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "pod-%04d", p);
  return buf;
}

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

void AddSeries(storeapi::MemStore& store, const Labels& l, const std::vector<double>& vs) {
  static std::vector<int64_t> ts;
  if (ts.empty()) {
    for (int64_t i = 0; i < kSamples; ++i)
      ts.push_back(kStart + i * kScrape);
  }
  auto ref = store.GetOrCreateSeries(l);
  if (!ref.ok() || !store.AppendSamples(*ref, ts, vs).ok())
    std::abort();
}

// The data set, built once per process (about 10 s).
storeapi::MemStore& Store() {
  static storeapi::MemStore* store = [] {
    const auto t0 = std::chrono::steady_clock::now();
    auto* s = new storeapi::MemStore();
    std::vector<double> vs(kSamples);
    for (int p = 0; p < 1000; ++p) {
      for (int c = 0; c < 10; ++c) {
        const uint64_t id = static_cast<uint64_t>(p * 10 + c);
        // m: counter with integer increments; 1 % of the series reset once.
        double v = static_cast<double>(Mix(id) % 1000);
        const int64_t reset_at = id % 100 == 7 ? static_cast<int64_t>(Mix(id + 1) % kSamples) : -1;
        for (int64_t i = 0; i < kSamples; ++i) {
          v = i == reset_at ? 0 : v + static_cast<double>(Mix(id * kSamples + i) % 50);
          vs[i] = v;
        }
        AddSeries(*s,
                  L({{"__name__", "m"}, {"pod", Pod(p)}, {"container", "c" + std::to_string(c)}}),
                  vs);
        // m1: another counter.
        v = 0;
        for (int64_t i = 0; i < kSamples; ++i) {
          v += static_cast<double>(Mix(id * kSamples + i + 7) % 20);
          vs[i] = v;
        }
        AddSeries(*s,
                  L({{"__name__", "m1"}, {"pod", Pod(p)}, {"container", "c" + std::to_string(c)}}),
                  vs);
        // g: a gauge walking in 0.5 steps.
        v = 100;
        for (int64_t i = 0; i < kSamples; ++i) {
          v += static_cast<double>(static_cast<int64_t>(Mix(id * kSamples + i + 13) % 5) - 2) * 0.5;
          vs[i] = v;
        }
        AddSeries(*s,
                  L({{"__name__", "g"}, {"pod", Pod(p)}, {"container", "c" + std::to_string(c)}}),
                  vs);
      }
      // m2: one gauge per pod.
      for (int64_t i = 0; i < kSamples; ++i)
        vs[i] = static_cast<double>(1 + Mix(static_cast<uint64_t>(p) * kSamples + i) % 8);
      AddSeries(*s, L({{"__name__", "m2"}, {"pod", Pod(p)}}), vs);
      // h_bucket: cumulative buckets, each scrape adds 0..99 observations spread over them.
      static const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1",
                                  "0.25",  "0.5",  "1",     "2.5",  "+Inf"};
      std::vector<std::vector<double>> buckets(10, std::vector<double>(kSamples));
      double cum[10] = {};
      for (int64_t i = 0; i < kSamples; ++i) {
        uint64_t r = Mix(static_cast<uint64_t>(p) * kSamples + i + 99);
        double add = 0;
        for (int b = 0; b < 10; ++b) {
          add += static_cast<double>((r >> (b * 6)) % 11);
          cum[b] += add;
          buckets[b][i] = cum[b];
        }
      }
      for (int b = 0; b < 10; ++b)
        AddSeries(*s, L({{"__name__", "h_bucket"}, {"pod", Pod(p)}, {"le", kLe[b]}}), buckets[b]);
    }
    const storeapi::MemStoreStats st = s->Stats();
    std::fprintf(stderr, "data set: %zu series, %.1f M samples, %.0f MiB heap, built in %.1f s\n",
                 st.num_series, static_cast<double>(st.num_samples) / 1e6,
                 static_cast<double>(g_heap_now.load()) / (1 << 20),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return s;
  }();
  return *store;
}

int64_t ProcessCpuNs() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1'000'000'000LL +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1'000LL;
}

int64_t ResultBytes(const QueryResult& r) {
  int64_t b = static_cast<int64_t>(r.series.capacity() * sizeof(ResultSeries));
  for (const ResultSeries& s : r.series) {
    b += static_cast<int64_t>(s.ts.capacity() * sizeof(int64_t) + s.vs.capacity() * sizeof(double) +
                              s.labels.bytes().size());
  }
  return b;
}

void RunRange(benchmark::State& state, const char* query) {
  storeapi::MemStore& store = Store();
  EngineOptions opts;
  opts.threads = static_cast<int>(state.range(0));
  opts.max_samples = 1'000'000'000;
  Engine engine(opts);
  int64_t scanned = 0, cpu = 0, crit = 0, work = 0, result = 0, iters = 0;
  for (auto _ : state) {
    const int64_t heap0 = g_heap_now.load();
    g_heap_peak.store(heap0);
    const int64_t cpu0 = ProcessCpuNs();
    auto r = engine.RangeQuery(store, query, kStart, kStart + kHours * 3'600'000, kStep);
    cpu += ProcessCpuNs() - cpu0;
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    const int64_t rb = ResultBytes(*r);
    work = std::max(work, g_heap_peak.load() - heap0 - rb);
    result = rb;
    scanned += r->stats.samples_scanned;
    int64_t busiest = 0;
    for (int64_t t : r->stats.thread_cpu_ns)
      busiest = std::max(busiest, t);
    crit += busiest;
    ++iters;
    state.PauseTiming();
    r = absl::InternalError("freed");  // drop the result outside the timed region
    state.ResumeTiming();
  }
  if (iters == 0)
    return;
  const double n = static_cast<double>(iters);
  state.counters["Msamples/cpu_s"] =
      static_cast<double>(scanned) / 1e6 / (static_cast<double>(cpu) / 1e9);
  state.counters["scanned_M"] = static_cast<double>(scanned) / n / 1e6;
  state.counters["cpu_ms"] = static_cast<double>(cpu) / n / 1e6;
  state.counters["crit_ms"] = static_cast<double>(crit) / n / 1e6;
  state.counters["work_MiB"] = static_cast<double>(work) / (1 << 20);
  state.counters["result_MiB"] = static_cast<double>(result) / (1 << 20);
}

void BM_Rate(benchmark::State& state) { RunRange(state, "rate(m[5m])"); }

void BM_SumByPodRate(benchmark::State& state) { RunRange(state, "sum by (pod) (rate(m[5m]))"); }

void BM_HistogramQuantile(benchmark::State& state) {
  RunRange(state, "histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))");
}

void BM_GroupLeftJoin(benchmark::State& state) { RunRange(state, "m1 / on(pod) group_left m2"); }

void BM_AvgOverTime1h(benchmark::State& state) { RunRange(state, "avg_over_time(g[1h])"); }

void BM_Topk(benchmark::State& state) { RunRange(state, "topk(5, g)"); }

#define PAODIN_ENGINE_BENCH(fn) \
  BENCHMARK(fn)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()

PAODIN_ENGINE_BENCH(BM_Rate);
PAODIN_ENGINE_BENCH(BM_SumByPodRate);
PAODIN_ENGINE_BENCH(BM_HistogramQuantile);
PAODIN_ENGINE_BENCH(BM_GroupLeftJoin);
PAODIN_ENGINE_BENCH(BM_AvgOverTime1h);
PAODIN_ENGINE_BENCH(BM_Topk);

}  // namespace
}  // namespace paodin::engine
