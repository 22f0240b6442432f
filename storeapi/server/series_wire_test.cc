#include "storeapi/server/series_wire.h"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proto/thanos/store.pb.h"

namespace paodin::storeapi {
namespace {

engine::Labels L(std::vector<std::pair<std::string, std::string>> pairs) {
  return *engine::Labels::FromPairs(std::move(pairs));
}

// What protobuf writes for the same series.
thanos::Series ProtoSeries(const engine::Labels& labels, const std::vector<ChunkView>& chunks) {
  thanos::Series s;
  for (engine::Label l : labels) {
    thanos::Label* p = s.add_labels();
    p->set_name(std::string(l.name));
    p->set_value(std::string(l.value));
  }
  for (const ChunkView& c : chunks) {
    thanos::AggrChunk* a = s.add_chunks();
    a->set_min_time(c.min_time);
    a->set_max_time(c.max_time);
    a->mutable_raw()->set_type(thanos::Chunk::XOR);
    a->mutable_raw()->set_data(std::string(c.data));
    a->mutable_raw()->set_hash(c.hash);
  }
  return s;
}

std::string Encoded(const engine::Labels& labels, const std::vector<ChunkView>& chunks) {
  std::string out = "prefix";
  AppendSeriesField(labels, chunks, &out);
  EXPECT_EQ(out.substr(0, 6), "prefix");  // appends, keeps what was there
  return out.substr(6);
}

TEST(SeriesWireTest, SingleSeriesFrameIsWhatProtobufWrites) {
  const std::string big(300, '\x5a');  // lengths of two varint bytes
  std::vector<ChunkView> chunks = {
      {1700000000000, 1700000899999, std::string_view("\x00\x02\xab\xcd", 4),
       0x1234567890abcdefULL},
      {-5, 0, big, 0},  // negative and zero times, no hash
      {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), "x", 1},
  };
  const engine::Labels labels =
      L({{"__name__", "http_requests_total"}, {"cluster", "host"}, {"empty", ""}});
  thanos::SeriesResponse want;
  *want.mutable_series() = ProtoSeries(labels, chunks);
  EXPECT_EQ(Encoded(labels, chunks), want.SerializeAsString());

  thanos::SeriesResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(Encoded(labels, chunks)));
  ASSERT_EQ(parsed.series().chunks_size(), 3);
  EXPECT_EQ(parsed.series().chunks(1).raw().data(), big);
  EXPECT_EQ(parsed.series().chunks(2).min_time(), std::numeric_limits<int64_t>::min());
}

TEST(SeriesWireTest, SeriesWithoutChunksOrLabels) {
  thanos::SeriesResponse want;
  *want.mutable_series() = ProtoSeries(L({{"a", "b"}}), {});
  EXPECT_EQ(Encoded(L({{"a", "b"}}), {}), want.SerializeAsString());

  thanos::SeriesResponse empty;
  empty.mutable_series();
  EXPECT_EQ(Encoded(engine::Labels(), {}), empty.SerializeAsString());
}

TEST(SeriesWireTest, BatchFrameIsWhatProtobufWrites) {
  for (int n : {1, 3, 200}) {  // bodies with one-, two- and three-byte lengths
    thanos::SeriesResponse want;
    std::string body;
    const std::string data(60, 'c');  // outlives the views below
    for (int i = 0; i < n; ++i) {
      const std::string v = "pod-" + std::to_string(i);
      const std::vector<ChunkView> chunks = {{i * 1000, i * 1000 + 999, data, 7}};
      *want.mutable_batch()->add_series() = ProtoSeries(L({{"pod", v}}), chunks);
      AppendSeriesField(L({{"pod", v}}), chunks, &body);
    }
    const size_t header = BatchHeaderSize(body.size());
    ASSERT_LE(header, kMaxBatchHeaderBytes);
    std::string frame(header, '\0');
    WriteBatchHeader(body.size(), frame.data());
    frame += body;
    EXPECT_EQ(frame, want.SerializeAsString()) << n << " series";
  }
}

}  // namespace
}  // namespace paodin::storeapi
