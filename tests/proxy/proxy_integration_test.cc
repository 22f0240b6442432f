// Integration tests of the StoreAPI proxy against store processes on 127.0.0.1:
//   - real `paodin store` processes (data written by the test as OpenMetrics, external labels
//     by --label): replica deduplication across two clusters of two replicas with gaps,
//     external-label pruning counted by the stores' own metrics and debug log, a store killed
//     (SIGKILL) in the middle of its stream;
//   - the test's fake store process where a store must misbehave in ways `paodin store` never
//     does (stalls, errors, unsorted series, corrupt chunks, oversized frames, silent Info),
//     next to a real `paodin store`.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storeapi/client/endpoint_set.h"
#include "storeapi/proxy/proxy.h"
#include "tests/proxy/store_process.h"

namespace paodin::tests {
namespace {

using storeapi::PartialResponseStrategy;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kStep = 15000;
constexpr int kSamples = 120;

struct Sample {
  int64_t t;
  double v;
};

struct Result {
  std::vector<std::string> labels;
  std::vector<std::vector<Sample>> samples;
  std::vector<std::string> warnings;
  absl::Status status;
};

engine::Matcher M(engine::MatchType t, std::string n, std::string v) {
  return *engine::Matcher::Make(t, std::move(n), std::move(v));
}

// One replica's data: `requests_total{job="jobNN"}` counters for `jobs` jobs, scraped every
// 15 s from `start` (kSamples scrapes), none in [gap_from, gap_to), value t/1000 + offset + job.
struct ReplicaData {
  int jobs = 2;
  int64_t start = 0;
  int64_t gap_from = 0;
  int64_t gap_to = 0;
  double offset = 0;
};

// Two jobs from `start`, a gap, a value offset.
ReplicaData Replica(int64_t start, int64_t gap_from, int64_t gap_to, double offset) {
  ReplicaData d;
  d.start = start;
  d.gap_from = gap_from;
  d.gap_to = gap_to;
  d.offset = offset;
  return d;
}

// `jobs` jobs from 0, no gap.
ReplicaData Jobs(int jobs) {
  ReplicaData d;
  d.jobs = jobs;
  return d;
}

// Writes `d` as OpenMetrics with timestamps (float seconds) to `path`.
void WriteOpenMetrics(const std::string& path, const ReplicaData& d) {
  std::ofstream out(path);
  for (int job = 0; job < d.jobs; ++job) {
    for (int i = 0; i < kSamples; ++i) {
      const int64_t t = d.start + i * kStep;
      if (t >= d.gap_from && t < d.gap_to)
        continue;
      out << fmt::format("requests_total{{job=\"job{:02}\"}} {} {}.{:03}\n", job,
                         static_cast<double>(t) / 1000.0 + d.offset + job, t / 1000, t % 1000);
    }
  }
  out << "# EOF\n";
}

class ProxyIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/paodin_proxy_it_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  void TearDown() override {
    // Stop every process before the files go.
    paodin_.clear();
    fakes_.clear();
    std::filesystem::remove_all(dir_);
  }

  // Starts `paodin store` with `data` and the external labels `cluster` and (when not empty)
  // `replica`, plus `extra` flags.
  PaodinStore& StartPaodin(const std::string& cluster, const std::string& replica,
                           std::optional<ReplicaData> data, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {fmt::format("--label=cluster=\"{}\"", cluster)};
    if (!replica.empty())
      args.push_back(fmt::format("--label=replica=\"{}\"", replica));
    if (data.has_value()) {
      const std::string path =
          (dir_ / fmt::format("{}-{}-{}.om", cluster, replica, paodin_.size())).string();
      WriteOpenMetrics(path, *data);
      args.push_back("--data=" + path);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    paodin_.push_back(std::make_unique<PaodinStore>(PAODIN_BIN, std::move(args)));
    PaodinStore& s = *paodin_.back();
    EXPECT_FALSE(s.grpc_address().empty()) << "paodin store did not come up; its log:\n"
                                           << s.process().Log();
    addresses_.push_back(s.grpc_address());
    return s;
  }

  FakeStoreProcess& StartFake(std::vector<std::string> args) {
    fakes_.push_back(std::make_unique<FakeStoreProcess>(FAKE_STORE_BIN, std::move(args)));
    FakeStoreProcess& s = *fakes_.back();
    EXPECT_FALSE(s.address().empty()) << "fake store did not come up: " << s.process().Log();
    addresses_.push_back(s.address());
    return s;
  }

  std::unique_ptr<storeapi::Proxy> MakeProxy(storeapi::ProxyOptions options = {},
                                             storeapi::ChannelOptions channel = {}) {
    storeapi::EndpointSetOptions eo;
    eo.endpoints = addresses_;
    eo.info_timeout = std::chrono::milliseconds(2000);
    eo.channel = channel;
    endpoints_ = std::make_shared<storeapi::EndpointSet>(eo);
    endpoints_->Refresh();
    // Every test bounds its Selects.
    if (options.query_timeout > std::chrono::seconds(60))
      options.query_timeout = std::chrono::seconds(60);
    return std::make_unique<storeapi::Proxy>(endpoints_, std::move(options));
  }

  // Runs a Select; `between` runs after the first series (to inject a fault mid-stream).
  static Result Run(engine::Queryable& q, std::vector<engine::Matcher> matchers,
                    std::string func = "", std::function<void()> between = nullptr) {
    Result r;
    engine::SelectHints hints;
    hints.start_ms = 0;
    hints.end_ms = 10'000'000;
    hints.func = std::move(func);
    auto set = q.Select(hints, matchers, engine::QueryContext{});
    if (!set.ok()) {
      r.status = set.status();
      return r;
    }
    while ((*set)->Next()) {
      r.labels.push_back((*set)->labels().ToString());
      auto it = (*set)->Samples();
      std::vector<Sample> samples;
      int64_t ts[50];
      double vs[50];
      for (;;) {
        auto n = it->Next(ts, vs);
        if (!n.ok()) {
          r.status = n.status();
          return r;
        }
        if (*n == 0)
          break;
        for (size_t i = 0; i < *n; ++i)
          samples.push_back({ts[i], vs[i]});
      }
      r.samples.push_back(std::move(samples));
      if (between) {
        between();
        between = nullptr;
      }
    }
    r.status = (*set)->status();
    r.warnings = (*set)->warnings();
    return r;
  }

  // Two clusters, two replicas each; replica 1 scrapes 1 s later and restarted its counters
  // (values 100 lower). Cluster a's replica 0 misses [300 s, 600 s); cluster b's replica 1
  // misses [900 s, 1200 s).
  void StartClusters() {
    StartPaodin("a", "0", Replica(0, 300000, 600000, 0));
    StartPaodin("a", "1", Replica(1000, 0, 0, -100));
    StartPaodin("b", "0", Replica(0, 0, 0, 0));
    StartPaodin("b", "1", Replica(1000, 900000, 1200000, -100));
  }

  std::filesystem::path dir_;
  std::vector<std::unique_ptr<PaodinStore>> paodin_;
  std::vector<std::unique_ptr<FakeStoreProcess>> fakes_;
  std::vector<std::string> addresses_;
  std::shared_ptr<storeapi::EndpointSet> endpoints_;
};

const std::vector<engine::Matcher> kRequests = {
    M(engine::MatchType::kEqual, "__name__", "requests_total")};

TEST_F(ProxyIntegrationTest, DedupFillsGapsFromTheOtherReplicaAndHidesCounterResets) {
  StartClusters();
  storeapi::ProxyOptions options;
  options.replica_labels = {"replica"};
  auto proxy = MakeProxy(options);
  Result r = Run(*proxy, kRequests, "rate");
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.warnings, IsEmpty());
  ASSERT_THAT(r.labels, ElementsAre(R"({__name__="requests_total", cluster="a", job="job00"})",
                                    R"({__name__="requests_total", cluster="a", job="job01"})",
                                    R"({__name__="requests_total", cluster="b", job="job00"})",
                                    R"({__name__="requests_total", cluster="b", job="job01"})"));
  for (int job = 0; job < 2; ++job) {
    // Cluster a: replica 0 up to 285 s, then its gap; replica 1's 301 s sample falls in the
    // 2 x 15 s penalty window, so the switch happens at 316 s and replica 1 is kept to the end.
    // The counter is carried over the switch: replica 1's values are lifted by 285 - 216.
    std::vector<Sample> want;
    for (int i = 0; i < kSamples; ++i) {
      const int64_t t0 = i * kStep;
      if (t0 <= 285000)
        want.push_back({t0, t0 / 1000.0 + job});
    }
    for (int i = 0; i < kSamples; ++i) {
      const int64_t t1 = 1000 + i * kStep;
      if (t1 >= 316000)
        want.push_back({t1, t1 / 1000.0 - 100 + 69 + job});
    }
    const std::vector<Sample>& got = r.samples[job];
    ASSERT_EQ(got.size(), want.size()) << "cluster a job " << job;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].t, want[i].t) << i;
      EXPECT_DOUBLE_EQ(got[i].v, want[i].v) << "at " << got[i].t;
    }
    // Cluster b: replica 0 has no gap and is kept throughout (replica 1's gap never matters).
    const std::vector<Sample>& b = r.samples[2 + job];
    ASSERT_EQ(b.size(), static_cast<size_t>(kSamples));
    for (int i = 0; i < kSamples; ++i) {
      EXPECT_EQ(b[i].t, i * kStep);
      EXPECT_DOUBLE_EQ(b[i].v, i * kStep / 1000.0 + job);
    }
  }
  // Under a non-counter function the replica switch shows as a drop (Thanos' behaviour).
  Result plain = Run(*proxy, kRequests, "max_over_time");
  ASSERT_TRUE(plain.status.ok());
  int drops = 0;
  for (size_t i = 1; i < plain.samples[0].size(); ++i) {
    drops += plain.samples[0][i].v < plain.samples[0][i - 1].v;
  }
  EXPECT_EQ(drops, 1);
}

TEST_F(ProxyIntegrationTest, ChainDedupKeepsEveryTimestampOfBothReplicas) {
  StartClusters();
  storeapi::ProxyOptions options;
  options.replica_labels = {"replica"};
  options.dedup_func = storeapi::DedupFunc::kChain;
  auto proxy = MakeProxy(options);
  Result r = Run(*proxy, kRequests);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.samples.size(), 4u);
  EXPECT_EQ(r.samples[0].size(), 100u + 120u);
  EXPECT_EQ(r.samples[2].size(), 120u + 100u);

  storeapi::RequestOptions no_dedup;
  no_dedup.dedup = false;
  EXPECT_EQ(Run(*proxy->ForRequest(no_dedup), kRequests).labels.size(), 8u);
}

TEST_F(ProxyIntegrationTest, QueryForOneClusterOpensNoStreamToOthers) {
  PaodinStore& host = StartPaodin("host", "", Jobs(3));
  PaodinStore& member = StartPaodin("member", "", Jobs(3));
  auto proxy = MakeProxy();
  std::vector<engine::Matcher> m = kRequests;
  m.push_back(M(engine::MatchType::kEqual, "cluster", "member"));
  Result r = Run(*proxy, m);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.labels.size(), 3u);
  // The stores' own accounts: their Series counters and their debug log of finished calls.
  const std::string kMetric = "paodin_store_series_requests_total";
  EXPECT_EQ(MetricValue(HttpGet(member.http_address(), "/metrics"), kMetric), 1);
  EXPECT_EQ(MetricValue(HttpGet(host.http_address(), "/metrics"), kMetric), 0);
  EXPECT_TRUE(member.process().WaitForLogLines("msg=\"series call\"", 1));
  EXPECT_EQ(host.process().CountLogLines("msg=\"series call\""), 0);
  // Both answered Info: pruning came from their external labels, not from a failure.
  for (const storeapi::EndpointStatus& s : endpoints_->Status())
    EXPECT_TRUE(s.queryable) << s.name;
}

TEST_F(ProxyIntegrationTest, StoreKilledMidStreamBecomesAWarningNamingIt) {
  StartPaodin("good", "", Jobs(3));
  // Far more data than the proxy buffers (64 KiB) plus what gRPC and the sockets hold, so the
  // store is still sending when it dies.
  PaodinStore& bad = StartPaodin("bad", "", std::nullopt,
                                 {"--synthetic=series=10000,duration=2h,interval=15s,start=0"});
  ASSERT_GT(bad.series(), 0);
  storeapi::ProxyOptions options;
  options.max_buffered_bytes_per_store = 64 << 10;
  auto proxy = MakeProxy(options);
  const std::vector<engine::Matcher> all = {M(engine::MatchType::kRegexMatch, "__name__", ".+")};
  Result r = Run(*proxy, all, "", [&bad] { bad.process().Kill(); });
  ASSERT_TRUE(r.status.ok()) << r.status;
  int good = 0, from_bad = 0;
  for (const std::string& l : r.labels) {
    good += l.find("cluster=\"good\"") != std::string::npos;
    from_bad += l.find("cluster=\"bad\"") != std::string::npos;
  }
  EXPECT_EQ(good, 3);
  EXPECT_LT(from_bad, bad.series()) << "the store finished before it was killed";
  ASSERT_EQ(r.warnings.size(), 1u) << ::testing::PrintToString(r.warnings);
  EXPECT_THAT(r.warnings[0], HasSubstr("receive series from " + bad.grpc_address()));
}

struct FaultCase {
  const char* name;
  std::vector<std::string> args;
  const char* warning;  // substring of the warning / error naming the store
};

class FaultTest : public ProxyIntegrationTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(FaultTest, WarnKeepsTheRestAndAbortFailsNamingTheStore) {
  const FaultCase& c = GetParam();
  StartPaodin("good", "", Jobs(3));
  FakeStoreProcess& bad = StartFake(c.args);
  storeapi::ProxyOptions options;
  options.response_timeout = std::chrono::milliseconds(300);
  storeapi::ChannelOptions channel;
  channel.max_recv_message_bytes = 1 << 20;
  auto proxy = MakeProxy(options, channel);
  Result r = Run(*proxy, kRequests);
  ASSERT_TRUE(r.status.ok()) << r.status;
  int good = 0;
  for (const std::string& l : r.labels)
    good += l.find("cluster=\"good\"") != std::string::npos;
  EXPECT_EQ(good, 3);
  ASSERT_EQ(r.warnings.size(), 1u) << ::testing::PrintToString(r.warnings);
  EXPECT_THAT(r.warnings[0], HasSubstr(bad.address()));
  EXPECT_THAT(r.warnings[0], HasSubstr(c.warning));

  storeapi::RequestOptions abort;
  abort.partial_response = PartialResponseStrategy::kAbort;
  Result a = Run(*proxy->ForRequest(abort), kRequests);
  EXPECT_FALSE(a.status.ok());
  EXPECT_THAT(std::string(a.status.message()), HasSubstr(bad.address()));
  EXPECT_THAT(std::string(a.status.message()), HasSubstr(c.warning));
}

INSTANTIATE_TEST_SUITE_P(
    Faults, FaultTest,
    ::testing::Values(
        FaultCase{"stalls",
                  {"--cluster=bad", "--batch=1", "--stall-after=1"},
                  "failed to receive any data in 300ms"},
        FaultCase{"errors", {"--cluster=bad", "--batch=1", "--fail-after=2"}, "injected failure"},
        FaultCase{"unsorted", {"--cluster=bad", "--unsorted"}, "series out of order"},
        FaultCase{"corrupt_chunk", {"--cluster=bad", "--corrupt-chunk"}, "corrupt chunk from"},
        FaultCase{"oversized_frame",
                  {"--cluster=bad", "--batch=1", "--frame-bytes=2000000"},
                  "ResourceExhausted"}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

TEST_F(ProxyIntegrationTest, EndpointThatNeverAnswersInfoIsLeftOut) {
  StartPaodin("good", "", Jobs(3));
  FakeStoreProcess& silent = StartFake({"--cluster=silent", "--info-hangs"});
  auto proxy = MakeProxy();
  Result r = Run(*proxy, kRequests);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.labels.size(), 3u);
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_EQ(silent.process().CountLogLines("series call"), 0);
  bool found = false;
  for (const storeapi::EndpointStatus& s : endpoints_->Status()) {
    if (s.name != silent.address())
      continue;
    found = true;
    EXPECT_FALSE(s.queryable);
    ASSERT_TRUE(s.last_error.has_value());
    EXPECT_THAT(*s.last_error, HasSubstr("DeadlineExceeded"));
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace paodin::tests
