// XOR chunk decode throughput: 4096 chunks of 120 samples each, decoded whole into one tile
// per chunk; items processed = samples. Shapes: a counter (exact 15 s scrape, integer steps
// of 0..49), a constant, and a gauge of uniform random doubles (15 s +- 50 ms jitter).
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "storeapi/chunkenc/xor.h"

namespace paodin::storeapi {
namespace {

constexpr int kChunks = 4096;
constexpr int kSamplesPerChunk = 120;

enum class Shape { kCounter, kConstant, kGauge };

std::vector<std::string> MakeChunks(Shape shape) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(0.0, 1000.0);
  std::vector<std::string> chunks;
  int64_t t = 1680000000000;
  double counter = 1000;
  for (int c = 0; c < kChunks; ++c) {
    XorEncoder enc;
    for (int i = 0; i < kSamplesPerChunk; ++i) {
      double v = 0;
      switch (shape) {
        case Shape::kCounter:
          counter += static_cast<double>(rng() % 50);
          v = counter;
          t += 15000;
          break;
        case Shape::kConstant:
          v = 42.0;
          t += 15000;
          break;
        case Shape::kGauge:
          v = uniform(rng);
          t += 15000 + static_cast<int64_t>(rng() % 101) - 50;
          break;
      }
      if (!enc.Append(t, v).ok())
        std::abort();
    }
    chunks.emplace_back(enc.bytes());
  }
  return chunks;
}

void BM_XorDecode(benchmark::State& state, Shape shape) {
  const std::vector<std::string> chunks = MakeChunks(shape);
  size_t bytes = 0;
  for (const std::string& c : chunks)
    bytes += c.size();
  std::vector<int64_t> ts(kSamplesPerChunk);
  std::vector<double> vs(kSamplesPerChunk);
  XorDecoder dec;
  double sum = 0;
  for (auto _ : state) {
    for (const std::string& c : chunks) {
      if (!dec.Reset(c).ok())
        std::abort();
      absl::StatusOr<size_t> n = dec.Next(ts, vs);
      if (!n.ok())
        std::abort();
      sum += vs[*n - 1] + static_cast<double>(ts[0]);
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * kChunks * kSamplesPerChunk);
  state.counters["B/sample"] =
      static_cast<double>(bytes) / static_cast<double>(kChunks * kSamplesPerChunk);
}

// Encoding cost, for reference (not a target).
void BM_XorEncode(benchmark::State& state) {
  std::mt19937_64 rng(42);
  std::vector<int64_t> ts(kSamplesPerChunk);
  std::vector<double> vs(kSamplesPerChunk);
  double counter = 0;
  for (int i = 0; i < kSamplesPerChunk; ++i) {
    ts[i] = 1680000000000 + 15000 * i;
    counter += static_cast<double>(rng() % 50);
    vs[i] = counter;
  }
  for (auto _ : state) {
    absl::StatusOr<std::string> chunk = EncodeXorChunk(ts, vs);
    benchmark::DoNotOptimize(chunk);
  }
  state.SetItemsProcessed(state.iterations() * kSamplesPerChunk);
}

BENCHMARK_CAPTURE(BM_XorDecode, counter, Shape::kCounter);
BENCHMARK_CAPTURE(BM_XorDecode, constant, Shape::kConstant);
BENCHMARK_CAPTURE(BM_XorDecode, gauge, Shape::kGauge);
BENCHMARK(BM_XorEncode);

}  // namespace
}  // namespace paodin::storeapi
