// The synthetic data written as OpenMetrics by `paodin store --synthetic.write-openmetrics` and
// backfilled into a Prometheus TSDB by promtool holds exactly (bit for bit, millisecond for
// millisecond) the samples `paodin store --synthetic` serves from memory.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storeapi/ingest/exposition.h"
#include "storeapi/ingest/synthetic.h"
#include <sys/wait.h>
#include <unistd.h>

namespace paodin::storeapi {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPromtool = "/usr/bin/promtool";

// Runs a shell command, returning its exit code and stdout.
int RunCommand(const std::string& cmd, std::string* out) {
  std::FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    return -1;
  }
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    out->append(buf, n);
  }
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

using SeriesMap = std::map<std::string, std::vector<std::pair<int64_t, uint64_t>>>;

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

TEST(PromtoolEquivalenceTest, BackfilledBlocksHoldTheGeneratedSamples) {
  if (!fs::exists(kPromtool)) {
    GTEST_SKIP() << kPromtool << " not installed";
  }
  const char* spec_text = "series=60,duration=3h,interval=15s,seed=4,start=1700000000,gaps=0.05";
  const fs::path dir = fs::temp_directory_path() / ("paodin_promtool_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string om = (dir / "data.om").string();
  std::string out;
  ASSERT_EQ(RunCommand(std::string(PAODIN_BINARY) + " store --synthetic " + spec_text +
                           " --synthetic.write-openmetrics " + om + " 2>&1",
                       &out),
            0)
      << out;
  out.clear();
  ASSERT_EQ(RunCommand(std::string(kPromtool) + " tsdb create-blocks-from openmetrics " + om + " " +
                           (dir / "tsdb").string() + " 2>&1",
                       &out),
            0)
      << out;
  fs::create_directories(dir / "tsdb" / "wal");  // `tsdb dump` opens the WAL too
  std::string dump;
  ASSERT_EQ(RunCommand(std::string(kPromtool) + " tsdb dump " + (dir / "tsdb").string(), &dump), 0);

  // promtool prints `{labels} value timestamp` per sample, labels as Prometheus' String().
  SeriesMap from_prometheus;
  size_t pos = 0;
  while (pos < dump.size()) {
    size_t nl = dump.find('\n', pos);
    if (nl == std::string::npos) {
      nl = dump.size();
    }
    const std::string line = dump.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t ts_sep = line.rfind(' ');
    const size_t v_sep = line.rfind(' ', ts_sep - 1);
    ASSERT_NE(v_sep, std::string::npos) << line;
    absl::StatusOr<double> v = ParseExpositionFloat(line.substr(v_sep + 1, ts_sep - v_sep - 1));
    ASSERT_TRUE(v.ok()) << line;
    from_prometheus[line.substr(0, v_sep)].emplace_back(std::stoll(line.substr(ts_sep + 1)),
                                                        Bits(*v));
  }

  absl::StatusOr<SyntheticSpec> spec = ParseSyntheticSpec(spec_text, 0);
  ASSERT_TRUE(spec.ok());
  SyntheticGenerator gen(*spec);
  SeriesMap generated;
  for (int64_t target = 0; target < gen.num_targets(); ++target) {
    for (size_t family = 0; family < gen.families().size(); ++family) {
      for (const SyntheticSeries& s : gen.Generate(target, family)) {
        auto& samples = generated[s.labels.ToString()];
        for (size_t i = 0; i < s.ts.size(); ++i) {
          samples.emplace_back(s.ts[i], Bits(s.vs[i]));
        }
      }
    }
  }
  EXPECT_EQ(generated.size(), 60u);
  EXPECT_EQ(from_prometheus.size(), generated.size());
  for (const auto& [labels, samples] : generated) {
    auto it = from_prometheus.find(labels);
    ASSERT_NE(it, from_prometheus.end()) << labels;
    EXPECT_EQ(it->second, samples) << labels;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace paodin::storeapi
