// Throughput of the JSON writer on a range-query matrix (the largest responses we send).
#include <string>

#include "benchmark/benchmark.h"
#include "http/encode.h"
#include "http/testing/fakes.h"

namespace paodin::http {
namespace {

class DiscardSink : public BodySink {
 public:
  absl::Status Write(std::string_view data) override {
    bytes += data.size();
    return absl::OkStatus();
  }

  size_t bytes = 0;
};

void BM_EncodeMatrix(benchmark::State& state) {
  QueryResult r;
  r.type = ResultType::kMatrix;
  for (int s = 0; s < 100; ++s) {
    ResultSeries series;
    series.labels = *engine::Labels::FromPairs({{"__name__", "http_requests_total"},
                                                {"instance", "10.0.0." + std::to_string(s)},
                                                {"job", "api"}});
    for (int p = 0; p < 1000; ++p) {
      series.ts.push_back(1700000000000 + p * 15000LL);
      series.vs.push_back(p * 1.37 + s / 3.0);
    }
    r.series.push_back(std::move(series));
  }
  size_t bytes = 0;
  for (auto _ : state) {
    DiscardSink sink;
    JsonOut out(&sink);
    benchmark::DoNotOptimize(WriteQueryResponse(r, false, {}, out));
    bytes = sink.bytes;
  }
  state.SetItemsProcessed(state.iterations() * 100 * 1000);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

BENCHMARK(BM_EncodeMatrix);

}  // namespace
}  // namespace paodin::http
