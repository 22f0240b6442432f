// PromQL parser speed: a ~10 KB expression (a long sum of binary operations over selectors
// with matchers, functions and aggregations) must parse in well under a millisecond.
#include <string>

#include <benchmark/benchmark.h>

#include "engine/promql/parser.h"
#include "engine/promql/printer.h"

namespace {

using paodin::engine::promql::Parse;
using paodin::engine::promql::ParsedQuery;
using paodin::engine::promql::Print;

// Builds an expression of at least `min_bytes` bytes.
std::string BigExpression(size_t min_bytes) {
  std::string q;
  for (int i = 0; q.size() < min_bytes; ++i) {
    if (i > 0)
      q += i % 3 == 0 ? " + " : i % 3 == 1 ? " * " : " - ";
    std::string n = std::to_string(i);
    switch (i % 4) {
      case 0:
        q += "sum by (job, instance) (rate(http_requests_total{job=\"api-" + n +
             "\", status=~\"5..\", method!=\"GET\"}[5m]))";
        break;
      case 1:
        q += "node_memory_MemAvailable_bytes{instance=\"host-" + n + ":9100\"} offset 5m";
        break;
      case 2:
        q +=
            "histogram_quantile(0.99, sum by (le) (rate(latency_bucket{svc=\"s" + n + "\"}[10m])))";
        break;
      default:
        q += "(up{job=\"j" + n + "\"} == bool 1)";
        break;
    }
  }
  return q;
}

void BM_Parse10KB(benchmark::State& state) {
  std::string q = BigExpression(10 * 1024);
  for (auto _ : state) {
    absl::StatusOr<ParsedQuery> r = Parse(q);
    if (!r.ok())
      state.SkipWithError(std::string(r.status().message()).c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * q.size()));
  state.counters["bytes"] = static_cast<double>(q.size());
}

BENCHMARK(BM_Parse10KB);

void BM_ParseSmall(benchmark::State& state) {
  const std::string q = "sum by (job) (rate(http_requests_total{status=~\"5..\"}[5m]))";
  for (auto _ : state) {
    absl::StatusOr<ParsedQuery> r = Parse(q);
    benchmark::DoNotOptimize(r);
  }
}

BENCHMARK(BM_ParseSmall);

void BM_Print10KB(benchmark::State& state) {
  absl::StatusOr<ParsedQuery> r = Parse(BigExpression(10 * 1024));
  if (!r.ok()) {
    state.SkipWithError("parse failed");
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(Print(*r->root()));
}

BENCHMARK(BM_Print10KB);

}  // namespace
