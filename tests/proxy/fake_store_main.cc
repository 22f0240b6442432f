// A StoreAPI server process for the proxy's integration tests: serves generated series with
// the external labels and faults given on the command line, prints "ADDRESS host:port" on
// stdout once listening, logs every Series call on stderr, and runs until killed.
//
//   fake_store_main --cluster=a --replica=0 --jobs=3 --samples=120 --step=15000
//                   [--gap=300000:600000] [--value-offset=-100] [--stall-after=N]
//                   [--fail-after=N] [--unsorted] [--corrupt-chunk] [--frame-bytes=N]
//                   [--info-hangs] [--no-strip] [--batch=64]
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "storeapi/client/testing/fake_store.h"
#include <unistd.h>

namespace {

using paodin::storeapi::testing::FakeStore;
using paodin::storeapi::testing::FakeStoreConfig;
using paodin::storeapi::testing::MakeSeries;
using paodin::storeapi::testing::Sample;

bool Flag(const char* arg, const char* name, std::string* value) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0)
    return false;
  if (arg[n] == '=') {
    *value = arg + n + 1;
    return true;
  }
  if (arg[n] == '\0') {
    *value = "true";
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cluster = "a", replica, gap, v;
  int jobs = 3, samples = 120, batch = 64;
  int64_t step = 15000, start = 0, frame_bytes = 0;
  double value_offset = 0;
  FakeStoreConfig cfg;
  bool unsorted = false, corrupt = false;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (Flag(a, "--cluster", &v))
      cluster = v;
    else if (Flag(a, "--replica", &v))
      replica = v;
    else if (Flag(a, "--jobs", &v))
      jobs = std::atoi(v.c_str());
    else if (Flag(a, "--samples", &v))
      samples = std::atoi(v.c_str());
    else if (Flag(a, "--step", &v))
      step = std::atoll(v.c_str());
    else if (Flag(a, "--start", &v))
      start = std::atoll(v.c_str());
    else if (Flag(a, "--gap", &v))
      gap = v;
    else if (Flag(a, "--value-offset", &v))
      value_offset = std::atof(v.c_str());
    else if (Flag(a, "--stall-after", &v))
      cfg.stall_after_frames = std::atoi(v.c_str());
    else if (Flag(a, "--fail-after", &v))
      cfg.fail_after_frames = std::atoi(v.c_str());
    else if (Flag(a, "--unsorted", &v))
      unsorted = true;
    else if (Flag(a, "--corrupt-chunk", &v))
      corrupt = true;
    else if (Flag(a, "--frame-bytes", &v))
      frame_bytes = std::atoll(v.c_str());
    else if (Flag(a, "--info-hangs", &v))
      cfg.info_hangs = true;
    else if (Flag(a, "--no-strip", &v))
      cfg.supports_without_replica_labels = false;
    else if (Flag(a, "--batch", &v))
      batch = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", a);
      return 2;
    }
  }
  int64_t gap_from = 0, gap_to = 0;
  if (!gap.empty())
    std::sscanf(gap.c_str(), "%ld:%ld", &gap_from, &gap_to);
  cfg.external_labels = {{"cluster", cluster}};
  if (!replica.empty())
    cfg.external_labels.push_back({"replica", replica});
  cfg.batch_size = batch;
  for (int j = 0; j < jobs; ++j) {
    std::vector<Sample> s;
    for (int i = 0; i < samples; ++i) {
      const int64_t t = start + step * i;
      if (t >= gap_from && t < gap_to)
        continue;
      // A counter: one per second of time, shifted by the offset (a restarted replica).
      s.push_back({t, static_cast<double>(t) / 1000.0 + value_offset + j});
    }
    char job[16];
    std::snprintf(job, sizeof job, "job%02d", j);
    cfg.series.push_back(MakeSeries({{"__name__", "requests_total"}, {"job", job}}, s));
  }
  if (unsorted && cfg.series.size() > 1)
    std::swap(cfg.series.front(), cfg.series.back());
  if (corrupt && !cfg.series.empty()) {
    std::string* data = cfg.series[0].mutable_chunks(0)->mutable_raw()->mutable_data();
    data->resize(data->size() / 3);
  }
  if (frame_bytes > 0) {
    thanos::Series big =
        MakeSeries({{"__name__", "requests_total"}, {"job", "zz_big"}}, {{0, 1.0}});
    big.mutable_chunks(0)->mutable_raw()->mutable_data()->append(frame_bytes, '\0');
    cfg.series.push_back(std::move(big));
  }
  FakeStore store(cfg);
  if (!store.Start().ok())
    return 1;
  std::printf("ADDRESS %s\n", store.address().c_str());
  std::fflush(stdout);
  int seen = 0;
  for (;;) {
    const int calls = store.series_calls();
    while (seen < calls) {
      std::fprintf(stderr, "series call %d\n", ++seen);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}
