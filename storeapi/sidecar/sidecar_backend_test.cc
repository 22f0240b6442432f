#include "storeapi/sidecar/sidecar_backend.h"

#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include <snappy.h>

#include "proto/prometheus/remote.pb.h"

#include "engine/util/status_macros.h"
#include "engine/util/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storeapi/chunkenc/xor.h"
#include "storeapi/sidecar/fake_http_server_test_util.h"
#include "storeapi/sidecar/frame.h"

namespace paodin::storeapi {
namespace {

using ::paodin::storeapi::testing::ChunkedReply;
using ::paodin::storeapi::testing::FakeHttpServer;
using ::paodin::storeapi::testing::FakeReply;
using ::paodin::storeapi::testing::FakeRequest;
using ::paodin::storeapi::testing::HttpReply;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;

constexpr const char* kStreamed =
    "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

std::string ConfigBody(const std::string& external_yaml) {
  std::string yaml = "global:\\n  scrape_interval: 15s\\n";
  if (!external_yaml.empty()) {
    yaml += "  external_labels:\\n" + external_yaml;
  }
  return R"({"status":"success","data":{"yaml":")" + yaml + R"("}})";
}

// One remote-read series: labels and chunks (each chunk given by its first timestamp).
struct FakeSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<int64_t> chunk_starts;
};

std::string XorChunk(int64_t start) {
  const std::vector<int64_t> ts = {start, start + 15000, start + 30000};
  const std::vector<double> vs = {1, 2, static_cast<double>(start)};
  return *EncodeXorChunk(ts, vs);
}

// A frame holding the given series.
std::string Frame(const std::vector<FakeSeries>& series) {
  prometheus::ChunkedReadResponse frame;
  for (const FakeSeries& s : series) {
    prometheus::ChunkedSeries* cs = frame.add_chunked_series();
    for (const auto& [n, v] : s.labels) {
      prometheus::Label* l = cs->add_labels();
      l->set_name(n);
      l->set_value(v);
    }
    for (int64_t start : s.chunk_starts) {
      prometheus::Chunk* c = cs->add_chunks();
      c->set_min_time_ms(start);
      c->set_max_time_ms(start + 30000);
      c->set_type(prometheus::Chunk::XOR);
      c->set_data(XorChunk(start));
    }
  }
  std::string out;
  AppendChunkedFrame(frame.SerializeAsString(), &out);
  return out;
}

// A scripted Prometheus.
class FakePrometheus {
 public:
  FakePrometheus() : server_([this](const FakeRequest& r) { return Handle(r); }) {}

  std::string url() const { return server_.url(); }

  std::mutex mu;
  std::string config = ConfigBody("    cluster: host\\n    replica: a\\n");
  bool config_fails = false;
  std::string lowest = "1000";
  FakeReply read_reply = ChunkedReply(kStreamed, "");
  std::string labels_body = R"({"status":"success","data":["__name__","job"]})";
  std::string values_body = R"({"status":"success","data":["a","b"]})";
  std::string series_body = R"({"status":"success","data":[]})";
  std::vector<prometheus::ReadRequest> reads;
  std::vector<std::string> targets;

 private:
  FakeReply Handle(const FakeRequest& r) {
    std::lock_guard lock(mu);
    targets.push_back(r.target);
    const std::string path = r.target.substr(0, r.target.find('?'));
    if (path == "/api/v1/status/config") {
      if (config_fails) {
        FakeReply reply;
        reply.raw = "garbage";
        reply.close = true;
        return reply;
      }
      return HttpReply(200, "application/json", config);
    }
    if (path == "/metrics") {
      return HttpReply(200, "text/plain",
                       "# TYPE prometheus_tsdb_lowest_timestamp gauge\n"
                       "prometheus_tsdb_lowest_timestamp " +
                           lowest + "\n");
    }
    if (path == "/api/v1/read") {
      EXPECT_EQ(r.content_encoding, "snappy");
      EXPECT_EQ(r.content_type, "application/x-protobuf");
      EXPECT_EQ(r.remote_read_version, "0.1.0");
      std::string raw;
      EXPECT_TRUE(snappy::Uncompress(r.body.data(), r.body.size(), &raw));
      prometheus::ReadRequest req;
      EXPECT_TRUE(req.ParseFromString(raw));
      reads.push_back(req);
      return read_reply;
    }
    if (path == "/api/v1/labels") {
      return HttpReply(200, "application/json", labels_body);
    }
    if (path.starts_with("/api/v1/label/")) {
      return HttpReply(200, "application/json", values_body);
    }
    if (path == "/api/v1/series") {
      return HttpReply(200, "application/json", series_body);
    }
    return HttpReply(404, "text/plain", "not found");
  }

  FakeHttpServer server_;
};

thanos::LabelMatcher M(thanos::LabelMatcher::Type type, const std::string& name,
                       const std::string& value) {
  thanos::LabelMatcher m;
  m.set_type(type);
  m.set_name(name);
  m.set_value(value);
  return m;
}

std::string LabelsString(const thanos::Series& s) {
  std::string out;
  for (const thanos::Label& l : s.labels()) {
    out += l.name() + "=" + l.value() + ",";
  }
  return out;
}

class SidecarBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpClientOptions o;
    o.url = prom_.url();
    o.timeout_ms = 5000;
    SidecarOptions options;
    options.retry_interval_ms = 0;
    backend_ = std::make_unique<SidecarBackend>(std::shared_ptr<HttpClient>(*HttpClient::Create(o)),
                                                options);
  }

  thanos::SeriesRequest Request(std::vector<thanos::LabelMatcher> matchers) {
    thanos::SeriesRequest req;
    req.set_min_time(0);
    req.set_max_time(100000);
    for (auto& m : matchers) {
      *req.add_matchers() = m;
    }
    return req;
  }

  // All series of a Series call, or its error.
  absl::StatusOr<std::vector<thanos::Series>> Drain(const thanos::SeriesRequest& req) {
    PAODIN_ASSIGN_OR_RETURN(std::unique_ptr<SeriesResponseStream> stream,
                            backend_->Series(req, ctx_));
    std::vector<thanos::Series> out;
    for (;;) {
      thanos::SeriesResponse r;
      PAODIN_ASSIGN_OR_RETURN(bool more, stream->Next(&r));
      if (!more) {
        return out;
      }
      EXPECT_TRUE(r.has_series());
      out.push_back(r.series());
    }
  }

  void SetReadBody(std::string body) {
    std::lock_guard lock(prom_.mu);
    prom_.read_reply = ChunkedReply(kStreamed, body);
  }

  FakePrometheus prom_;
  std::unique_ptr<SidecarBackend> backend_;
  CallContext ctx_;
};

TEST_F(SidecarBackendTest, InfoReportsSidecarWithExternalLabels) {
  absl::StatusOr<thanos::info::InfoResponse> info = backend_->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->componenttype(), "sidecar");
  ASSERT_EQ(info->label_sets_size(), 1);
  ASSERT_EQ(info->label_sets(0).labels_size(), 2);
  EXPECT_EQ(info->label_sets(0).labels(0).name(), "cluster");
  EXPECT_EQ(info->label_sets(0).labels(0).value(), "host");
  EXPECT_EQ(info->store().min_time(), 1000);
  EXPECT_EQ(info->store().max_time(), std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(info->store().supports_without_replica_labels());
  ASSERT_EQ(info->store().tsdb_infos_size(), 1);
  EXPECT_EQ(info->store().tsdb_infos(0).labels().labels_size(), 2);
  EXPECT_TRUE(backend_->ready());
}

TEST_F(SidecarBackendTest, EmptyTsdbMeansNoMinTimeLimit) {
  {
    std::lock_guard lock(prom_.mu);
    prom_.lowest = "9.223372036854776e+18";
    prom_.config = ConfigBody("");
  }
  absl::StatusOr<thanos::info::InfoResponse> info = backend_->Info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->store().min_time(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(info->label_sets_size(), 0);
}

TEST_F(SidecarBackendTest, InfoFailsWhilePrometheusIsBrokenAndRecovers) {
  ASSERT_TRUE(backend_->Refresh().ok());
  {
    std::lock_guard lock(prom_.mu);
    prom_.config_fails = true;
  }
  EXPECT_FALSE(backend_->Refresh().ok());
  EXPECT_FALSE(backend_->ready());
  EXPECT_THAT(backend_->Info(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Drain(Request({M(thanos::LabelMatcher::EQ, "__name__", "up")})),
              StatusHasSubstr("sidecar not ready"));
  {
    std::lock_guard lock(prom_.mu);
    prom_.config_fails = false;
  }
  // Info itself retries the read (retry_interval_ms = 0 here).
  EXPECT_TRUE(backend_->Info().ok());
  EXPECT_TRUE(backend_->ready());
}

TEST_F(SidecarBackendTest, InfoFailsWhenPrometheusIsDown) {
  HttpClientOptions o;
  int port;
  {
    FakeHttpServer gone([](const FakeRequest&) { return FakeReply{}; });
    port = gone.port();
  }
  o.url = "http://127.0.0.1:" + std::to_string(port);
  SidecarBackend backend(std::shared_ptr<HttpClient>(*HttpClient::Create(o)), SidecarOptions{});
  EXPECT_THAT(backend.Info(), StatusHasSubstr("sidecar not ready: Prometheus at http://127.0.0.1"));
}

TEST_F(SidecarBackendTest, SeriesPassesChunksThroughAndAddsExternalLabels) {
  std::string body = Frame({{{{"__name__", "up"}, {"cluster", "other"}, {"job", "c"}}, {0}},
                            {{{"__name__", "up"}, {"job", "a"}}, {0, 40000}},
                            {{{"__name__", "up"}, {"job", "b"}}, {0}}});
  // The last series continues in the next frame, as Prometheus splits long series.
  body += Frame({{{{"__name__", "up"}, {"job", "b"}}, {40000}}});
  SetReadBody(body);
  {
    std::lock_guard lock(prom_.mu);
    prom_.labels_body = R"({"status":"success","data":["__name__","cluster","job"]})";
  }
  thanos::SeriesRequest req = Request({M(thanos::LabelMatcher::EQ, "__name__", "up"),
                                       M(thanos::LabelMatcher::RE, "cluster", "ho.*")});
  req.mutable_query_hints()->set_step_millis(15000);
  req.mutable_query_hints()->mutable_func()->set_name("rate");
  absl::StatusOr<std::vector<thanos::Series>> got = Drain(req);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ(LabelsString((*got)[0]), "__name__=up,cluster=host,job=a,replica=a,");
  EXPECT_EQ(LabelsString((*got)[1]), "__name__=up,cluster=host,job=b,replica=a,");
  // External labels override the series' own.
  EXPECT_EQ(LabelsString((*got)[2]), "__name__=up,cluster=host,job=c,replica=a,");
  ASSERT_EQ((*got)[1].chunks_size(), 2);
  const thanos::AggrChunk& c = (*got)[1].chunks(1);
  EXPECT_EQ(c.min_time(), 40000);
  EXPECT_EQ(c.max_time(), 70000);
  EXPECT_EQ(c.raw().type(), thanos::Chunk::XOR);
  EXPECT_EQ(c.raw().data(), XorChunk(40000));
  EXPECT_EQ(c.raw().hash(), ChunkHash(XorChunk(40000)));

  // The requests Prometheus got: label names for the same selector (to know whether series carry
  // external labels), then remote read with the external-label matcher dropped, min time
  // raised, hints.
  std::lock_guard lock(prom_.mu);
  ASSERT_EQ(prom_.targets.size(), 4u);  // config, metrics, labels, read
  EXPECT_EQ(prom_.targets[2],
            "/api/v1/labels?match[]=%7B__name__%3D%22up%22%7D&start=1.000&end=100.000");
  ASSERT_EQ(prom_.reads.size(), 1u);
  const prometheus::ReadRequest& read = prom_.reads[0];
  ASSERT_EQ(read.queries_size(), 1);
  EXPECT_EQ(read.queries(0).start_timestamp_ms(), 1000);
  EXPECT_EQ(read.queries(0).end_timestamp_ms(), 100000);
  ASSERT_EQ(read.queries(0).matchers_size(), 1);
  EXPECT_EQ(read.queries(0).matchers(0).name(), "__name__");
  EXPECT_EQ(read.queries(0).hints().func(), "rate");
  EXPECT_EQ(read.queries(0).hints().step_ms(), 15000);
  ASSERT_EQ(read.accepted_response_types_size(), 1);
  EXPECT_EQ(read.accepted_response_types(0), prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
}

TEST_F(SidecarBackendTest, SeriesStripsReplicaLabelsAndKeepsOrder) {
  SetReadBody(Frame({{{{"__name__", "up"}}, {0}},
                     {{{"__name__", "up"}, {"a", "1"}}, {0}},
                     {{{"__name__", "up"}, {"z", "1"}}, {0}}}));
  thanos::SeriesRequest req = Request({M(thanos::LabelMatcher::EQ, "__name__", "up")});
  req.add_without_replica_labels("replica");
  absl::StatusOr<std::vector<thanos::Series>> got = Drain(req);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ(LabelsString((*got)[0]), "__name__=up,a=1,cluster=host,");
  EXPECT_EQ(LabelsString((*got)[1]), "__name__=up,cluster=host,");
  EXPECT_EQ(LabelsString((*got)[2]), "__name__=up,cluster=host,z=1,");
}

TEST_F(SidecarBackendTest, MismatchingExternalLabelGivesEmptyStreamWithoutAsking) {
  absl::StatusOr<std::vector<thanos::Series>> got =
      Drain(Request({M(thanos::LabelMatcher::EQ, "__name__", "up"),
                     M(thanos::LabelMatcher::EQ, "cluster", "member")}));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
  std::lock_guard lock(prom_.mu);
  EXPECT_TRUE(prom_.reads.empty());
}

TEST_F(SidecarBackendTest, OnlyExternalLabelMatchersIsInvalidArgument) {
  EXPECT_THAT(Drain(Request({M(thanos::LabelMatcher::EQ, "cluster", "host")})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "no matchers specified (excluding external labels)"));
  EXPECT_THAT(Drain(Request({})), StatusIs(absl::StatusCode::kInvalidArgument));
  thanos::SeriesRequest bad = Request({M(thanos::LabelMatcher::RE, "job", "(")});
  EXPECT_THAT(Drain(bad), StatusIs(absl::StatusCode::kInvalidArgument));
  thanos::SeriesRequest reversed = Request({M(thanos::LabelMatcher::EQ, "job", "a")});
  reversed.set_min_time(10);
  reversed.set_max_time(5);
  EXPECT_THAT(Drain(reversed), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(SidecarBackendTest, RangeBeforeMinTimeIsEmpty) {
  thanos::SeriesRequest req = Request({M(thanos::LabelMatcher::EQ, "job", "a")});
  req.set_max_time(999);
  absl::StatusOr<std::vector<thanos::Series>> got = Drain(req);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

TEST_F(SidecarBackendTest, CorruptStreamsAreErrors) {
  const thanos::SeriesRequest req = Request({M(thanos::LabelMatcher::EQ, "__name__", "up")});
  std::string bad_crc = Frame({{{{"__name__", "up"}}, {0}}});
  bad_crc.back() ^= 1;
  SetReadBody(bad_crc);
  EXPECT_THAT(Drain(req), StatusHasSubstr("CRC32C mismatch"));

  std::string not_proto;
  AppendChunkedFrame("\xff\xff\xff garbage", &not_proto);
  SetReadBody(not_proto);
  EXPECT_THAT(Drain(req), StatusIs(absl::StatusCode::kDataLoss));

  const std::string whole = Frame({{{{"__name__", "up"}}, {0}}});
  SetReadBody(whole.substr(0, whole.size() - 3));
  EXPECT_THAT(Drain(req), StatusHasSubstr("stream cut inside frame 0"));

  {
    std::lock_guard lock(prom_.mu);
    prom_.read_reply = ChunkedReply(kStreamed, whole + whole, whole.size() + 5);
  }
  EXPECT_THAT(Drain(req), StatusHasSubstr("connection closed before the end of the body"));

  SetReadBody(Frame({{{{"__name__", "up"}, {"__name__", "dup"}}, {0}}}));
  EXPECT_THAT(Drain(req), StatusIs(absl::StatusCode::kDataLoss));

  SetReadBody(Frame({{{{"__name__", "b"}}, {0}}, {{{"__name__", "a"}}, {0}}}));
  EXPECT_THAT(Drain(req), StatusHasSubstr("out of order"));

  prometheus::ChunkedReadResponse unknown;
  prometheus::ChunkedSeries* cs = unknown.add_chunked_series();
  cs->add_labels()->set_name("__name__");
  cs->mutable_labels(0)->set_value("up");
  cs->add_chunks()->set_type(prometheus::Chunk::UNKNOWN);
  std::string unknown_frame;
  AppendChunkedFrame(unknown.SerializeAsString(), &unknown_frame);
  SetReadBody(unknown_frame);
  EXPECT_THAT(Drain(req), StatusHasSubstr("encoding 0"));
}

TEST_F(SidecarBackendTest, RemoteReadErrorsAreClear) {
  const thanos::SeriesRequest req = Request({M(thanos::LabelMatcher::EQ, "__name__", "up")});
  {
    std::lock_guard lock(prom_.mu);
    prom_.read_reply = HttpReply(400, "text/plain", "exceeded sample limit\n");
  }
  EXPECT_THAT(Drain(req),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "remote read: Prometheus answered HTTP 400: exceeded sample limit "));
  {
    std::lock_guard lock(prom_.mu);
    prom_.read_reply = HttpReply(200, "application/x-protobuf", "xx");
  }
  EXPECT_THAT(Drain(req), StatusHasSubstr("expected Content-Type"));
}

TEST_F(SidecarBackendTest, SkipChunksUsesTheSeriesApi) {
  {
    std::lock_guard lock(prom_.mu);
    prom_.series_body =
        R"({"status":"success","data":[{"__name__":"up","job":"b"},{"__name__":"up","job":"a"}]})";
  }
  thanos::SeriesRequest req = Request({M(thanos::LabelMatcher::EQ, "__name__", "up")});
  req.set_skip_chunks(true);
  req.add_without_replica_labels("replica");
  absl::StatusOr<std::vector<thanos::Series>> got = Drain(req);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(LabelsString((*got)[0]), "__name__=up,cluster=host,job=a,");
  EXPECT_EQ((*got)[0].chunks_size(), 0);
  std::lock_guard lock(prom_.mu);
  EXPECT_EQ(prom_.targets.back(),
            "/api/v1/series?match[]=%7B__name__%3D%22up%22%7D&start=1.000"
            "&end=100.000");
}

TEST_F(SidecarBackendTest, LabelNamesAddExternalAndDropReplicaLabels) {
  thanos::LabelNamesRequest req;
  req.set_start(0);
  req.set_end(100000);
  *req.add_matchers() = M(thanos::LabelMatcher::EQ, "job", "x");
  req.add_without_replica_labels("replica");
  absl::StatusOr<thanos::LabelNamesResponse> got = backend_->LabelNames(req, ctx_);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->names(), ElementsAre("__name__", "cluster", "job"));
  {
    std::lock_guard lock(prom_.mu);
    EXPECT_EQ(prom_.targets.back(),
              "/api/v1/labels?match[]=%7Bjob%3D%22x%22%7D&start=0.000&end=100.000");
    prom_.labels_body = R"({"status":"success","data":[]})";
  }
  got = backend_->LabelNames(req, ctx_);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->names().empty());
  *req.add_matchers() = M(thanos::LabelMatcher::EQ, "cluster", "member");
  EXPECT_TRUE(backend_->LabelNames(req, ctx_)->names().empty());
}

TEST_F(SidecarBackendTest, LabelValuesOfExternalAndSeriesLabels) {
  thanos::LabelValuesRequest req;
  req.set_label("job");
  absl::StatusOr<thanos::LabelValuesResponse> got = backend_->LabelValues(req, ctx_);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->values(), ElementsAre("a", "b"));
  req.set_label("cluster");
  EXPECT_THAT(backend_->LabelValues(req, ctx_)->values(), ElementsAre("host"));
  req.add_without_replica_labels("cluster");
  EXPECT_TRUE(backend_->LabelValues(req, ctx_)->values().empty());
  req.clear_without_replica_labels();
  req.set_limit(1);
  req.set_label("job");
  EXPECT_THAT(backend_->LabelValues(req, ctx_)->values(), ElementsAre("a"));
  req.set_label("");
  EXPECT_THAT(backend_->LabelValues(req, ctx_), StatusIs(absl::StatusCode::kInvalidArgument));
  {
    std::lock_guard lock(prom_.mu);
    prom_.values_body = R"({"status":"error","errorType":"bad_data","error":"boom"})";
  }
  req.set_label("job");
  EXPECT_THAT(backend_->LabelValues(req, ctx_), StatusHasSubstr("boom"));
}

TEST(ParseMinTimeTest, FixedRelativeAndBad) {
  EXPECT_EQ(*ParseMinTime("2026-01-02T03:04:05Z")->fixed_ms, 1767323045000);
  absl::StatusOr<MinTimeSpec> rel = ParseMinTime("-2h");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->Resolve(10'000'000), 10'000'000 - 7'200'000);
  EXPECT_EQ(ParseMinTime("1d")->relative_ms, 86'400'000);
  EXPECT_EQ(*ParseMinTime("")->fixed_ms, std::numeric_limits<int64_t>::min());
  EXPECT_THAT(ParseMinTime("yesterday"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace paodin::storeapi
