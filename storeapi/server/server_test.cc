#include "storeapi/server/server.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "proto/thanos/info.grpc.pb.h"
#include "proto/thanos/store.grpc.pb.h"

#include "engine/util/status_matchers.h"
#include "storeapi/server/memstore_backend.h"
#include <sys/socket.h>

namespace paodin::storeapi {
namespace {

using engine::Labels;
using ::paodin::testing::IsOk;
using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *Labels::FromPairs(std::move(pairs));
}

// A client of a server started on a free loopback port.
class Loopback {
 public:
  explicit Loopback(std::shared_ptr<StoreBackend> backend,
                    std::shared_ptr<prometheus::Registry> registry = nullptr) {
    StoreServerOptions options;
    options.address = "127.0.0.1:0";
    options.workers = 2;
    options.registry = std::move(registry);
    auto server = StoreServer::Start(std::move(backend), options);
    EXPECT_THAT(server, IsOk());
    server_ = *std::move(server);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    channel_ =
        grpc::CreateCustomChannel(server_->address(), grpc::InsecureChannelCredentials(), args);
    store_ = thanos::Store::NewStub(channel_);
    info_ = thanos::info::Info::NewStub(channel_);
  }

  StoreServer& server() { return *server_; }

  thanos::Store::Stub& store() { return *store_; }

  thanos::info::Info::Stub& info() { return *info_; }

  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  // All frames of one Series call and its final status.
  grpc::Status Series(const thanos::SeriesRequest& r, std::vector<thanos::SeriesResponse>* out) {
    grpc::ClientContext ctx;
    auto reader = store_->Series(&ctx, r);
    thanos::SeriesResponse frame;
    while (reader->Read(&frame)) {
      out->push_back(frame);
    }
    return reader->Finish();
  }

 private:
  std::unique_ptr<StoreServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<thanos::Store::Stub> store_;
  std::unique_ptr<thanos::info::Info::Stub> info_;
};

thanos::SeriesRequest Request(std::string name) {
  thanos::SeriesRequest r;
  r.set_min_time(0);
  r.set_max_time(1'000'000'000);
  thanos::LabelMatcher* m = r.add_matchers();
  m->set_type(thanos::LabelMatcher::EQ);
  m->set_name("__name__");
  m->set_value(std::move(name));
  return r;
}

std::shared_ptr<MemStore> TenSeries() {
  auto store = std::make_shared<MemStore>();
  for (int i = 9; i >= 0; --i) {
    Labels l = L({{"__name__", "m"}, {"i", std::to_string(i)}});
    for (int t = 0; t < 130; ++t) {
      EXPECT_THAT(store->Append(l, t * 1000, t), IsOk());
    }
  }
  return store;
}

std::vector<std::string> SeriesIndexes(const std::vector<thanos::SeriesResponse>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) {
    if (f.has_series()) {
      out.push_back(f.series().labels(1).value());
    }
    for (const auto& s : f.batch().series()) {
      out.push_back(s.labels(1).value());
    }
  }
  return out;
}

TEST(StoreServerTest, InfoOverTheWire) {
  Loopback lb(std::make_shared<MemStoreBackend>(TenSeries(), L({{"cluster", "host"}})));
  grpc::ClientContext ctx;
  thanos::info::InfoResponse info;
  ASSERT_TRUE(lb.info().Info(&ctx, thanos::info::InfoRequest(), &info).ok());
  EXPECT_EQ(info.componenttype(), "store");
  EXPECT_EQ(info.label_sets(0).labels(0).value(), "host");
  EXPECT_EQ(info.store().max_time(), 129'000);
  EXPECT_TRUE(info.store().supports_without_replica_labels());
  EXPECT_EQ(lb.server().stats().info_requests, 1);
}

TEST(StoreServerTest, SeriesOneFramePerSeriesOrBatched) {
  Loopback lb(std::make_shared<MemStoreBackend>(TenSeries(), Labels()));
  const std::vector<std::string> want = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  for (int64_t batch : {0, 1}) {
    std::vector<thanos::SeriesResponse> frames;
    auto r = Request("m");
    r.set_response_batch_size(batch);
    ASSERT_TRUE(lb.Series(r, &frames).ok());
    EXPECT_EQ(frames.size(), 10u);
    EXPECT_EQ(SeriesIndexes(frames), want);
    EXPECT_EQ(frames[0].series().chunks_size(), 2);
  }
  std::vector<thanos::SeriesResponse> frames;
  auto r = Request("m");
  r.set_response_batch_size(3);
  ASSERT_TRUE(lb.Series(r, &frames).ok());
  ASSERT_EQ(frames.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(frames[i].batch().series_size(), 3);
  }
  EXPECT_EQ(frames[3].batch().series_size(), 1);
  EXPECT_EQ(SeriesIndexes(frames), want);

  frames.clear();
  r.set_limit(4);
  ASSERT_TRUE(lb.Series(r, &frames).ok());
  EXPECT_THAT(SeriesIndexes(frames), ElementsAre("0", "1", "2", "3"));
  EXPECT_EQ(lb.server().stats().series_requests, 4);
  EXPECT_EQ(lb.server().stats().series_sent, 34);
}

TEST(StoreServerTest, BadRequestIsInvalidArgument) {
  Loopback lb(std::make_shared<MemStoreBackend>(TenSeries(), Labels()));
  std::vector<thanos::SeriesResponse> frames;
  thanos::SeriesRequest none;
  grpc::Status st = lb.Series(none, &frames);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "no matchers specified (excluding external labels)");
  auto bad = Request("m");
  bad.mutable_matchers(0)->set_type(thanos::LabelMatcher::RE);
  bad.mutable_matchers(0)->set_value("(");
  st = lb.Series(bad, &frames);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("error parsing regexp"));
  EXPECT_TRUE(frames.empty());
  EXPECT_EQ(lb.server().stats().failed_requests, 2);
}

// Sends `bytes` as the request of a Series call (bypassing the stub's serializer) and returns
// the call's status once the server ended it.
grpc::Status RawSeriesCall(Loopback& lb, std::string_view bytes) {
  grpc::GenericStub stub(lb.channel());
  grpc::ClientContext ctx;
  grpc::CompletionQueue cq;
  void* tag = nullptr;
  bool ok = false;
  auto wait = [&] { EXPECT_TRUE(cq.Next(&tag, &ok)); };
  auto call = stub.PrepareCall(&ctx, "/thanos.Store/Series", &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  wait();
  grpc::Slice slice(bytes.data(), bytes.size());
  grpc::ByteBuffer request(&slice, 1);
  call->WriteLast(request, grpc::WriteOptions(), reinterpret_cast<void*>(2));
  wait();
  grpc::ByteBuffer frame;
  call->Read(&frame, reinterpret_cast<void*>(3));
  wait();
  EXPECT_FALSE(ok) << "no frame expected";
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  wait();
  return status;
}

TEST(StoreServerTest, UnparsableSeriesRequestIsInvalidArgument) {
  Loopback lb(std::make_shared<MemStoreBackend>(TenSeries(), Labels()));
  for (std::string_view bytes : {std::string_view("\xff\xff\xff"), std::string_view("\x0a\x05"
                                                                                    "ab")}) {
    grpc::Status st = RawSeriesCall(lb, bytes);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(st.error_message(), HasSubstr("cannot parse the SeriesRequest"));
  }
  // The server still answers well-formed calls.
  std::vector<thanos::SeriesResponse> frames;
  EXPECT_TRUE(lb.Series(Request("m"), &frames).ok());
  EXPECT_EQ(frames.size(), 10u);
  EXPECT_EQ(lb.server().stats().failed_requests, 2);
}

TEST(StoreServerTest, LabelCallsOverTheWire) {
  Loopback lb(std::make_shared<MemStoreBackend>(TenSeries(), L({{"cluster", "host"}})));
  {
    grpc::ClientContext ctx;
    thanos::LabelNamesRequest r;
    r.set_start(0);
    r.set_end(1'000'000);
    thanos::LabelNamesResponse resp;
    ASSERT_TRUE(lb.store().LabelNames(&ctx, r, &resp).ok());
    EXPECT_THAT(resp.names(), ElementsAre("__name__", "cluster", "i"));
  }
  {
    grpc::ClientContext ctx;
    thanos::LabelValuesRequest r;
    r.set_label("i");
    r.set_start(0);
    r.set_end(1'000'000);
    r.set_limit(2);
    thanos::LabelValuesResponse resp;
    ASSERT_TRUE(lb.store().LabelValues(&ctx, r, &resp).ok());
    EXPECT_THAT(resp.values(), ElementsAre("0", "1"));
  }
  {
    grpc::ClientContext ctx;
    thanos::LabelValuesRequest r;
    thanos::LabelValuesResponse resp;
    EXPECT_EQ(lb.store().LabelValues(&ctx, r, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_EQ(lb.server().stats().label_names_requests, 1);
  EXPECT_EQ(lb.server().stats().label_values_requests, 2);
}

TEST(StoreServerTest, MessagesLargerThanFourMiBPassBothWays) {
  auto store = std::make_shared<MemStore>();
  Labels l = L({{"__name__", "big"}});
  // Random value bits compress badly: about 9 bytes per sample.
  uint64_t x = 88172645463325252ULL;
  for (int t = 0; t < 700'000; ++t) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double v;
    std::memcpy(&v, &x, sizeof v);
    ASSERT_THAT(store->Append(l, t, v), IsOk());
  }
  Loopback lb(std::make_shared<MemStoreBackend>(store, Labels()));
  auto r = Request("big");
  thanos::LabelMatcher* huge = r.add_matchers();
  huge->set_type(thanos::LabelMatcher::NEQ);
  huge->set_name("x");
  huge->set_value(std::string(5 << 20, 'a'));
  std::vector<thanos::SeriesResponse> frames;
  grpc::Status st = lb.Series(r, &frames);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_GT(frames[0].ByteSizeLong(), size_t{5} << 20);
}

TEST(StoreServerTest, MetricsAreRegistered) {
  auto registry = std::make_shared<prometheus::Registry>();
  Loopback lb(std::make_shared<MemStoreBackend>(TenSeries(), Labels()), registry);
  std::vector<thanos::SeriesResponse> frames;
  ASSERT_TRUE(lb.Series(Request("m"), &frames).ok());
  ASSERT_TRUE(lb.Series(Request("none"), &frames).ok());
  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  EXPECT_THAT(text, HasSubstr("paodin_store_series_requests_total 2"));
  EXPECT_THAT(text, HasSubstr("paodin_store_series_sent_total 10"));
  EXPECT_THAT(text, HasSubstr("paodin_store_info_requests_total 0"));
}

// A backend whose stream is scripted: series, warnings and errors.
class ScriptedBackend final : public StoreBackend {
 public:
  struct Step {
    enum Kind { kSeries, kWarning, kError } kind;

    std::string text;
  };

  explicit ScriptedBackend(std::vector<Step> steps) : steps_(std::move(steps)) {}

  absl::StatusOr<thanos::info::InfoResponse> Info() override {
    return absl::UnavailableError("not ready");
  }

  absl::StatusOr<std::unique_ptr<SeriesResponseStream>> Series(const thanos::SeriesRequest&,
                                                               const CallContext&) override {
    class Stream final : public SeriesResponseStream {
     public:
      explicit Stream(const std::vector<Step>* steps) : steps_(steps) {}

      absl::StatusOr<bool> Next(thanos::SeriesResponse* out) override {
        if (pos_ == steps_->size()) {
          return false;
        }
        const Step& s = (*steps_)[pos_++];
        switch (s.kind) {
          case Step::kSeries: {
            thanos::Label* l = out->mutable_series()->add_labels();
            l->set_name("s");
            l->set_value(s.text);
            return true;
          }
          case Step::kWarning:
            out->set_warning(s.text);
            return true;
          case Step::kError:
            return absl::InternalError(s.text);
        }
        return false;
      }

     private:
      const std::vector<Step>* steps_;
      size_t pos_ = 0;
    };

    return std::make_unique<Stream>(&steps_);
  }

  absl::StatusOr<thanos::LabelNamesResponse> LabelNames(const thanos::LabelNamesRequest&,
                                                        const CallContext&) override {
    return thanos::LabelNamesResponse();
  }

  absl::StatusOr<thanos::LabelValuesResponse> LabelValues(const thanos::LabelValuesRequest&,
                                                          const CallContext&) override {
    return thanos::LabelValuesResponse();
  }

 private:
  std::vector<Step> steps_;
};

TEST(StoreServerTest, WarningsSplitBatchesAndKeepTheirPlace) {
  using S = ScriptedBackend::Step;
  Loopback lb(std::make_shared<ScriptedBackend>(std::vector<S>{
      {S::kSeries, "a"}, {S::kSeries, "b"}, {S::kWarning, "careful"}, {S::kSeries, "c"}}));
  thanos::SeriesRequest r;
  r.set_response_batch_size(10);
  std::vector<thanos::SeriesResponse> frames;
  ASSERT_TRUE(lb.Series(r, &frames).ok());
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].batch().series_size(), 2);
  EXPECT_EQ(frames[1].warning(), "careful");
  EXPECT_EQ(frames[2].batch().series_size(), 1);
}

TEST(StoreServerTest, BackendErrorsEndTheStreamWithTheirCode) {
  using S = ScriptedBackend::Step;
  Loopback lb(std::make_shared<ScriptedBackend>(
      std::vector<S>{{S::kSeries, "a"}, {S::kError, "disk on fire"}}));
  std::vector<thanos::SeriesResponse> frames;
  grpc::Status st = lb.Series(thanos::SeriesRequest(), &frames);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(st.error_message(), "disk on fire");
  EXPECT_EQ(frames.size(), 1u);
  grpc::ClientContext ctx;
  thanos::info::InfoResponse info;
  EXPECT_EQ(lb.info().Info(&ctx, thanos::info::InfoRequest(), &info).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(StoreServerTest, ClientCancellingMidStreamLeavesTheServerHealthy) {
  auto store = std::make_shared<MemStore>();
  for (int i = 0; i < 5000; ++i) {
    ASSERT_THAT(store->Append(L({{"__name__", "m"}, {"i", std::to_string(i)}}), 1, 1), IsOk());
  }
  Loopback lb(std::make_shared<MemStoreBackend>(store, Labels()));
  for (int round = 0; round < 3; ++round) {
    grpc::ClientContext ctx;
    auto reader = lb.store().Series(&ctx, Request("m"));
    thanos::SeriesResponse frame;
    ASSERT_TRUE(reader->Read(&frame));
    ctx.TryCancel();
    while (reader->Read(&frame)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  std::vector<thanos::SeriesResponse> frames;
  auto r = Request("m");
  r.set_response_batch_size(64);
  ASSERT_TRUE(lb.Series(r, &frames).ok());
  EXPECT_EQ(SeriesIndexes(frames).size(), 5000u);
}

TEST(StoreServerTest, BindFailureNamesTheAddressAndReason) {
  Loopback lb(std::make_shared<MemStoreBackend>(TenSeries(), Labels()));
  StoreServerOptions options;
  options.address = lb.server().address();
  auto second =
      StoreServer::Start(std::make_shared<MemStoreBackend>(TenSeries(), Labels()), options);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(second, StatusHasSubstr("cannot listen for gRPC on " + options.address +
                                      ": Address already in use"));
  options.address = "no-such-host.invalid:1";
  EXPECT_THAT(StoreServer::Start(std::make_shared<MemStoreBackend>(TenSeries(), Labels()), options),
              StatusHasSubstr("cannot listen for gRPC on no-such-host.invalid:1"));
}

}  // namespace
}  // namespace paodin::storeapi
