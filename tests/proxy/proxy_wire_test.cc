// Wire checks of the StoreAPI client: the gRPC method paths it calls, and every field of the
// Info and Series messages as our client reads them from a server.
#include <mutex>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <grpcpp/generic/async_generic_service.h>
#include <gtest/gtest.h>

#include "google/protobuf/any.pb.h"
#include "storeapi/client/endpoint_set.h"
#include "storeapi/client/series_stream.h"
#include "storeapi/client/testing/fake_store.h"
#include "storeapi/proxy/proxy.h"

namespace paodin::tests {
namespace {

using ::testing::ElementsAre;
using ::testing::IsSupersetOf;

// Records the method path of every call and answers Unimplemented.
class RecordingService : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      methods_.insert(ctx->method());
    }

    class Reactor : public grpc::ServerGenericBidiReactor {
     public:
      Reactor() { Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "recorded")); }

      void OnDone() override { delete this; }
    };

    return new Reactor();
  }

  std::set<std::string> methods() {
    std::lock_guard<std::mutex> lock(mu_);
    return methods_;
  }

 private:
  std::mutex mu_;
  std::set<std::string> methods_;
};

TEST(ProxyWireTest, CallsTheThanosMethodPaths) {
  RecordingService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&service);
  auto server = builder.BuildAndStart();
  ASSERT_NE(port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);

  storeapi::EndpointSetOptions eo;
  eo.endpoints = {address};
  eo.info_timeout = std::chrono::milliseconds(1000);
  storeapi::EndpointSet set(eo);
  set.Refresh();

  // Use the endpoint as a strict store so the proxy queries it without Info.
  auto info = std::make_shared<storeapi::EndpointInfo>();
  info->has_store_api = true;
  auto client =
      std::make_shared<storeapi::StoreClient>(address, storeapi::MakeStoreChannel(address, {}));
  auto stores = std::make_shared<storeapi::StaticStoreProvider>(
      std::vector<storeapi::StoreRef>{{client, info}});
  storeapi::Proxy proxy(stores, {});
  const std::vector<engine::Matcher> m = {
      *engine::Matcher::Make(engine::MatchType::kEqual, "__name__", "up")};
  engine::SelectHints hints;
  hints.end_ms = 1000;
  auto s = proxy.Select(hints, m, engine::QueryContext{});
  ASSERT_TRUE(s.ok());
  while ((*s)->Next()) {
  }
  (void)proxy.LabelNames(0, 1000, m, engine::QueryContext{});
  (void)proxy.LabelValues("job", 0, 1000, m, engine::QueryContext{});
  EXPECT_THAT(service.methods(),
              ElementsAre("/thanos.Store/LabelNames", "/thanos.Store/LabelValues",
                          "/thanos.Store/Series", "/thanos.info.Info/Info"));
  server->Shutdown();
}

TEST(ProxyWireTest, ReadsEveryInfoField) {
  thanos::info::InfoResponse resp;
  resp.set_componenttype("store");
  for (const char* cluster : {"east", "west"}) {
    thanos::Label* l = resp.add_label_sets()->add_labels();
    l->set_name("cluster");
    l->set_value(cluster);
  }
  resp.mutable_store()->set_min_time(-5);
  resp.mutable_store()->set_max_time(99);
  resp.mutable_store()->set_supports_sharding(true);
  resp.mutable_store()->set_supports_without_replica_labels(true);
  resp.mutable_store()->add_tsdb_infos()->set_min_time(1);
  resp.mutable_rules();
  resp.mutable_exemplars()->set_min_time(3);
  // Round trip through the wire bytes.
  thanos::info::InfoResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(resp.SerializeAsString()));
  auto info = storeapi::EndpointInfoFromProto(parsed);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->component_type, "store");
  ASSERT_EQ(info->label_sets.size(), 2u);
  EXPECT_EQ(info->label_sets[1].ToString(), R"({cluster="west"})");
  EXPECT_TRUE(info->has_store_api);
  EXPECT_EQ(info->min_time, -5);
  EXPECT_EQ(info->max_time, 99);
  EXPECT_TRUE(info->supports_sharding);
  EXPECT_TRUE(info->supports_without_replica_labels);

  thanos::info::InfoResponse no_store;
  no_store.set_componenttype("rule");
  EXPECT_FALSE(storeapi::EndpointInfoFromProto(no_store)->has_store_api);
  thanos::info::InfoResponse dup;
  thanos::ZLabelSet* set = dup.add_label_sets();
  for (int i = 0; i < 2; ++i) {
    thanos::Label* l = set->add_labels();
    l->set_name("a");
    l->set_value("x");
  }
  EXPECT_FALSE(storeapi::EndpointInfoFromProto(dup).ok());
}

// Sends one frame of every kind and checks the request it got.
class AllFramesStore final : public thanos::Store::Service {
 public:
  grpc::Status Series(grpc::ServerContext*, const thanos::SeriesRequest* req,
                      grpc::ServerWriter<thanos::SeriesResponse>* writer) override {
    request = *req;
    thanos::SeriesResponse w;
    w.set_warning("partial data");
    writer->Write(w);
    thanos::SeriesResponse h;
    h.mutable_hints()->set_type_url("type.googleapis.com/hintspb.SeriesResponseHints");
    writer->Write(h);
    thanos::Series s =
        storeapi::testing::MakeSeries({{"__name__", "x"}, {"a", "1"}}, {{10, 1}, {20, 2}});
    // A downsampled-only chunk (no raw) and a raw chunk with an unsupported encoding.
    thanos::AggrChunk* agg = s.add_chunks();
    agg->set_min_time(30);
    agg->set_max_time(40);
    agg->mutable_count()->set_data("zz");
    thanos::AggrChunk* hist = s.add_chunks();
    hist->set_min_time(50);
    hist->set_max_time(60);
    hist->mutable_raw()->set_type(thanos::Chunk::HISTOGRAM);
    hist->mutable_raw()->set_data("hh");
    thanos::SeriesResponse one;
    *one.mutable_series() = s;
    writer->Write(one);
    thanos::SeriesResponse batch;
    *batch.mutable_batch()->add_series() =
        storeapi::testing::MakeSeries({{"__name__", "x"}, {"a", "1"}}, {{70, 3}});
    *batch.mutable_batch()->add_series() =
        storeapi::testing::MakeSeries({{"__name__", "x"}, {"a", "2"}}, {{10, 4}});
    writer->Write(batch);
    return grpc::Status::OK;
  }

  thanos::SeriesRequest request;
};

TEST(ProxyWireTest, ReadsEverySeriesFrameKind) {
  AllFramesStore service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto client =
      std::make_shared<storeapi::StoreClient>(address, storeapi::MakeStoreChannel(address, {}));
  thanos::SeriesRequest req;
  req.set_min_time(1);
  req.set_max_time(2);
  req.set_skip_chunks(true);
  req.add_without_replica_labels("replica");
  req.mutable_shard_info()->set_total_shards(2);
  req.set_limit(7);
  req.set_response_batch_size(64);
  storeapi::SeriesStreamOptions options;
  options.store_name = address;
  auto stream = storeapi::SeriesStream::Open(client, req, options);
  std::vector<std::string> labels;
  std::vector<size_t> chunks;
  storeapi::StoreSeries s;
  while (*stream->Next(&s, engine::QueryContext{})) {
    labels.push_back(s.labels.ToString());
    chunks.push_back(s.chunks.size());
  }
  EXPECT_TRUE(stream->store_error().ok());
  // The batch's first series continues the single-series frame before it.
  EXPECT_THAT(labels, ElementsAre(R"({__name__="x", a="1"})", R"({__name__="x", a="2"})"));
  EXPECT_THAT(chunks, ElementsAre(2, 1));
  EXPECT_THAT(stream->TakeWarnings(),
              ElementsAre("partial data", ::testing::HasSubstr("dropped 2 chunks")));
  EXPECT_EQ(service.request.min_time(), 1);
  EXPECT_TRUE(service.request.skip_chunks());
  EXPECT_THAT(service.request.without_replica_labels(), ElementsAre("replica"));
  EXPECT_EQ(service.request.shard_info().total_shards(), 2);
  EXPECT_EQ(service.request.limit(), 7);
  EXPECT_EQ(service.request.response_batch_size(), 64);
  server->Shutdown();
}

}  // namespace
}  // namespace paodin::tests
