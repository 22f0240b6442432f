// `paodin sidecar` in front of a real Prometheus 2.42 holding a promtool-made block, called
// with the generated gRPC stubs; every answer is compared with what Prometheus itself answers on
// its HTTP API. Prometheus runs with tiny remote-read frames so series arrive split. Then
// Prometheus is stopped (Info fails, the sidecar is not ready) and restarted (it recovers).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>

#include "proto/thanos/info.grpc.pb.h"
#include "proto/thanos/store.grpc.pb.h"

#include "engine/model/labels.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storeapi/chunkenc/xor.h"
#include "storeapi/sidecar/http_client.h"
#include "storeapi/sidecar/prometheus_api.h"
#include "tests/e2e/process_util.h"

namespace paodin::e2e {
namespace {

using engine::Labels;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kPromtool = "/usr/bin/promtool";

using Samples = std::vector<std::pair<int64_t, double>>;

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

Labels FromProto(const google::protobuf::RepeatedPtrField<thanos::Label>& labels) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const thanos::Label& l : labels) {
    pairs.emplace_back(l.name(), l.value());
  }
  return L(std::move(pairs));
}

Labels WithExternal(const Labels& l, bool keep_replica = true) {
  engine::LabelsBuilder b(l);
  b.Set("cluster", "host");
  if (keep_replica) {
    b.Set("replica", "r1");
  }
  return b.Build();
}

thanos::LabelMatcher M(thanos::LabelMatcher::Type type, const std::string& name,
                       const std::string& value) {
  thanos::LabelMatcher m;
  m.set_type(type);
  m.set_name(name);
  m.set_value(value);
  return m;
}

class SidecarPrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access(kPrometheus, X_OK) != 0 || access(kPromtool, X_OK) != 0) {
      return;
    }
    dir_ = new std::string(std::filesystem::temp_directory_path() /
                           fmt::format("paodin_sidecar_e2e_{}", getpid()));
    std::filesystem::create_directories(*dir_);
    // Data: one hour, starting three hours ago on a whole minute.
    const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    t0_ = (now_s - 3 * 3600) / 60 * 60;
    std::ofstream om(*dir_ + "/data.om");
    om << "# TYPE test_gauge gauge\n";
    for (const char* job : {"a", "b"}) {
      for (int i = 0; i < 60; ++i) {
        om << "test_gauge{instance=\"x\",job=\"" << job << "\"} " << (job[0] == 'a' ? i : 2 * i)
           << " " << t0_ + 60 * i << "\n";
      }
    }
    om << "# TYPE test_prefix gauge\n";
    for (int i = 0; i < 60; ++i) {
      om << "test_prefix{a=\"1\"} " << i << " " << t0_ + 60 * i << "\n";
    }
    for (int i = 0; i < 60; ++i) {
      om << "test_prefix{a=\"1\",b=\"2\"} " << -i << " " << t0_ + 60 * i << "\n";
    }
    om << "# TYPE test_override gauge\n";
    for (int i = 0; i < 60; ++i) {
      om << "test_override{cluster=\"inner\",k=\"v\"} 7 " << t0_ + 60 * i << "\n";
    }
    om << "# TYPE test_long gauge\n";
    for (int i = 0; i < 3600; ++i) {
      om << "test_long{job=\"a\"} " << (i * 0.25) << " " << t0_ + i << "\n";
    }
    om << "# EOF\n";
    om.close();
    const std::string create =
        fmt::format("{} tsdb create-blocks-from openmetrics -q {} {} > {} 2>&1", kPromtool,
                    *dir_ + "/data.om", *dir_ + "/tsdb", *dir_ + "/promtool.log");
    if (std::system(create.c_str()) != 0) {
      ADD_FAILURE() << "promtool failed, see " << *dir_ << "/promtool.log";
      return;
    }
    std::ofstream(*dir_ + "/prometheus.yml")
        << "global:\n  external_labels:\n    cluster: host\n    replica: r1\n";
    prom_port_ = FreePort();
    grpc_port_ = FreePort();
    http_port_ = FreePort();
    prometheus_ = new ChildProcess();
    sidecar_ = new ChildProcess();
    if (!StartPrometheus()) {
      ADD_FAILURE() << "Prometheus did not become ready:\n" << prometheus_->Log();
      return;
    }
    if (!sidecar_->Start({PAODIN_BINARY, "sidecar", "--prometheus.url=" + PromUrl(),
                          fmt::format("--grpc-address=127.0.0.1:{}", grpc_port_),
                          fmt::format("--http-address=127.0.0.1:{}", http_port_),
                          "--prometheus.get_config_interval=1s", "--log.level=debug"},
                         *dir_ + "/sidecar.log")) {
      ADD_FAILURE() << "cannot start the sidecar";
      return;
    }
    channel_ = new std::shared_ptr<grpc::Channel>(grpc::CreateChannel(
        fmt::format("127.0.0.1:{}", grpc_port_), grpc::InsecureChannelCredentials()));
    ready_ = true;
  }

  static bool StartPrometheus() {
    if (!prometheus_->Start({kPrometheus, "--config.file=" + *dir_ + "/prometheus.yml",
                             "--storage.tsdb.path=" + *dir_ + "/tsdb",
                             fmt::format("--web.listen-address=127.0.0.1:{}", prom_port_),
                             "--storage.remote.read-max-bytes-in-frame=512"},
                            *dir_ + "/prometheus.log")) {
      return false;
    }
    return Eventually([] { return Get("/-/ready").status == 200; }, 60);
  }

  static void TearDownTestSuite() {
    if (sidecar_ != nullptr) {
      sidecar_->Stop();
    }
    if (prometheus_ != nullptr) {
      prometheus_->Stop();
    }
    delete sidecar_;
    delete prometheus_;
    delete channel_;
    if (dir_ != nullptr && ::testing::UnitTest::GetInstance()->failed_test_count() == 0) {
      std::error_code ec;
      std::filesystem::remove_all(*dir_, ec);
    }
    delete dir_;
  }

  void SetUp() override {
    if (!ready_) {
      GTEST_SKIP() << "no Prometheus, promtool or sidecar";
    }
    ASSERT_TRUE(Eventually([] { return Info().ok(); }, 30)) << sidecar_->Log();
  }

  static std::string PromUrl() { return fmt::format("http://127.0.0.1:{}", prom_port_); }

  static storeapi::HttpResponse Get(const std::string& target, int port = 0) {
    storeapi::HttpClientOptions o;
    o.url = port == 0 ? PromUrl() : fmt::format("http://127.0.0.1:{}", port);
    o.timeout_ms = 10000;
    auto client = *storeapi::HttpClient::Create(o);
    absl::StatusOr<storeapi::HttpResponse> r = client->Get(target, engine::QueryContext{});
    return r.ok() ? *r : storeapi::HttpResponse{};
  }

  static grpc::Status Info(thanos::info::InfoResponse* out = nullptr) {
    auto stub = thanos::info::Info::NewStub(*channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    thanos::info::InfoResponse response;
    grpc::Status st = stub->Info(&ctx, thanos::info::InfoRequest(), &response);
    if (out != nullptr) {
      *out = response;
    }
    return st;
  }

  thanos::SeriesRequest Request(std::vector<thanos::LabelMatcher> matchers) {
    thanos::SeriesRequest req;
    req.set_min_time(t0_ * 1000 - 3600000);
    req.set_max_time(t0_ * 1000 + 2 * 3600000);
    for (auto& m : matchers) {
      *req.add_matchers() = m;
    }
    return req;
  }

  static grpc::Status Series(const thanos::SeriesRequest& req, std::vector<thanos::Series>* out) {
    auto stub = thanos::Store::NewStub(*channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = stub->Series(&ctx, req);
    thanos::SeriesResponse r;
    while (reader->Read(&r)) {
      if (r.has_series()) {
        out->push_back(r.series());
      }
    }
    return reader->Finish();
  }

  // Prometheus' own answer: every series matching `selector` with its raw samples in the data.
  static std::map<Labels, Samples> PrometheusRaw(const std::string& selector) {
    const std::string target = fmt::format("/api/v1/query?query={}&time={}",
                                           storeapi::UrlEncode(selector + "[3h]"), t0_ + 3600);
    storeapi::HttpResponse r = Get(target);
    EXPECT_EQ(r.status, 200) << r.body;
    std::map<Labels, Samples> out;
    YAML::Node root = YAML::Load(r.body);
    for (const auto& series : root["data"]["result"]) {
      std::vector<std::pair<std::string, std::string>> pairs;
      for (const auto& kv : series["metric"]) {
        pairs.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
      }
      Samples samples;
      for (const auto& v : series["values"]) {
        samples.emplace_back(std::llround(v[0].as<double>() * 1000),
                             std::stod(v[1].as<std::string>()));
      }
      out[L(std::move(pairs))] = std::move(samples);
    }
    return out;
  }

  static Samples Decode(const thanos::Series& s) {
    Samples out;
    for (const thanos::AggrChunk& c : s.chunks()) {
      EXPECT_EQ(c.raw().type(), thanos::Chunk::XOR);
      EXPECT_EQ(c.raw().hash(), storeapi::ChunkHash(c.raw().data()));
      const int n = *storeapi::XorNumSamples(c.raw().data());
      std::vector<int64_t> ts(static_cast<size_t>(n));
      std::vector<double> vs(static_cast<size_t>(n));
      EXPECT_TRUE(storeapi::DecodeXorChunk(c.raw().data(), ts, vs).ok());
      for (int i = 0; i < n; ++i) {
        out.emplace_back(ts[static_cast<size_t>(i)], vs[static_cast<size_t>(i)]);
      }
    }
    return out;
  }

  static std::vector<std::string> PromStrings(const std::string& target) {
    storeapi::HttpResponse r = Get(target);
    return *storeapi::ParseStringListResponse(r.status, r.body);
  }

  static inline std::string* dir_ = nullptr;
  static inline int64_t t0_ = 0;
  static inline int prom_port_ = 0;
  static inline int grpc_port_ = 0;
  static inline int http_port_ = 0;
  static inline ChildProcess* prometheus_ = nullptr;
  static inline ChildProcess* sidecar_ = nullptr;
  static inline std::shared_ptr<grpc::Channel>* channel_ = nullptr;
  static inline bool ready_ = false;
};

TEST_F(SidecarPrometheusTest, InfoHasExternalLabelsAndPrometheusMinTime) {
  thanos::info::InfoResponse info;
  ASSERT_TRUE(Info(&info).ok());
  EXPECT_EQ(info.componenttype(), "sidecar");
  ASSERT_EQ(info.label_sets_size(), 1);
  EXPECT_EQ(FromProto(info.label_sets(0).labels()), L({{"cluster", "host"}, {"replica", "r1"}}));
  EXPECT_EQ(info.store().min_time(), t0_ * 1000);
  EXPECT_EQ(info.store().max_time(), std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(info.store().supports_without_replica_labels());
  EXPECT_EQ(Get("/-/ready", http_port_).status, 200);
  storeapi::HttpResponse metrics = Get("/metrics", http_port_);
  EXPECT_THAT(metrics.body, ::testing::HasSubstr("paodin_sidecar_prometheus_up 1"));
}

TEST_F(SidecarPrometheusTest, SeriesEqualPrometheusDataWithExternalLabels) {
  std::vector<thanos::Series> got;
  grpc::Status st = Series(Request({M(thanos::LabelMatcher::RE, "__name__", "test_.*")}), &got);
  ASSERT_TRUE(st.ok()) << st.error_message();
  const std::map<Labels, Samples> want = PrometheusRaw(R"({__name__=~"test_.*"})");
  ASSERT_EQ(want.size(), 6u);
  ASSERT_EQ(got.size(), want.size());
  std::vector<Labels> got_labels;
  for (const thanos::Series& s : got) {
    got_labels.push_back(FromProto(s.labels()));
  }
  EXPECT_TRUE(std::is_sorted(got_labels.begin(), got_labels.end()));
  std::map<Labels, Samples> want_final;
  for (const auto& [labels, samples] : want) {
    want_final[WithExternal(labels)] = samples;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    auto it = want_final.find(got_labels[i]);
    ASSERT_NE(it, want_final.end()) << got_labels[i].ToString();
    EXPECT_EQ(Decode(got[i]), it->second) << got_labels[i].ToString();
  }
  // The long series came in many 512-byte frames and was joined into one series.
  auto long_it = std::find(
      got_labels.begin(), got_labels.end(),
      L({{"__name__", "test_long"}, {"cluster", "host"}, {"job", "a"}, {"replica", "r1"}}));
  ASSERT_NE(long_it, got_labels.end());
  const thanos::Series& long_series = got[static_cast<size_t>(long_it - got_labels.begin())];
  EXPECT_GT(long_series.chunks_size(), 10);
  EXPECT_EQ(Decode(long_series).size(), 3600u);
  // The prefix series moved behind its extension, and the series' own cluster was overridden.
  EXPECT_EQ(got_labels[4], L({{"__name__", "test_prefix"},
                              {"a", "1"},
                              {"b", "2"},
                              {"cluster", "host"},
                              {"replica", "r1"}}));
  EXPECT_EQ(got_labels[5],
            L({{"__name__", "test_prefix"}, {"a", "1"}, {"cluster", "host"}, {"replica", "r1"}}));
}

TEST_F(SidecarPrometheusTest, ExternalLabelMatchersSelectOrEmpty) {
  std::vector<thanos::Series> got;
  ASSERT_TRUE(Series(Request({M(thanos::LabelMatcher::EQ, "__name__", "test_gauge"),
                              M(thanos::LabelMatcher::EQ, "cluster", "host")}),
                     &got)
                  .ok());
  EXPECT_EQ(got.size(), 2u);
  got.clear();
  ASSERT_TRUE(Series(Request({M(thanos::LabelMatcher::EQ, "__name__", "test_gauge"),
                              M(thanos::LabelMatcher::RE, "cluster", "member|other")}),
                     &got)
                  .ok());
  EXPECT_TRUE(got.empty());
  grpc::Status st = Series(Request({M(thanos::LabelMatcher::EQ, "cluster", "host")}), &got);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "no matchers specified (excluding external labels)");
  // A matcher on the overridden label sees the external value, not the series' own.
  got.clear();
  ASSERT_TRUE(Series(Request({M(thanos::LabelMatcher::EQ, "__name__", "test_override"),
                              M(thanos::LabelMatcher::EQ, "cluster", "inner")}),
                     &got)
                  .ok());
  EXPECT_TRUE(got.empty());
}

TEST_F(SidecarPrometheusTest, WithoutReplicaLabelsAndSkipChunks) {
  thanos::SeriesRequest req = Request({M(thanos::LabelMatcher::RE, "__name__", "test_.*")});
  req.add_without_replica_labels("replica");
  std::vector<thanos::Series> got;
  grpc::Status st = Series(req, &got);
  ASSERT_TRUE(st.ok()) << st.error_message();
  std::vector<Labels> want;
  for (const auto& [labels, samples] : PrometheusRaw(R"({__name__=~"test_.*"})")) {
    want.push_back(WithExternal(labels, /*keep_replica=*/false));
  }
  std::sort(want.begin(), want.end());
  std::vector<Labels> got_labels;
  for (const thanos::Series& s : got) {
    got_labels.push_back(FromProto(s.labels()));
    EXPECT_GT(s.chunks_size(), 0);
  }
  EXPECT_EQ(got_labels, want);

  req.set_skip_chunks(true);
  got.clear();
  ASSERT_TRUE(Series(req, &got).ok());
  got_labels.clear();
  for (const thanos::Series& s : got) {
    got_labels.push_back(FromProto(s.labels()));
    EXPECT_EQ(s.chunks_size(), 0);
  }
  EXPECT_EQ(got_labels, want);
}

TEST_F(SidecarPrometheusTest, LabelNamesAndValuesEqualPrometheusPlusExternalLabels) {
  auto stub = thanos::Store::NewStub(*channel_);
  const int64_t start = t0_ * 1000;
  const int64_t end = (t0_ + 3600) * 1000;
  const std::string range = fmt::format("&start={}&end={}", t0_, t0_ + 3600);
  {
    thanos::LabelNamesRequest req;
    req.set_start(start);
    req.set_end(end);
    req.add_without_replica_labels("replica");
    thanos::LabelNamesResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->LabelNames(&ctx, req, &resp).ok());
    std::vector<std::string> want = PromStrings("/api/v1/labels?" + range.substr(1));
    want.push_back("cluster");
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    EXPECT_THAT(resp.names(), ::testing::ElementsAreArray(want));
  }
  {
    thanos::LabelNamesRequest req;
    req.set_start(start);
    req.set_end(end);
    *req.add_matchers() = M(thanos::LabelMatcher::EQ, "__name__", "test_prefix");
    thanos::LabelNamesResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->LabelNames(&ctx, req, &resp).ok());
    EXPECT_THAT(resp.names(), ::testing::ElementsAre("__name__", "a", "b", "cluster", "replica"));
  }
  {
    thanos::LabelValuesRequest req;
    req.set_label("job");
    req.set_start(start);
    req.set_end(end);
    *req.add_matchers() = M(thanos::LabelMatcher::RE, "__name__", "test_.*");
    thanos::LabelValuesResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->LabelValues(&ctx, req, &resp).ok());
    EXPECT_THAT(resp.values(), ::testing::ElementsAreArray(PromStrings(
                                   "/api/v1/label/job/values?match[]=" +
                                   storeapi::UrlEncode(R"({__name__=~"test_.*"})") + range)));
    EXPECT_THAT(resp.values(), ::testing::ElementsAre("a", "b"));
  }
  {
    thanos::LabelValuesRequest req;
    req.set_label("cluster");
    req.set_start(start);
    req.set_end(end);
    thanos::LabelValuesResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->LabelValues(&ctx, req, &resp).ok());
    EXPECT_THAT(resp.values(), ::testing::ElementsAre("host"));
  }
}

// Runs last (gtest keeps declaration order within a suite).
TEST_F(SidecarPrometheusTest, StoppedPrometheusFailsInfoAndRestartRecovers) {
  ASSERT_EQ(prometheus_->Stop(), 0);
  EXPECT_TRUE(Eventually([] { return !Info().ok(); }, 30));
  grpc::Status st = Info();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(st.error_message(), ::testing::HasSubstr("sidecar not ready"));
  EXPECT_EQ(Get("/-/ready", http_port_).status, 503);
  std::vector<thanos::Series> got;
  EXPECT_EQ(
      Series(Request({M(thanos::LabelMatcher::EQ, "__name__", "test_gauge")}), &got).error_code(),
      grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(sidecar_->Log(), ::testing::HasSubstr("Prometheus is unreachable"));

  ASSERT_TRUE(StartPrometheus()) << prometheus_->Log();
  EXPECT_TRUE(Eventually([] { return Info().ok(); }, 30)) << sidecar_->Log();
  got.clear();
  ASSERT_TRUE(Series(Request({M(thanos::LabelMatcher::EQ, "__name__", "test_gauge")}), &got).ok());
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(Get("/-/ready", http_port_).status, 200);
}

}  // namespace
}  // namespace paodin::e2e
