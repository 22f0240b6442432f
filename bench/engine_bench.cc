// Micro benchmarks of the PromQL engine on synthetic counters held in memory:
// 10,000 series (100 jobs x 100 instances) scraped every 15 s. Reports samples scanned per
// second (the counter "samples/s"); divide by the thread count for per-core figures.
#include <string>

#include <benchmark/benchmark.h>

#include "engine/exec/engine.h"
#include "engine/storage/memory_queryable.h"

namespace paodin::engine {
namespace {

constexpr int64_t kScrape = 15000;

MemoryQueryable& Store(int64_t hours) {
  static MemoryQueryable* stores[25] = {};
  if (stores[hours] == nullptr) {
    auto* s = new MemoryQueryable();
    int64_t n = hours * 3600000 / kScrape;
    for (int job = 0; job < 100; ++job) {
      for (int inst = 0; inst < 100; ++inst) {
        Labels l = *Labels::FromPairs({{"__name__", "http_requests_total"},
                                       {"job", "job" + std::to_string(job)},
                                       {"instance", "i" + std::to_string(inst)}});
        double v = 0;
        for (int64_t i = 0; i < n; ++i) {
          v += (job + inst) % 7 + 1;
          s->Add(l, i * kScrape, v);
        }
      }
    }
    stores[hours] = s;
  }
  return *stores[hours];
}

void RunRange(benchmark::State& state, const char* query) {
  const int64_t hours = 6;
  MemoryQueryable& store = Store(hours);
  EngineOptions opts;
  opts.threads = static_cast<int>(state.range(0));
  Engine engine(opts);
  int64_t scanned = 0;
  for (auto _ : state) {
    auto r = engine.RangeQuery(store, query, 0, hours * 3600000, 60000);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    scanned += r->stats.samples_scanned;
    benchmark::DoNotOptimize(r->series.size());
  }
  state.counters["samples/s"] =
      benchmark::Counter(static_cast<double>(scanned), benchmark::Counter::kIsRate);
}

void BM_Rate(benchmark::State& state) { RunRange(state, "rate(http_requests_total[5m])"); }

void BM_SumByRate(benchmark::State& state) {
  RunRange(state, "sum by (job) (rate(http_requests_total[5m]))");
}

void BM_Selector(benchmark::State& state) { RunRange(state, "http_requests_total"); }

void BM_SumOverTime1h(benchmark::State& state) {
  RunRange(state, "sum(sum_over_time(http_requests_total[1h]))");
}

BENCHMARK(BM_Rate)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SumByRate)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Selector)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SumOverTime1h)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace paodin::engine
