#include "storeapi/client/series_stream.h"

#include <atomic>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <grpcpp/generic/async_generic_service.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"
#include "storeapi/client/testing/fake_store.h"

namespace paodin::storeapi {
namespace {

using ::paodin::storeapi::testing::FakeStore;
using ::paodin::storeapi::testing::FakeStoreConfig;
using ::paodin::storeapi::testing::MakeSeries;
using ::paodin::storeapi::testing::RegularSamples;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

thanos::SeriesRequest AllSeriesRequest() {
  thanos::SeriesRequest req;
  req.set_min_time(0);
  req.set_max_time(1'000'000'000);
  thanos::LabelMatcher* m = req.add_matchers();
  m->set_type(thanos::LabelMatcher::RE);
  m->set_name("__name__");
  m->set_value(".+");
  return req;
}

FakeStoreConfig ThreeSeries() {
  FakeStoreConfig cfg;
  cfg.external_labels = {{"cluster", "a"}};
  for (const char* job : {"api", "db", "web"}) {
    cfg.series.push_back(
        MakeSeries({{"__name__", "up"}, {"job", job}}, RegularSamples(0, 15000, 300), 120));
  }
  return cfg;
}

struct Drained {
  std::vector<std::string> labels;
  std::vector<size_t> chunk_counts;
  absl::Status store_error;
  std::vector<std::string> warnings;
};

Drained Drain(SeriesStream& stream) {
  Drained d;
  engine::QueryContext ctx;
  StoreSeries s;
  for (;;) {
    absl::StatusOr<bool> more = stream.Next(&s, ctx);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more)
      break;
    d.labels.push_back(s.labels.ToString());
    d.chunk_counts.push_back(s.chunks.size());
  }
  d.store_error = stream.store_error();
  d.warnings = stream.TakeWarnings();
  return d;
}

class SeriesStreamTest : public ::testing::Test {
 protected:
  std::unique_ptr<SeriesStream> Open(FakeStore& store, SeriesStreamOptions options = {},
                                     ChannelOptions channel = {},
                                     thanos::SeriesRequest req = AllSeriesRequest()) {
    options.store_name = store.address();
    auto client =
        std::make_shared<StoreClient>(store.address(), MakeStoreChannel(store.address(), channel));
    return SeriesStream::Open(client, req, options);
  }
};

// A server that answers every call with fixed raw frames (any bytes, valid or not), then OK.
class RawFrameServer {
 public:
  explicit RawFrameServer(std::vector<std::string> frames) : service_(std::move(frames)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
  }

  ~RawFrameServer() { server_->Shutdown(); }

  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }

 private:
  class Service : public grpc::CallbackGenericService {
   public:
    explicit Service(std::vector<std::string> frames) : frames_(std::move(frames)) {}

    grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext*) override {
      return new Writer(frames_);
    }

   private:
    class Writer : public grpc::ServerGenericBidiReactor {
     public:
      explicit Writer(const std::vector<std::string>& frames) : frames_(frames) { Next(); }

      void OnWriteDone(bool ok) override {
        if (ok) {
          Next();
        } else {
          Finish(grpc::Status::CANCELLED);
        }
      }

      void OnDone() override { delete this; }

     private:
      void Next() {
        if (next_ == frames_.size()) {
          Finish(grpc::Status::OK);
          return;
        }
        grpc::Slice slice(frames_[next_++]);
        buffer_ = grpc::ByteBuffer(&slice, 1);
        StartWrite(&buffer_);
      }

      const std::vector<std::string>& frames_;
      size_t next_ = 0;
      grpc::ByteBuffer buffer_;
    };

    std::vector<std::string> frames_;
  };

  Service service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

thanos::Series WireSeries(std::vector<std::pair<std::string, std::string>> labels,
                          std::vector<thanos::Chunk::Encoding> chunk_types) {
  thanos::Series s;
  for (const auto& [name, value] : labels) {
    thanos::Label* l = s.add_labels();
    l->set_name(name);
    l->set_value(value);
  }
  int64_t t = 0;
  for (thanos::Chunk::Encoding type : chunk_types) {
    thanos::AggrChunk* c = s.add_chunks();
    c->set_min_time(t);
    c->set_max_time(t + 10);
    t += 100;
    c->mutable_raw()->set_type(type);
    c->mutable_raw()->set_data("chunk");
  }
  return s;
}

std::string SeriesFrameBytes(const thanos::Series& s) {
  thanos::SeriesResponse r;
  *r.mutable_series() = s;
  return r.SerializeAsString();
}

std::unique_ptr<SeriesStream> OpenRaw(const RawFrameServer& server) {
  SeriesStreamOptions options;
  options.store_name = server.address();
  auto client = std::make_shared<StoreClient>(server.address(),
                                              MakeStoreChannel(server.address(), ChannelOptions{}));
  return SeriesStream::Open(client, AllSeriesRequest(), options);
}

TEST(SeriesStreamRawTest, ConvertsFramesLikeThanos) {
  std::vector<std::string> frames;
  thanos::SeriesResponse hints;
  hints.mutable_hints()->set_type_url("type.googleapis.com/thanos.SeriesResponseHints");
  frames.push_back(hints.SerializeAsString());
  // Unsorted labels, an empty value (dropped) and a histogram chunk (dropped with a warning).
  frames.push_back(SeriesFrameBytes(WireSeries({{"job", "api"}, {"__name__", "up"}, {"gone", ""}},
                                               {thanos::Chunk::XOR, thanos::Chunk::HISTOGRAM})));
  // Continuation of the same series.
  frames.push_back(
      SeriesFrameBytes(WireSeries({{"__name__", "up"}, {"job", "api"}}, {thanos::Chunk::XOR})));
  thanos::SeriesResponse warning;
  warning.set_warning("partial data");
  frames.push_back(warning.SerializeAsString());
  thanos::SeriesResponse batch;
  *batch.mutable_batch()->add_series() =
      WireSeries({{"__name__", "up"}, {"job", "db"}}, {thanos::Chunk::XOR});
  *batch.mutable_batch()->add_series() =
      WireSeries({{"__name__", "up"}, {"job", "web"}}, {thanos::Chunk::XOR, thanos::Chunk::XOR});
  frames.push_back(batch.SerializeAsString() + std::string("\x38\x05", 2));  // + unknown field
  RawFrameServer server(frames);
  auto stream = OpenRaw(server);
  Drained d = Drain(*stream);
  EXPECT_TRUE(d.store_error.ok()) << d.store_error;
  EXPECT_THAT(d.labels, ElementsAre(R"({__name__="up", job="api"})", R"({__name__="up", job="db"})",
                                    R"({__name__="up", job="web"})"));
  EXPECT_THAT(d.chunk_counts, ElementsAre(2, 1, 2));
  EXPECT_THAT(d.warnings, ElementsAre("partial data", "dropped 1 chunks from " + server.address() +
                                                          ": only raw XOR chunks are supported"));
  EXPECT_EQ(stream->frames_received(), 5);
  size_t total = 0;
  for (const std::string& f : frames)
    total += f.size();
  EXPECT_EQ(stream->bytes_received(), static_cast<int64_t>(total));
}

TEST(SeriesStreamRawTest, MalformedFrameIsAStoreError) {
  RawFrameServer server({SeriesFrameBytes(WireSeries({{"job", "a"}}, {thanos::Chunk::XOR})),
                         std::string("\x0a\x09\x0a", 3),
                         SeriesFrameBytes(WireSeries({{"job", "b"}}, {thanos::Chunk::XOR}))});
  auto stream = OpenRaw(server);
  Drained d = Drain(*stream);
  EXPECT_THAT(d.labels, ElementsAre(R"({job="a"})"));
  EXPECT_THAT(d.store_error, paodin::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(d.store_error.message()),
              HasSubstr("receive series from " + server.address() + ": malformed SeriesResponse"));
}

TEST_F(SeriesStreamTest, ReadsEverySeriesInOrderWithExternalLabels) {
  FakeStore store(ThreeSeries());
  ASSERT_TRUE(store.Start().ok());
  auto stream = Open(store);
  Drained d = Drain(*stream);
  EXPECT_TRUE(d.store_error.ok()) << d.store_error;
  EXPECT_THAT(d.labels, ElementsAre(R"({__name__="up", cluster="a", job="api"})",
                                    R"({__name__="up", cluster="a", job="db"})",
                                    R"({__name__="up", cluster="a", job="web"})"));
  EXPECT_THAT(d.chunk_counts, ElementsAre(3, 3, 3));
}

TEST_F(SeriesStreamTest, UnpacksBatchFrames) {
  FakeStoreConfig cfg = ThreeSeries();
  cfg.batch_size = 2;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  auto stream = Open(store);
  Drained d = Drain(*stream);
  EXPECT_EQ(d.labels.size(), 3u);
  EXPECT_EQ(stream->frames_received(), 2);
}

TEST_F(SeriesStreamTest, JoinsConsecutiveFramesOfOneSeries) {
  FakeStoreConfig cfg = ThreeSeries();
  cfg.frames_per_series = 3;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  auto stream = Open(store);
  Drained d = Drain(*stream);
  EXPECT_EQ(stream->frames_received(), 9);
  EXPECT_THAT(d.chunk_counts, ElementsAre(3, 3, 3));
}

TEST_F(SeriesStreamTest, CollectsWarningFramesAndSendsTenant) {
  FakeStoreConfig cfg = ThreeSeries();
  cfg.warning = "block 01 is being compacted";
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  SeriesStreamOptions options;
  options.tenant = "team-a";
  auto stream = Open(store, options);
  Drained d = Drain(*stream);
  EXPECT_THAT(d.warnings, ElementsAre("block 01 is being compacted"));
  EXPECT_EQ(store.last_tenant(), "team-a");
}

TEST_F(SeriesStreamTest, StoreFailureMidStreamEndsStreamWithError) {
  FakeStoreConfig cfg = ThreeSeries();
  cfg.fail_after_frames = 2;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  auto stream = Open(store);
  Drained d = Drain(*stream);
  EXPECT_EQ(d.labels.size(), 2u);
  EXPECT_THAT(d.store_error, paodin::testing::StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(d.store_error.message()),
              HasSubstr("receive series from " + store.address() +
                        ": rpc error: code = Unavailable desc = injected failure"));
}

TEST_F(SeriesStreamTest, ConnectionRefusedIsAFetchError) {
  std::string address;
  {
    FakeStore store(ThreeSeries());
    ASSERT_TRUE(store.Start().ok());
    address = store.address();
  }
  auto client = std::make_shared<StoreClient>(address, MakeStoreChannel(address, {}));
  SeriesStreamOptions options;
  options.store_name = address;
  auto stream = SeriesStream::Open(client, AllSeriesRequest(), options);
  Drained d = Drain(*stream);
  EXPECT_TRUE(d.labels.empty());
  EXPECT_THAT(std::string(d.store_error.message()), HasSubstr("fetch series for " + address));
}

TEST_F(SeriesStreamTest, SilentStoreTripsTheInactivityTimer) {
  FakeStoreConfig cfg = ThreeSeries();
  cfg.stall_after_frames = 1;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  SeriesStreamOptions options;
  options.response_timeout = std::chrono::milliseconds(200);
  auto stream = Open(store, options);
  Drained d = Drain(*stream);
  EXPECT_EQ(d.labels.size(), 1u);
  EXPECT_EQ(d.store_error.message(), "failed to receive any data in 200ms from " + store.address());
}

TEST_F(SeriesStreamTest, CancelledQueryStopsWaitingOnASilentStore) {
  FakeStoreConfig cfg = ThreeSeries();
  cfg.stall_after_frames = 0;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  auto stream = Open(store);
  std::atomic<bool> cancelled{true};
  engine::QueryContext ctx;
  ctx.cancelled = &cancelled;
  StoreSeries s;
  EXPECT_THAT(stream->Next(&s, ctx), paodin::testing::StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(SeriesStreamTest, PastDeadlineFailsWithDeadlineExceeded) {
  FakeStoreConfig cfg = ThreeSeries();
  cfg.stall_after_frames = 0;
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  SeriesStreamOptions options;
  options.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  auto stream = Open(store, options);
  StoreSeries s;
  EXPECT_THAT(stream->Next(&s, engine::QueryContext{}),
              paodin::testing::StatusIs(absl::StatusCode::kDeadlineExceeded));
}

TEST_F(SeriesStreamTest, StripsReplicaLabelsAndResorts) {
  FakeStoreConfig cfg;
  cfg.supports_without_replica_labels = false;
  cfg.series.push_back(
      MakeSeries({{"__name__", "up"}, {"a", "1"}, {"replica", "x"}}, RegularSamples(0, 1000, 10)));
  cfg.series.push_back(MakeSeries({{"__name__", "up"}, {"a", "1"}, {"replica", "y"}},
                                  RegularSamples(500, 1000, 10)));
  cfg.series.push_back(
      MakeSeries({{"__name__", "up"}, {"a", "0"}, {"zz", "1"}}, RegularSamples(0, 1000, 10)));
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  SeriesStreamOptions options;
  options.strip_labels = {"replica"};
  auto stream = Open(store, options);
  Drained d = Drain(*stream);
  // Stripping makes the first two series equal (joined, as adjacent frames of one series) and
  // the third now sorts first.
  EXPECT_THAT(d.labels,
              ElementsAre(R"({__name__="up", a="0", zz="1"})", R"({__name__="up", a="1"})"));
  EXPECT_THAT(d.chunk_counts, ElementsAre(1, 2));
}

TEST_F(SeriesStreamTest, UnsortedSeriesIsAStoreError) {
  FakeStoreConfig cfg = ThreeSeries();
  std::swap(cfg.series[0], cfg.series[2]);
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  auto stream = Open(store);
  Drained d = Drain(*stream);
  EXPECT_EQ(d.labels.size(), 1u);
  EXPECT_THAT(std::string(d.store_error.message()), HasSubstr("series out of order"));
}

TEST_F(SeriesStreamTest, FrameAboveTheReceiveLimitIsAStoreError) {
  FakeStoreConfig cfg;
  cfg.series.push_back(MakeSeries({{"__name__", "big"}}, RegularSamples(0, 1000, 120000, [](int i) {
                                    return static_cast<double>(int64_t{i} * 7919 % 10007) / 3.0;
                                  })));
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  ChannelOptions channel;
  channel.max_recv_message_bytes = 64 << 10;
  auto stream = Open(store, {}, channel);
  Drained d = Drain(*stream);
  EXPECT_TRUE(d.labels.empty());
  EXPECT_THAT(std::string(d.store_error.message()), HasSubstr("ResourceExhausted"));
}

TEST_F(SeriesStreamTest, AcceptsFramesFarAboveFourMiB) {
  FakeStoreConfig cfg;
  cfg.series.push_back(MakeSeries(
      {{"__name__", "big"}},
      RegularSamples(0, 1000, 1'200'000,
                     [](int i) { return static_cast<double>(int64_t{i} * 7919 % 10007) / 3.0; }),
      65000));
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  auto stream = Open(store);
  Drained d = Drain(*stream);
  EXPECT_TRUE(d.store_error.ok()) << d.store_error;
  ASSERT_EQ(d.labels.size(), 1u);
  EXPECT_GT(stream->bytes_received(), 4 << 20);
}

TEST_F(SeriesStreamTest, FullBufferPausesReading) {
  FakeStoreConfig cfg;
  for (int i = 0; i < 50; ++i) {
    cfg.series.push_back(MakeSeries({{"__name__", "m"}, {"i", fmt::format("{:03}", i)}},
                                    RegularSamples(0, 1000, 10)));
  }
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  SeriesStreamOptions options;
  options.max_buffered_bytes = 1;  // pause after every frame
  auto stream = Open(store, options);
  StoreSeries s;
  int consumed = 0;
  for (;;) {
    // Reading never runs more than one frame ahead of the consumer.
    EXPECT_LE(stream->frames_received(), consumed + 2);
    absl::StatusOr<bool> more = stream->Next(&s, engine::QueryContext{});
    ASSERT_TRUE(more.ok());
    if (!*more)
      break;
    ++consumed;
  }
  EXPECT_EQ(consumed, 50);
}

TEST_F(SeriesStreamTest, DestroyingAPausedStreamCancelsIt) {
  FakeStoreConfig cfg;
  for (int i = 0; i < 50; ++i) {
    cfg.series.push_back(MakeSeries({{"__name__", "m"}, {"i", fmt::format("{:03}", i)}},
                                    RegularSamples(0, 1000, 10)));
  }
  FakeStore store(cfg);
  ASSERT_TRUE(store.Start().ok());
  SeriesStreamOptions options;
  options.max_buffered_bytes = 1;
  auto stream = Open(store, options);
  StoreSeries s;
  ASSERT_TRUE(*stream->Next(&s, engine::QueryContext{}));
  stream.reset();  // must return (and leak nothing under ASan)
  SUCCEED();
}

}  // namespace
}  // namespace paodin::storeapi
