// Integration tests of the StoreAPI proxy against real store processes on 127.0.0.1: replica
// deduplication across clusters, external-label pruning, and store faults under both partial
// response strategies.
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

class ProxyIntegrationTest : public ::testing::Test {
 protected:
  StoreProcess& Start(std::vector<std::string> args) {
    procs_.push_back(std::make_unique<StoreProcess>(FAKE_STORE_BIN, std::move(args)));
    EXPECT_FALSE(procs_.back()->address().empty()) << "store process failed to start";
    return *procs_.back();
  }

  std::unique_ptr<storeapi::Proxy> MakeProxy(storeapi::ProxyOptions options = {},
                                             storeapi::ChannelOptions channel = {}) {
    storeapi::EndpointSetOptions eo;
    for (auto& p : procs_)
      eo.endpoints.push_back(p->address());
    eo.info_timeout = std::chrono::milliseconds(1000);
    eo.channel = channel;
    endpoints_ = std::make_shared<storeapi::EndpointSet>(eo);
    endpoints_->Refresh();
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

  std::vector<std::unique_ptr<StoreProcess>> procs_;
  std::shared_ptr<storeapi::EndpointSet> endpoints_;
};

const std::vector<engine::Matcher> kRequests = {
    M(engine::MatchType::kEqual, "__name__", "requests_total")};

// Two clusters, two replicas each; replica 1 scrapes 1 s later and restarted its counters
// (values 100 lower). Cluster a's replica 0 misses [300 s, 600 s); cluster b's replica 1 misses
// [900 s, 1200 s).
void StartClusters(ProxyIntegrationTest* t,
                   const std::function<StoreProcess&(std::vector<std::string>)>& start) {
  start({"--cluster=a", "--replica=0", "--jobs=2", "--gap=300000:600000"});
  start({"--cluster=a", "--replica=1", "--jobs=2", "--start=1000", "--value-offset=-100",
         "--no-strip"});
  start({"--cluster=b", "--replica=0", "--jobs=2"});
  start({"--cluster=b", "--replica=1", "--jobs=2", "--start=1000", "--value-offset=-100",
         "--gap=900000:1200000"});
}

TEST_F(ProxyIntegrationTest, DedupFillsGapsFromTheOtherReplicaAndHidesCounterResets) {
  StartClusters(this, [this](std::vector<std::string> a) -> StoreProcess& { return Start(a); });
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
    // Cluster b: replica 0 has no gap and is kept throughout.
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
  StartClusters(this, [this](std::vector<std::string> a) -> StoreProcess& { return Start(a); });
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
  StoreProcess& host = Start({"--cluster=host"});
  StoreProcess& member = Start({"--cluster=member"});
  auto proxy = MakeProxy();
  std::vector<engine::Matcher> m = kRequests;
  m.push_back(M(engine::MatchType::kEqual, "cluster", "member"));
  Result r = Run(*proxy, m);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.labels.size(), 3u);
  member.WaitForLogLines("series call", 1);
  EXPECT_EQ(host.CountLogLines("series call"), 0);
}

struct FaultCase {
  const char* name;
  std::vector<std::string> args;
  bool kill_mid_stream;
  const char* warning;  // substring of the warning / error naming the store
};

class FaultTest : public ProxyIntegrationTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(FaultTest, WarnKeepsTheRestAndAbortFailsNamingTheStore) {
  const FaultCase& c = GetParam();
  Start({"--cluster=good", "--batch=1"});
  StoreProcess& bad = Start(c.args);
  storeapi::ProxyOptions options;
  // The killed store must fail by its broken connection, not by the inactivity timer.
  options.response_timeout = std::chrono::milliseconds(c.kill_mid_stream ? 0 : 300);
  storeapi::ChannelOptions channel;
  channel.max_recv_message_bytes = 1 << 20;
  auto proxy = MakeProxy(options, channel);
  // The killed store stalls after its first frame; it is killed once its Series call runs,
  // while the merge waits for its next frame.
  std::thread killer;
  if (c.kill_mid_stream) {
    killer = std::thread([&bad] {
      bad.WaitForLogLines("series call", 1);
      bad.Kill();
    });
  }
  Result r = Run(*proxy, kRequests);
  if (killer.joinable())
    killer.join();
  ASSERT_TRUE(r.status.ok()) << r.status;
  int good = 0;
  for (const std::string& l : r.labels)
    good += l.find("cluster=\"good\"") != std::string::npos;
  EXPECT_EQ(good, 3);
  ASSERT_EQ(r.warnings.size(), 1u) << ::testing::PrintToString(r.warnings);
  EXPECT_THAT(r.warnings[0], HasSubstr(bad.address()));
  EXPECT_THAT(r.warnings[0], ::testing::ContainsRegex(c.warning));

  if (c.kill_mid_stream)
    return;  // the process is gone; ABORT is covered by the others
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
        FaultCase{"killed",
                  {"--cluster=bad", "--batch=1", "--stall-after=1"},
                  true,
                  "(receive series from|fetch series for)"},
        FaultCase{"stalls",
                  {"--cluster=bad", "--batch=1", "--stall-after=1"},
                  false,
                  "failed to receive any data in 300ms"},
        FaultCase{
            "errors", {"--cluster=bad", "--batch=1", "--fail-after=2"}, false, "injected failure"},
        FaultCase{"unsorted", {"--cluster=bad", "--unsorted"}, false, "series out of order"},
        FaultCase{
            "corrupt_chunk", {"--cluster=bad", "--corrupt-chunk"}, false, "corrupt chunk from"},
        FaultCase{"oversized_frame",
                  {"--cluster=bad", "--batch=1", "--frame-bytes=2000000"},
                  false,
                  "ResourceExhausted"}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

TEST_F(ProxyIntegrationTest, EndpointThatNeverAnswersInfoIsLeftOut) {
  Start({"--cluster=good"});
  StoreProcess& silent = Start({"--cluster=silent", "--info-hangs"});
  auto proxy = MakeProxy();
  Result r = Run(*proxy, kRequests);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.labels.size(), 3u);
  EXPECT_THAT(r.warnings, IsEmpty());
  EXPECT_EQ(silent.CountLogLines("series call"), 0);
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
