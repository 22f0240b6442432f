// Benchmarks of the StoreAPI proxy:
//   BM_Merge/<stores>        k-way merge of the same total data split over 2, 10, 100 stores
//                            (series/s; target: 100 stores cost at most 1.5x what 2 cost);
//   BM_Dedup/<func>          penalty / chain dedup of 2 overlapping replicas (samples/s),
//                            against BM_NoDedup reading one replica's worth through the plain
//                            iterator;
//   BM_SelectPeakMemory      a large Select over gRPC from store processes: peak RSS growth of
//                            the querying process divided by the compressed bytes received
//                            (counter "rss_per_compressed_byte"; target < 3);
//   BM_ParseSeriesFrame/<impl>/<chunks>  one batch frame of 64 series (6 labels, 1 or 12 XOR
//                            chunks of 120 samples) parsed and converted to StoreSeries:
//                            impl 0 = generated protobuf parse in a reused arena + conversion
//                            (the path before the wire reader), 1 = wire reader on the frame
//                            bytes + conversion, 2 = as 1 from a 4-slice grpc::ByteBuffer
//                            (flattening copy included). Items = series.
// The memory benchmark forks a server process and a client process so neither gRPC runtime
// nor the server's data counts in the measured process.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <google/protobuf/arena.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include "storeapi/chunkenc/xor.h"
#include "storeapi/client/endpoint_set.h"
#include "storeapi/client/series_frame.h"
#include "storeapi/client/testing/fake_store.h"
#include "storeapi/client/wire_reader.h"
#include "storeapi/proxy/merge.h"
#include "storeapi/proxy/proxy.h"
#include "storeapi/proxy/sample_iterators.h"
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace paodin::storeapi {
namespace {

constexpr int kTotalSeries = 100000;

StoreChunk MakeChunk(int64_t start, int64_t step, int n, double v0, uint32_t store) {
  XorEncoder enc;
  for (int i = 0; i < n; ++i)
    (void)enc.Append(start + step * i, v0 + i * 1.5);
  StoreChunk c;
  c.min_time = start;
  c.max_time = start + step * (n - 1);
  c.SetOwnedCopy(enc.bytes());
  c.store_index = store;
  return c;
}

// The merged answer in label order; series i belongs to store i % k, so every store's stream
// is sorted and the merge interleaves them.
std::vector<StoreSeries> AllSeries() {
  const StoreChunk chunk = MakeChunk(0, 15000, 120, 1, 0);
  std::vector<StoreSeries> out;
  for (int i = 0; i < kTotalSeries; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "%06d", i);
    StoreSeries s;
    s.labels = *engine::Labels::FromPairs(
        {{"__name__", "http_requests_total"}, {"cluster", "c1"}, {"id", id}, {"job", "api"}});
    s.chunks.push_back(chunk);
    out.push_back(std::move(s));
  }
  return out;
}

void BM_Merge(benchmark::State& state) {
  const int stores = static_cast<int>(state.range(0));
  static const std::vector<StoreSeries> all = AllSeries();
  int64_t merged = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // Copied in arrival order (as frames from many stores interleave on the network), so the
    // heap layout does not favour few stores.
    std::vector<std::vector<StoreSeries>> parts(stores);
    for (auto& p : parts)
      p.reserve(kTotalSeries / stores + 1);
    for (int i = 0; i < kTotalSeries; ++i)
      parts[i % stores].push_back(all[i]);
    std::vector<std::unique_ptr<SeriesSource>> sources;
    for (auto& p : parts)
      sources.push_back(std::make_unique<VectorSeriesSource>(std::move(p)));
    // Merged series are kept (as the engine keeps them) and freed outside the timing.
    std::vector<StoreSeries> out(kTotalSeries);
    state.ResumeTiming();
    {
      SeriesMerger merger(std::move(sources));
      size_t i = 0;
      while (i < out.size() && *merger.Next(&out[i]))
        ++i;
      merged += static_cast<int64_t>(i);
      state.PauseTiming();
    }
    out.clear();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(merged);
}

BENCHMARK(BM_Merge)->Arg(2)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

// Two replicas of 24 h at 15 s, 1 s apart, each in 120-sample chunks.
std::shared_ptr<const StoreSeries> TwoReplicas() {
  auto s = std::make_shared<StoreSeries>();
  s->labels = *engine::Labels::FromPairs({{"__name__", "up"}});
  for (int replica = 0; replica < 2; ++replica) {
    for (int c = 0; c < 48; ++c) {
      s->chunks.push_back(
          MakeChunk(replica * 1000 + c * 120 * 15000, 15000, 120, c * 180.0, replica));
    }
  }
  SortAndDedupChunks(&s->chunks);
  return s;
}

void ReadAll(engine::SampleIterator& it, int64_t* samples) {
  int64_t ts[256];
  double vs[256];
  for (;;) {
    size_t n = *it.Next(ts, vs);
    if (n == 0)
      break;
    *samples += n;
    benchmark::DoNotOptimize(vs[0]);
  }
}

void BM_Dedup(benchmark::State& state) {
  const auto series = TwoReplicas();
  auto ctx = std::make_shared<IterationContext>();
  DedupParams params;
  params.func = state.range(0) == 0 ? DedupFunc::kPenalty : DedupFunc::kChain;
  params.counter = true;
  int64_t samples = 0;
  for (auto _ : state) {
    auto it = NewDedupSampleIterator(series, 0, INT64_MAX, params, ctx);
    ReadAll(*it, &samples);
  }
  state.SetLabel(state.range(0) == 0 ? "penalty" : "chain");
  state.counters["input_samples"] = 2 * 48 * 120;
  state.SetItemsProcessed(samples);
}

BENCHMARK(BM_Dedup)->Arg(0)->Arg(1);

void BM_NoDedup(benchmark::State& state) {
  auto series = std::make_shared<StoreSeries>();
  series->labels = *engine::Labels::FromPairs({{"__name__", "up"}});
  for (int c = 0; c < 48; ++c) {
    series->chunks.push_back(MakeChunk(c * 120 * 15000, 15000, 120, c * 180.0, 0));
  }
  auto ctx = std::make_shared<IterationContext>();
  int64_t samples = 0;
  for (auto _ : state) {
    auto it = NewChunkSampleIterator(series, 0, INT64_MAX, ctx);
    ReadAll(*it, &samples);
  }
  state.SetItemsProcessed(samples);
}

BENCHMARK(BM_NoDedup);

int64_t CurrentRssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Runs in the client process: one Select over every store, holding every series' chunks (as
// the engine does) until the end. Writes "peak_growth series" to `fd`.
[[noreturn]] void ClientMain(const std::vector<std::string>& addresses, int fd) {
  EndpointSetOptions eo;
  eo.endpoints = addresses;
  auto set = std::make_shared<EndpointSet>(eo);
  set->Refresh();
  Proxy proxy(set, {});
  const int64_t before = CurrentRssBytes();

  struct rusage ru0 {};

  getrusage(RUSAGE_SELF, &ru0);
  const std::vector<engine::Matcher> m = {
      *engine::Matcher::Make(engine::MatchType::kEqual, "__name__", "load")};
  engine::SelectHints hints;
  hints.end_ms = INT64_MAX;
  auto s = proxy.Select(hints, m, engine::QueryContext{});
  std::vector<std::unique_ptr<engine::SampleIterator>> held;
  int64_t series = 0;
  while ((*s)->Next()) {
    held.push_back((*s)->Samples());
    ++series;
  }

  struct rusage ru {};

  getrusage(RUSAGE_SELF, &ru);
  // The compressed bytes (XOR chunk bytes served) are reported by the server process.
  const int64_t peak_growth = ru.ru_maxrss * 1024 - before;
  dprintf(fd, "%ld %ld\n", static_cast<long>(peak_growth), static_cast<long>(series));
  _exit(0);
}

constexpr int kMemStores = 4;
constexpr int kMemSeriesPerStore = 5000;
constexpr int kMemSamples = 720;  // 3 h at 15 s: 6 chunks per series

// Runs in the server process: kMemStores fake stores, addresses and total chunk bytes written
// to `fd`, then waits to be killed.
[[noreturn]] void ServerMain(int fd) {
  std::vector<std::unique_ptr<testing::FakeStore>> stores;
  int64_t chunk_bytes = 0;
  std::string line;
  for (int st = 0; st < kMemStores; ++st) {
    testing::FakeStoreConfig cfg;
    cfg.external_labels = {{"store", std::to_string(st)}};
    cfg.batch_size = 64;
    for (int i = 0; i < kMemSeriesPerStore; ++i) {
      std::vector<testing::Sample> samples;
      double v = 0;
      for (int k = 0; k < kMemSamples; ++k) {
        v += std::fmod(i * 7.0 + k * 13.0, 17.0) / 4.0;  // an irregular gauge walk
        samples.push_back({int64_t{k} * 15000 + (i % 1000), v});
      }
      char id[16];
      std::snprintf(id, sizeof id, "%06d", i);
      cfg.series.push_back(testing::MakeSeries({{"__name__", "load"}, {"id", id}}, samples));
      for (const auto& c : cfg.series.back().chunks())
        chunk_bytes += c.raw().data().size();
    }
    stores.push_back(std::make_unique<testing::FakeStore>(std::move(cfg)));
    if (!stores.back()->Start().ok())
      _exit(1);
    line += stores.back()->address() + " ";
  }
  dprintf(fd, "%ld %s\n", static_cast<long>(chunk_bytes), line.c_str());
  for (;;)
    pause();
}

void BM_SelectPeakMemory(benchmark::State& state) {
  for (auto _ : state) {
    int server_pipe[2], client_pipe[2];
    if (pipe(server_pipe) != 0 || pipe(client_pipe) != 0) {
      state.SkipWithError("pipe failed");
      return;
    }
    const pid_t server = fork();
    if (server == 0)
      ServerMain(server_pipe[1]);
    close(server_pipe[1]);
    FILE* sf = fdopen(server_pipe[0], "r");
    long chunk_bytes = 0;
    char addrs_buf[4096] = {};
    if (std::fscanf(sf, "%ld %4095[^\n]", &chunk_bytes, addrs_buf) != 2) {
      state.SkipWithError("server failed");
      return;
    }
    std::fclose(sf);
    std::vector<std::string> addresses;
    std::string addrs(addrs_buf);
    for (size_t pos = 0; pos < addrs.size();) {
      size_t end = addrs.find(' ', pos);
      if (end == std::string::npos)
        end = addrs.size();
      if (end > pos)
        addresses.push_back(addrs.substr(pos, end - pos));
      pos = end + 1;
    }
    const pid_t client = fork();
    if (client == 0)
      ClientMain(addresses, client_pipe[1]);
    close(client_pipe[1]);
    FILE* cf = fdopen(client_pipe[0], "r");
    long growth = 0, series = 0;
    const bool ok = std::fscanf(cf, "%ld %ld", &growth, &series) == 2;
    std::fclose(cf);
    int status = 0;
    waitpid(client, &status, 0);
    kill(server, SIGKILL);
    waitpid(server, &status, 0);
    if (!ok) {
      state.SkipWithError("client failed");
      return;
    }
    state.counters["series"] = static_cast<double>(series);
    state.counters["chunk_bytes_MB"] = chunk_bytes / 1e6;
    state.counters["peak_rss_growth_MB"] = growth / 1e6;
    state.counters["rss_per_compressed_byte"] = static_cast<double>(growth) / chunk_bytes;
  }
}

BENCHMARK(BM_SelectPeakMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

thanos::SeriesResponse BatchFrame(int chunks_per_series) {
  thanos::SeriesResponse r;
  for (int i = 0; i < 64; ++i) {
    thanos::Series* s = r.mutable_batch()->add_series();
    const std::pair<std::string, std::string> labels[] = {
        {"__name__", "http_requests_total"},
        {"cluster", "eu-west-1"},
        {"instance", fmt::format("10.0.{}.{}:9090", i / 16, i % 16)},
        {"job", "api-server"},
        {"namespace", "production"},
        {"pod", fmt::format("api-server-7d9f8b6c5-{:05d}", i)}};
    for (const auto& [name, value] : labels) {
      thanos::Label* l = s->add_labels();
      l->set_name(name);
      l->set_value(value);
    }
    for (int c = 0; c < chunks_per_series; ++c) {
      const StoreChunk chunk = MakeChunk(c * 120 * 15000, 15000, 120, i * 10.0 + c, 0);
      thanos::AggrChunk* a = s->add_chunks();
      a->set_min_time(chunk.min_time);
      a->set_max_time(chunk.max_time);
      a->mutable_raw()->set_data(chunk.data.data(), chunk.data.size());
    }
  }
  return r;
}

// The conversion SeriesStream::AddSeries did on protobuf messages (sorted labels, XOR only).
void ConvertMessage(thanos::SeriesResponse* r, std::vector<engine::Label>* scratch,
                    std::vector<StoreSeries>* out) {
  for (thanos::Series& wire : *r->mutable_batch()->mutable_series()) {
    scratch->clear();
    for (const thanos::Label& l : wire.labels()) {
      if (!l.value().empty())
        scratch->push_back({l.name(), l.value()});
    }
    StoreSeries series;
    series.labels = engine::Labels::FromSortedUnchecked(*scratch);
    series.chunks.reserve(wire.chunks_size());
    for (thanos::AggrChunk& c : *wire.mutable_chunks()) {
      if (!c.has_raw() || c.raw().type() != thanos::Chunk::XOR)
        continue;
      StoreChunk chunk;
      chunk.min_time = c.min_time();
      chunk.max_time = c.max_time();
      chunk.SetOwnedCopy(c.raw().data());
      series.chunks.push_back(std::move(chunk));
    }
    out->push_back(std::move(series));
  }
}

// The same conversion from the wire reader's view (what SeriesStream::AddSeries does now).
void ConvertView(const SeriesResponseView& v, std::vector<engine::Label>* scratch,
                 std::vector<StoreSeries>* out) {
  for (size_t i = 0; i < v.series_count(); ++i) {
    scratch->clear();
    for (const WireLabel& l : v.labels(i)) {
      if (!l.value.empty())
        scratch->push_back({l.name, l.value});
    }
    StoreSeries series;
    series.labels = engine::Labels::FromSortedUnchecked(*scratch);
    const auto chunks = v.chunks(i);
    series.chunks.reserve(chunks.size());
    for (const WireChunk& c : chunks) {
      if (!c.has_raw || c.raw_type != 0)
        continue;
      StoreChunk chunk;
      chunk.min_time = c.min_time;
      chunk.max_time = c.max_time;
      chunk.SetOwnedCopy(c.raw_data);
      series.chunks.push_back(std::move(chunk));
    }
    out->push_back(std::move(series));
  }
}

void BM_ParseSeriesFrame(benchmark::State& state) {
  const int impl = static_cast<int>(state.range(0));
  const std::string bytes = BatchFrame(static_cast<int>(state.range(1))).SerializeAsString();
  std::vector<grpc::Slice> slices;
  const size_t step = bytes.size() / 4 + 1;
  for (size_t at = 0; at < bytes.size(); at += step)
    slices.emplace_back(bytes.data() + at, std::min(step, bytes.size() - at));
  // As the old SeriesStream: one arena per stream, 64 KiB first block, reset after each frame.
  std::vector<char> block(64 << 10);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = block.data();
  arena_options.initial_block_size = block.size();
  google::protobuf::Arena arena(arena_options);
  SeriesResponseView view;
  SeriesFrame frame;
  std::vector<engine::Label> scratch;
  std::vector<StoreSeries> out;
  int64_t series = 0;
  for (auto _ : state) {
    out.clear();
    if (impl == 0) {
      auto* r = google::protobuf::Arena::CreateMessage<thanos::SeriesResponse>(&arena);
      if (!r->ParseFromString(bytes))
        state.SkipWithError("protobuf parse failed");
      ConvertMessage(r, &scratch, &out);
      arena.Reset();
    } else if (impl == 1) {
      if (!ParseSeriesResponse(bytes, &view).ok())
        state.SkipWithError("wire parse failed");
      ConvertView(view, &scratch, &out);
    } else {
      grpc::ByteBuffer buffer(slices.data(), slices.size());
      frame.Assign(&buffer);
      if (!frame.status().ok())
        state.SkipWithError("wire parse failed");
      ConvertView(frame.view(), &scratch, &out);
    }
    series += static_cast<int64_t>(out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(series);
  state.SetBytesProcessed(static_cast<int64_t>(bytes.size()) * state.iterations());
}

BENCHMARK(BM_ParseSeriesFrame)->ArgsProduct({{0, 1, 2}, {1, 12}});

}  // namespace
}  // namespace paodin::storeapi
