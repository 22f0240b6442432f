// Byte-level checks of our .proto files against the Thanos StoreAPI and Prometheus remote
// read/write wire formats. Every expected byte string below is computed by hand from the
// protobuf encoding rules (tag = field_number << 3 | wire_type; varint = 0, 64-bit = 1,
// length-delimited = 2), so a wrong field number, type or enum value changes the bytes.

#include <cctype>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>

#include "proto/prometheus/remote.pb.h"
#include "proto/prometheus/types.pb.h"
#include "proto/thanos/info.grpc.pb.h"
#include "proto/thanos/info.pb.h"
#include "proto/thanos/store.grpc.pb.h"
#include "proto/thanos/store.pb.h"
#include "proto/thanos/types.pb.h"
#include "proto/thanos/write.grpc.pb.h"
#include "proto/thanos/write.pb.h"

namespace paodin::proto {
namespace {

using ::google::protobuf::Message;

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

// Lower-case hex of `bytes`, two digits per byte, no separators.
std::string ToHex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

// `spaced` with its whitespace removed, so expectations can be grouped by field.
std::string Compact(const std::string& spaced) {
  std::string out;
  for (char c : spaced) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      out.push_back(c);
    }
  }
  return out;
}

void SetLabel(const std::string& name, const std::string& value, ::thanos::Label* label) {
  label->set_name(name);
  label->set_value(value);
}

void SetLabel(const std::string& name, const std::string& value, ::prometheus::Label* label) {
  label->set_name(name);
  label->set_value(value);
}

struct WireCase {
  std::string name;
  std::function<std::unique_ptr<Message>()> build;
  // Hex of the expected encoding; spaces separate fields for the reader.
  std::string expected_hex;
};

class WireTest : public ::testing::TestWithParam<WireCase> {};

TEST_P(WireTest, SerializesToHandComputedBytes) {
  const WireCase& c = GetParam();
  std::unique_ptr<Message> message = c.build();
  EXPECT_EQ(ToHex(message->SerializeAsString()), Compact(c.expected_hex));
}

TEST_P(WireTest, ParsesHandComputedBytesBackToTheSameMessage) {
  const WireCase& c = GetParam();
  std::unique_ptr<Message> message = c.build();
  std::string bytes = message->SerializeAsString();
  std::unique_ptr<Message> parsed(message->New());
  ASSERT_TRUE(parsed->ParseFromString(bytes));
  EXPECT_EQ(parsed->DebugString(), message->DebugString());
  EXPECT_EQ(parsed->SerializeAsString(), bytes);
}

std::vector<WireCase> ThanosCases() {
  return {
      {"ThanosLabel",
       [] {
         auto m = std::make_unique<::thanos::Label>();
         SetLabel("a", "b", m.get());
         return m;
       },
       "0a0161 120162"},
      {"ThanosLabelMatcherRegex",
       [] {
         auto m = std::make_unique<::thanos::LabelMatcher>();
         m->set_type(::thanos::LabelMatcher::RE);
         m->set_name("job");
         m->set_value("api.*");
         return m;
       },
       "0802 12036a6f62 1a056170692e2a"},
      {"SeriesRequestAllFields",
       [] {
         auto m = std::make_unique<::thanos::SeriesRequest>();
         m->set_min_time(1000);
         m->set_max_time(2000);
         auto* matcher = m->add_matchers();
         matcher->set_type(::thanos::LabelMatcher::EQ);
         matcher->set_name("__name__");
         matcher->set_value("up");
         m->set_max_resolution_window(300000);
         m->add_aggregates(::thanos::COUNT);
         m->add_aggregates(::thanos::SUM);
         m->set_partial_response_strategy(::thanos::ABORT);
         m->set_skip_chunks(true);
         m->mutable_hints()->set_type_url("t");
         auto* hints = m->mutable_query_hints();
         hints->set_step_millis(15000);
         hints->mutable_func()->set_name("rate");
         hints->mutable_grouping()->set_by(true);
         hints->mutable_grouping()->add_labels("job");
         hints->mutable_range()->set_millis(300000);
         auto* shard = m->mutable_shard_info();
         shard->set_shard_index(1);
         shard->set_total_shards(2);
         shard->set_by(true);
         shard->add_labels("pod");
         m->add_without_replica_labels("replica");
         m->set_limit(100);
         m->set_response_batch_size(64);
         return m;
       },
       // 1 min_time, 2 max_time, 3 matcher {name=2, value=3}, 4 max_resolution_window,
       // 5 packed aggregates, 7 strategy, 8 skip_chunks, 9 Any{type_url=1},
       // 12 query_hints {1 step, 2 func{1}, 4 grouping{1 by, 3 labels}, 5 range{1}},
       // 13 shard_info {1, 2, 3, 4}, 14 without_replica_labels, 15 limit,
       // 16 response_batch_size (two-byte tag 80 01).
       "08e807 10d00f 1a0e 12085f5f6e616d655f5f 1a027570 20e0a712 2a020102 3801 4001"
       " 4a03 0a0174"
       " 621a 089875 1206 0a0472617465 2207 0801 1a036a6f62 2a04 08e0a712"
       " 6a0b 0801 1002 1801 2203706f64"
       " 7207 7265706c696361 7864 800140"},
      {"SeriesRequestTimesAreInt64NotZigZag",
       [] {
         auto m = std::make_unique<::thanos::SeriesRequest>();
         m->set_min_time(-1);
         m->set_max_time(kMaxInt64);
         return m;
       },
       "08ffffffffffffffffff01 10ffffffffffffffff7f"},
      {"SeriesRequestDeprecatedFields",
       [] {
         auto m = std::make_unique<::thanos::SeriesRequest>();
         m->set_partial_response_disabled(true);
         m->set_step(1);
         m->set_range(2);
         return m;
       },
       "3001 5001 5802"},
      {"SeriesResponseSeries",
       [] {
         auto m = std::make_unique<::thanos::SeriesResponse>();
         auto* series = m->mutable_series();
         SetLabel("a", "b", series->add_labels());
         auto* chunk = series->add_chunks();
         chunk->set_min_time(1);
         chunk->set_max_time(2);
         chunk->mutable_raw()->set_type(::thanos::Chunk::XOR);
         chunk->mutable_raw()->set_data(std::string("\x00\x01", 2));
         chunk->mutable_raw()->set_hash(5);
         chunk->mutable_counter()->set_type(::thanos::Chunk::FLOAT_HISTOGRAM);
         return m;
       },
       // series=1 {labels=1, chunks=2 {1, 2, raw=3 {data=2, hash=3}, counter=8 {type=1}}}.
       "0a1a 0a06 0a0161 120162 1210 0801 1002 1a06 12020001 1805 4202 0802"},
      {"SeriesResponseWarning",
       [] {
         auto m = std::make_unique<::thanos::SeriesResponse>();
         m->set_warning("w");
         return m;
       },
       "120177"},
      {"SeriesResponseHints",
       [] {
         auto m = std::make_unique<::thanos::SeriesResponse>();
         m->mutable_hints()->set_type_url("x");
         return m;
       },
       "1a03 0a0178"},
      {"SeriesResponseBatch",
       [] {
         auto m = std::make_unique<::thanos::SeriesResponse>();
         auto* batch = m->mutable_batch();
         SetLabel("a", "b", batch->add_series()->add_labels());
         SetLabel("a", "c", batch->add_series()->add_labels());
         return m;
       },
       "2214 0a08 0a06 0a0161 120162 0a08 0a06 0a0161 120163"},
      {"ThanosChunkHistogramWithFullHash",
       [] {
         auto m = std::make_unique<::thanos::Chunk>();
         m->set_type(::thanos::Chunk::HISTOGRAM);
         m->set_data("abc");
         m->set_hash(std::numeric_limits<uint64_t>::max());
         return m;
       },
       "0801 1203616263 18ffffffffffffffffff01"},
      {"AggrChunkEveryAggregateField",
       [] {
         auto m = std::make_unique<::thanos::AggrChunk>();
         m->set_min_time(-2);
         m->set_max_time(3);
         m->mutable_raw();
         m->mutable_count();
         m->mutable_sum();
         m->mutable_min();
         m->mutable_max();
         m->mutable_counter();
         return m;
       },
       // Empty but present sub-messages: raw=3, count=4, sum=5, min=6, max=7, counter=8.
       "08feffffffffffffffff01 1003 1a00 2200 2a00 3200 3a00 4200"},
      {"LabelNamesRequest",
       [] {
         auto m = std::make_unique<::thanos::LabelNamesRequest>();
         m->set_partial_response_disabled(true);
         m->set_partial_response_strategy(::thanos::ABORT);
         m->set_start(1);
         m->set_end(2);
         m->mutable_hints();
         auto* matcher = m->add_matchers();
         matcher->set_type(::thanos::LabelMatcher::NEQ);
         matcher->set_name("a");
         matcher->set_value("b");
         m->add_without_replica_labels("r");
         m->set_limit(7);
         return m;
       },
       "0801 1001 1801 2002 2a00 3208 0801 120161 1a0162 3a0172 4007"},
      {"LabelNamesResponse",
       [] {
         auto m = std::make_unique<::thanos::LabelNamesResponse>();
         m->add_names("a");
         m->add_names("b");
         m->add_warnings("w");
         m->mutable_hints();
         return m;
       },
       "0a0161 0a0162 120177 1a00"},
      {"LabelValuesRequest",
       [] {
         auto m = std::make_unique<::thanos::LabelValuesRequest>();
         m->set_label("job");
         m->set_partial_response_disabled(true);
         m->set_partial_response_strategy(::thanos::ABORT);
         m->set_start(1);
         m->set_end(2);
         m->mutable_hints();
         auto* matcher = m->add_matchers();
         matcher->set_type(::thanos::LabelMatcher::NRE);
         matcher->set_name("a");
         matcher->set_value("b");
         m->add_without_replica_labels("r");
         m->set_limit(9);
         return m;
       },
       "0a036a6f62 1001 1801 2001 2802 3200 3a08 0803 120161 1a0162 420172 4809"},
      {"LabelValuesResponse",
       [] {
         auto m = std::make_unique<::thanos::LabelValuesResponse>();
         m->add_values("x");
         m->add_warnings("w");
         m->mutable_hints();
         return m;
       },
       "0a0178 120177 1a00"},
      {"InfoResponseSidecar",
       [] {
         auto m = std::make_unique<::thanos::info::InfoResponse>();
         SetLabel("a", "b", m->add_label_sets()->add_labels());
         m->set_componenttype("sidecar");
         auto* store = m->mutable_store();
         store->set_min_time(1000);
         store->set_max_time(kMaxInt64);
         store->set_supports_sharding(true);
         store->set_supports_without_replica_labels(true);
         auto* tsdb = store->add_tsdb_infos();
         SetLabel("a", "b", tsdb->mutable_labels()->add_labels());
         tsdb->set_min_time(1);
         tsdb->set_max_time(2);
         m->mutable_rules();
         m->mutable_metric_metadata();
         m->mutable_targets();
         m->mutable_exemplars()->set_min_time(1);
         m->mutable_exemplars()->set_max_time(2);
         m->mutable_query();
         m->mutable_status();
         return m;
       },
       // 1 label_sets, 2 ComponentType, 3 store {1, 2, 3, 5, 6 tsdb_infos {1 labels, 2, 3}},
       // 4..9 presence flags, 7 exemplars {1, 2}.
       "0a08 0a06 0a0161 120162 1207 73696465636172"
       " 1a21 08e807 10ffffffffffffffff7f 1801 2801 320e 0a08 0a06 0a0161 120162 1001 1802"
       " 2200 2a00 3200 3a04 0801 1002 4200 4a00"},
  };
}

std::vector<WireCase> PrometheusCases() {
  return {
      {"RemoteReadRequest",
       [] {
         auto m = std::make_unique<::prometheus::ReadRequest>();
         auto* query = m->add_queries();
         query->set_start_timestamp_ms(1000);
         query->set_end_timestamp_ms(2000);
         auto* matcher = query->add_matchers();
         matcher->set_type(::prometheus::LabelMatcher::RE);
         matcher->set_name("job");
         matcher->set_value("a");
         auto* hints = query->mutable_hints();
         hints->set_step_ms(15000);
         hints->set_func("rate");
         hints->set_start_ms(1);
         hints->set_end_ms(2);
         hints->add_grouping("job");
         hints->set_by(true);
         hints->set_range_ms(300000);
         m->add_accepted_response_types(::prometheus::ReadRequest::STREAMED_XOR_CHUNKS);
         m->add_accepted_response_types(::prometheus::ReadRequest::SAMPLES);
         return m;
       },
       // queries=1 {1, 2, 3 matcher, 4 hints {1..7}}, accepted_response_types=2 packed.
       "0a2c 08e807 10d00f 1a0a 0802 12036a6f62 1a0161"
       " 2218 089875 120472617465 1801 2002 2a036a6f62 3001 38e0a712"
       " 1202 0100"},
      {"RemoteReadResponseSamples",
       [] {
         auto m = std::make_unique<::prometheus::ReadResponse>();
         auto* series = m->add_results()->add_timeseries();
         SetLabel("a", "b", series->add_labels());
         auto* sample = series->add_samples();
         sample->set_value(1.5);
         sample->set_timestamp(1000);
         return m;
       },
       // results=1 {timeseries=1 {labels=1, samples=2 {value=1 fixed64, timestamp=2}}}.
       "0a18 0a16 0a06 0a0161 120162 120c 09000000000000f83f 10e807"},
      {"ChunkedReadResponse",
       [] {
         auto m = std::make_unique<::prometheus::ChunkedReadResponse>();
         auto* series = m->add_chunked_series();
         SetLabel("a", "b", series->add_labels());
         auto* chunk = series->add_chunks();
         chunk->set_min_time_ms(1);
         chunk->set_max_time_ms(2);
         chunk->set_type(::prometheus::Chunk::XOR);
         chunk->set_data(std::string("\x00\x01", 2));
         m->set_query_index(3);
         return m;
       },
       // chunked_series=1 {labels=1, chunks=2 {1, 2, type=3 (XOR is 1), data=4}}, query_index=2.
       "0a14 0a06 0a0161 120162 120a 0801 1002 1801 22020001 1003"},
      {"RemoteWriteRequest",
       [] {
         auto m = std::make_unique<::prometheus::WriteRequest>();
         auto* series = m->add_timeseries();
         SetLabel("a", "b", series->add_labels());
         auto* sample = series->add_samples();
         sample->set_value(1.5);
         sample->set_timestamp(1000);
         auto* exemplar = series->add_exemplars();
         SetLabel("t", "x", exemplar->add_labels());
         exemplar->set_value(2.0);
         exemplar->set_timestamp(5);
         auto* metadata = m->add_metadata();
         metadata->set_type(::prometheus::MetricMetadata::COUNTER);
         metadata->set_metric_family_name("m");
         metadata->set_help("h");
         metadata->set_unit("u");
         return m;
       },
       // timeseries=1 {labels=1, samples=2, exemplars=3 {labels=1, value=2, timestamp=3}},
       // metadata=3 {type=1, metric_family_name=2, help=4, unit=5}.
       "0a2b 0a06 0a0161 120162 120c 09000000000000f83f 10e807"
       " 1a13 0a06 0a0174 120178 110000000000000040 1805"
       " 1a0b 0801 12016d 220168 2a0175"},
      {"ThanosWriteRequest",
       [] {
         auto m = std::make_unique<::thanos::WriteRequest>();
         SetLabel("a", "b", m->add_timeseries()->add_labels());
         m->set_tenant("t");
         m->set_replica(1);
         return m;
       },
       "0a08 0a06 0a0161 120162 120174 1801"},
  };
}

std::string CaseName(const ::testing::TestParamInfo<WireCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Thanos, WireTest, ::testing::ValuesIn(ThanosCases()), CaseName);
INSTANTIATE_TEST_SUITE_P(Prometheus, WireTest, ::testing::ValuesIn(PrometheusCases()), CaseName);

// "/package.Service/Method", the path gRPC puts on the wire, from the method's descriptor.
std::string GrpcPath(const std::string& service, const std::string& method) {
  const auto* descriptor =
      ::google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  if (descriptor == nullptr) {
    return "no service " + service;
  }
  const auto* m = descriptor->FindMethodByName(method);
  if (m == nullptr) {
    return "no method " + method;
  }
  std::string full = m->full_name();
  full[full.rfind('.')] = '/';
  return "/" + full;
}

TEST(GrpcPathTest, MatchesThanosMethodPaths) {
  // Referencing the stubs links the generated service code and registers its descriptors.
  EXPECT_EQ(::thanos::Store::service_full_name(), std::string("thanos.Store"));
  EXPECT_EQ(::thanos::info::Info::service_full_name(), std::string("thanos.info.Info"));
  EXPECT_EQ(::thanos::WriteableStore::service_full_name(), std::string("thanos.WriteableStore"));
  EXPECT_EQ(GrpcPath("thanos.Store", "Series"), "/thanos.Store/Series");
  EXPECT_EQ(GrpcPath("thanos.Store", "LabelNames"), "/thanos.Store/LabelNames");
  EXPECT_EQ(GrpcPath("thanos.Store", "LabelValues"), "/thanos.Store/LabelValues");
  EXPECT_EQ(GrpcPath("thanos.info.Info", "Info"), "/thanos.info.Info/Info");
  EXPECT_EQ(GrpcPath("thanos.WriteableStore", "RemoteWrite"), "/thanos.WriteableStore/RemoteWrite");
}

TEST(GrpcPathTest, OnlySeriesIsServerStreaming) {
  const auto* store =
      ::google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("thanos.Store");
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->method_count(), 3);
  for (int i = 0; i < store->method_count(); ++i) {
    const auto* method = store->method(i);
    EXPECT_FALSE(method->client_streaming()) << method->name();
    EXPECT_EQ(method->server_streaming(), method->name() == "Series") << method->name();
  }
  EXPECT_EQ(store->FindMethodByName("Info"), nullptr) << "Store/Info was removed in Thanos v0.37";
}

TEST(EnumTest, XorChunkEncodingIsOffByOneBetweenThanosAndPrometheus) {
  EXPECT_EQ(::thanos::Chunk::XOR, 0);
  EXPECT_EQ(::thanos::Chunk::HISTOGRAM, 1);
  EXPECT_EQ(::thanos::Chunk::FLOAT_HISTOGRAM, 2);
  EXPECT_EQ(::prometheus::Chunk::UNKNOWN, 0);
  EXPECT_EQ(::prometheus::Chunk::XOR, 1);
  EXPECT_EQ(::prometheus::Chunk::HISTOGRAM, 2);
  EXPECT_EQ(::prometheus::Chunk::FLOAT_HISTOGRAM, 3);
}

TEST(EnumTest, StrategiesAndMatcherTypesHaveThanosValues) {
  EXPECT_EQ(::thanos::WARN, 0);
  EXPECT_EQ(::thanos::ABORT, 1);
  EXPECT_EQ(::thanos::LabelMatcher::EQ, 0);
  EXPECT_EQ(::thanos::LabelMatcher::NEQ, 1);
  EXPECT_EQ(::thanos::LabelMatcher::RE, 2);
  EXPECT_EQ(::thanos::LabelMatcher::NRE, 3);
  EXPECT_EQ(::prometheus::LabelMatcher::NRE, 3);
  EXPECT_EQ(::thanos::RAW, 0);
  EXPECT_EQ(::thanos::COUNTER, 5);
}

TEST(UnknownFieldTest, TimeSeriesKeepsUndeclaredHistogramsField) {
  // labels=1 {a=b}, then histograms=4 with an opaque 2-byte body that we do not declare.
  const std::string bytes =
      "\x0a\x06\x0a\x01"
      "a"
      "\x12\x01"
      "b"
      "\x22\x02\x08\x01";
  ::prometheus::TimeSeries series;
  ASSERT_TRUE(series.ParseFromString(bytes));
  ASSERT_EQ(series.labels_size(), 1);
  EXPECT_EQ(series.labels(0).value(), "b");
  EXPECT_EQ(series.SerializeAsString(), bytes);
}

TEST(UnknownFieldTest, SeriesResponseFromNewerThanosStillParses) {
  // series=1 {labels=1 {a=b}}, then an unknown field 20 (varint) from some future version.
  const std::string bytes = std::string(
                                "\x0a\x08\x0a\x06\x0a\x01"
                                "a"
                                "\x12\x01"
                                "b") +
                            std::string("\xa0\x01\x07", 3);
  ::thanos::SeriesResponse response;
  ASSERT_TRUE(response.ParseFromString(bytes));
  ASSERT_TRUE(response.has_series());
  EXPECT_EQ(response.series().labels(0).name(), "a");
}

TEST(UnknownFieldTest, RejectsTruncatedInput) {
  // A length-delimited series field that claims 8 bytes but carries 2.
  ::thanos::SeriesResponse response;
  EXPECT_FALSE(response.ParseFromString(std::string("\x0a\x08\x0a\x06", 4)));
}

TEST(CoexistenceTest, PrometheusCppAndRemoteProtosShareTheNamespace) {
  // prometheus-cpp's Labels (a map) and Histogram next to our generated prometheus messages.
  ::prometheus::Labels labels{{"job", "api"}};
  ::prometheus::Histogram::BucketBoundaries bounds{1.0, 2.0};
  ::prometheus::TimeSeries series;
  for (const auto& [name, value] : labels) {
    SetLabel(name, value, series.add_labels());
  }
  EXPECT_EQ(series.labels(0).name(), "job");
  EXPECT_EQ(bounds.size(), 2u);
}

}  // namespace
}  // namespace paodin::proto
