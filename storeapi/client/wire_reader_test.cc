#include "storeapi/client/wire_reader.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>
#include <gtest/gtest.h>

#include "proto/thanos/store.pb.h"

#include "engine/util/status_matchers.h"
#include "storeapi/client/series_frame.h"

namespace paodin::storeapi {
namespace {

using ::paodin::testing::IsOk;
using ::paodin::testing::StatusIs;
using ::testing::HasSubstr;

// A frame in a comparable text form. Chunk data longer than 48 bytes is shown by size and hash.
std::string ShowData(std::string_view data) {
  if (data.size() <= 48)
    return fmt::format("{:?}", data);
  return fmt::format("<{} bytes #{:x}>", data.size(), std::hash<std::string_view>()(data));
}

// What the generated parser makes of a frame, in the form ShowView uses.
std::string ShowMessage(const thanos::SeriesResponse& r) {
  std::string out;
  auto show_series = [&out](const thanos::Series& s) {
    out += "series{";
    for (const thanos::Label& l : s.labels())
      out += fmt::format("{:?}={:?},", l.name(), l.value());
    for (const thanos::AggrChunk& c : s.chunks()) {
      out += fmt::format(" chunk[{},{}]", c.min_time(), c.max_time());
      if (c.has_raw())
        out += fmt::format(" raw(type={} data={})", static_cast<int>(c.raw().type()),
                           ShowData(c.raw().data()));
    }
    out += "}\n";
  };
  switch (r.result_case()) {
    case thanos::SeriesResponse::kSeries:
      out += "kind=series\n";
      show_series(r.series());
      break;
    case thanos::SeriesResponse::kBatch:
      out += "kind=batch\n";
      for (const thanos::Series& s : r.batch().series())
        show_series(s);
      break;
    case thanos::SeriesResponse::kWarning:
      out += fmt::format("kind=warning {:?}\n", r.warning());
      break;
    case thanos::SeriesResponse::kHints:
      out += "kind=hints\n";
      break;
    case thanos::SeriesResponse::RESULT_NOT_SET:
      out += "kind=none\n";
      break;
  }
  return out;
}

// What the wire reader makes of a frame.
std::string ShowView(const SeriesResponseView& v) {
  std::string out;
  switch (v.kind()) {
    case FrameKind::kSeries:
      out += "kind=series\n";
      break;
    case FrameKind::kBatch:
      out += "kind=batch\n";
      break;
    case FrameKind::kWarning:
      out += fmt::format("kind=warning {:?}\n", v.warning());
      break;
    case FrameKind::kHints:
      out += "kind=hints\n";
      break;
    case FrameKind::kNone:
      out += "kind=none\n";
      break;
  }
  for (size_t i = 0; i < v.series_count(); ++i) {
    out += "series{";
    for (const WireLabel& l : v.labels(i))
      out += fmt::format("{:?}={:?},", l.name, l.value);
    for (const WireChunk& c : v.chunks(i)) {
      out += fmt::format(" chunk[{},{}]", c.min_time, c.max_time);
      if (c.has_raw)
        out += fmt::format(" raw(type={} data={})", c.raw_type, ShowData(c.raw_data));
    }
    out += "}\n";
  }
  return out;
}

// Parses `bytes` both ways and checks they agree: both fail, or both succeed with the same
// content. Returns whether the generated parser accepted the bytes.
bool ExpectSameAsProtobuf(std::string_view bytes) {
  google::protobuf::LogSilencer quiet;  // protobuf logs every invalid UTF-8 string
  thanos::SeriesResponse message;
  const bool pb_ok = message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  SeriesResponseView view;
  const absl::Status st = ParseSeriesResponse(bytes, &view);
  EXPECT_EQ(st.ok(), pb_ok) << st << "\nbytes: " << fmt::format("{:?}", bytes);
  if (pb_ok && st.ok()) {
    EXPECT_EQ(ShowView(view), ShowMessage(message)) << fmt::format("{:?}", bytes);
  }
  return pb_ok;
}

// Adds unknown fields of every wire type (sometimes with a known field number and another
// wire type, which protobuf also keeps as unknown) to `m`.
void AddUnknown(std::mt19937& rng, google::protobuf::Message* m) {
  google::protobuf::UnknownFieldSet* u = m->GetReflection()->MutableUnknownFields(m);
  const int number = std::uniform_int_distribution<int>(1, 3)(rng) == 1
                         ? std::uniform_int_distribution<int>(1, 8)(rng)
                         : std::uniform_int_distribution<int>(9, 536870911)(rng);
  switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
    case 0:
      // Never a varint on a known varint field: that would be a known field, not unknown.
      u->AddVarint(number + 1000, rng());
      break;
    case 1:
      u->AddFixed32(number, rng());
      break;
    case 2:
      u->AddFixed64(number, (uint64_t{rng()} << 32) | rng());
      break;
    case 3:
      u->AddLengthDelimited(number + 1000, "unknown payload");
      break;
    case 4: {
      google::protobuf::UnknownFieldSet* g = u->AddGroup(number);
      g->AddVarint(1, 7);
      g->AddLengthDelimited(2, "in a group");
      g->AddGroup(3)->AddFixed32(4, 9);
      break;
    }
  }
}

std::string RandomString(std::mt19937& rng, size_t max_len) {
  static constexpr std::string_view kPieces[] = {"a",    "job", "_",    "0", "é",
                                                 "日本", " ",   "{}\"", "x"};
  std::string s;
  const size_t n = std::uniform_int_distribution<size_t>(0, max_len)(rng);
  while (s.size() < n)
    s += kPieces[rng() % std::size(kPieces)];
  return s;
}

std::string RandomBytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s)
    c = static_cast<char>(rng());
  return s;
}

void FillChunk(std::mt19937& rng, bool unknown, thanos::Chunk* c) {
  c->set_type(static_cast<thanos::Chunk::Encoding>(rng() % 4 == 0 ? rng() % 3 : 0));
  const size_t size = rng() % 50 == 0 ? 70000 + rng() % 1000 : rng() % 200;
  c->set_data(RandomBytes(rng, size));
  if (rng() % 2 == 0)
    c->set_hash((uint64_t{rng()} << 32) | rng());
  if (unknown)
    AddUnknown(rng, c);
}

void FillSeries(std::mt19937& rng, bool unknown, thanos::Series* s) {
  static constexpr const char* kNames[] = {"__name__", "instance", "job", "zone", "a", "ä"};
  const int labels = static_cast<int>(rng() % 8);
  for (int i = 0; i < labels; ++i) {
    thanos::Label* l = s->add_labels();
    l->set_name(kNames[rng() % std::size(kNames)]);
    l->set_value(rng() % 5 == 0 ? "" : RandomString(rng, 20));
    if (unknown && rng() % 3 == 0)
      AddUnknown(rng, l);
  }
  const int chunks = static_cast<int>(rng() % 5);
  for (int i = 0; i < chunks; ++i) {
    thanos::AggrChunk* c = s->add_chunks();
    c->set_min_time(static_cast<int64_t>((uint64_t{rng()} << 32) | rng()) >> (rng() % 40));
    c->set_max_time(static_cast<int64_t>(rng()) - 1000);
    if (rng() % 6 != 0)
      FillChunk(rng, unknown && rng() % 2 == 0, c->mutable_raw());
    if (rng() % 8 == 0)
      FillChunk(rng, false, c->mutable_count());
    if (rng() % 8 == 0)
      FillChunk(rng, false, c->mutable_counter());
    if (unknown && rng() % 3 == 0)
      AddUnknown(rng, c);
  }
  if (unknown && rng() % 3 == 0)
    AddUnknown(rng, s);
}

thanos::SeriesResponse RandomResponse(std::mt19937& rng) {
  thanos::SeriesResponse r;
  const bool unknown = rng() % 3 == 0;
  switch (rng() % 5) {
    case 0:
      FillSeries(rng, unknown, r.mutable_series());
      break;
    case 1: {
      const int n = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < n; ++i)
        FillSeries(rng, unknown, r.mutable_batch()->add_series());
      if (unknown)
        AddUnknown(rng, r.mutable_batch());
      break;
    }
    case 2:
      r.set_warning(RandomString(rng, 60));
      break;
    case 3:
      r.mutable_hints()->set_type_url("type.googleapis.com/thanos.SeriesResponseHints");
      r.mutable_hints()->set_value(RandomBytes(rng, rng() % 30));
      break;
    case 4:
      break;
  }
  if (unknown)
    AddUnknown(rng, &r);
  return r;
}

TEST(WireReaderTest, MatchesProtobufOnGeneratedFrames) {
  std::mt19937 rng(42);
  for (int i = 0; i < 3000; ++i) {
    const std::string bytes = RandomResponse(rng).SerializeAsString();
    ASSERT_TRUE(ExpectSameAsProtobuf(bytes)) << i;
  }
}

TEST(WireReaderTest, MergesRepeatedOneofMembersLikeProtobuf) {
  // Concatenated messages merge: the same oneof member joins, another one replaces.
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    std::string bytes;
    const int parts = 2 + static_cast<int>(rng() % 3);
    for (int p = 0; p < parts; ++p)
      bytes += RandomResponse(rng).SerializeAsString();
    ASSERT_TRUE(ExpectSameAsProtobuf(bytes)) << i;
  }
}

TEST(WireReaderTest, SkipsAppendedUnknownFieldsOfEveryWireType) {
  thanos::SeriesResponse r;
  thanos::Series* s = r.mutable_batch()->add_series();
  thanos::Label* l = s->add_labels();
  l->set_name("job");
  l->set_value("api");
  s->add_chunks()->mutable_raw()->set_data("xyz");
  const std::string base = r.SerializeAsString();
  const std::vector<std::string> suffixes = {
      std::string("\x28\x96\x01", 3),                          // field 5 varint
      std::string("\x31\x01\x02\x03\x04\x05\x06\x07\x08", 9),  // field 6 fixed64
      std::string("\x3a\x03\x61\x62\x63", 5),                  // field 7 length-delimited
      std::string("\x43\x08\x01\x44", 4),                      // field 8 group holding a varint
      std::string("\x4d\x01\x02\x03\x04", 5),                  // field 9 fixed32
      std::string("\x08\x01", 2),                              // field 1 (series) as a varint
      std::string("\x12\x00", 2),                              // empty warning replaces the batch
  };
  for (const std::string& suffix : suffixes) {
    SCOPED_TRACE(fmt::format("{:?}", suffix));
    EXPECT_TRUE(ExpectSameAsProtobuf(base + suffix));
  }
}

TEST(WireReaderTest, ReadsFieldsOfABatchFrame) {
  thanos::SeriesResponse r;
  for (const char* job : {"api", "db"}) {
    thanos::Series* s = r.mutable_batch()->add_series();
    thanos::Label* l = s->add_labels();
    l->set_name("job");
    l->set_value(job);
    thanos::AggrChunk* c = s->add_chunks();
    c->set_min_time(-5);
    c->set_max_time(1700000000000);
    c->mutable_raw()->set_type(thanos::Chunk::HISTOGRAM);
    c->mutable_raw()->set_data(std::string("\x00\x01\x02", 3));
  }
  const std::string bytes = r.SerializeAsString();
  SeriesResponseView v;
  ASSERT_THAT(ParseSeriesResponse(bytes, &v), IsOk());
  ASSERT_EQ(v.kind(), FrameKind::kBatch);
  ASSERT_EQ(v.series_count(), 2u);
  EXPECT_EQ(v.labels(1)[0].name, "job");
  EXPECT_EQ(v.labels(1)[0].value, "db");
  ASSERT_EQ(v.chunks(0).size(), 1u);
  EXPECT_EQ(v.chunks(0)[0].min_time, -5);
  EXPECT_EQ(v.chunks(0)[0].max_time, 1700000000000);
  EXPECT_TRUE(v.chunks(0)[0].has_raw);
  EXPECT_EQ(v.chunks(0)[0].raw_type, 1);
  EXPECT_EQ(v.chunks(0)[0].raw_data, std::string_view("\x00\x01\x02", 3));
}

TEST(WireReaderTest, EveryTruncationFailsOrMatchesProtobuf) {
  std::mt19937 rng(3);
  int accepted_prefixes = 0;
  for (int i = 0; i < 60; ++i) {
    thanos::SeriesResponse r = RandomResponse(rng);
    if (r.ByteSizeLong() > 4000)
      continue;
    const std::string bytes = r.SerializeAsString();
    for (size_t n = 0; n < bytes.size(); ++n)
      accepted_prefixes += ExpectSameAsProtobuf(std::string_view(bytes).substr(0, n)) ? 1 : 0;
  }
  // Prefixes ending on a field boundary are valid frames; most others are not.
  EXPECT_GT(accepted_prefixes, 0);
}

TEST(WireReaderTest, RandomAndMutatedBytesMatchProtobuf) {
  std::mt19937 rng(11);
  // Bytes biased towards the tags and small lengths the reader knows, to get past the top.
  static constexpr uint8_t kAlphabet[] = {0x0a, 0x12, 0x1a, 0x22, 0x08, 0x10, 0x02, 0x03,
                                          0x01, 0x00, 0x80, 0xff, 0x0b, 0x0c, 0x61, 0xc3};
  for (int i = 0; i < 100000; ++i) {
    std::string bytes(rng() % 40, '\0');
    for (char& c : bytes)
      c = static_cast<char>(rng() % 3 == 0 ? rng() : kAlphabet[rng() % std::size(kAlphabet)]);
    ExpectSameAsProtobuf(bytes);
    if (::testing::Test::HasFailure())
      return;
  }
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = RandomResponse(rng).SerializeAsString();
    if (bytes.empty())
      continue;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes.erase(at, 1);
          break;
        case 2:
          bytes.insert(at, 1, static_cast<char>(kAlphabet[rng() % std::size(kAlphabet)]));
          break;
      }
      if (bytes.empty())
        break;
    }
    ExpectSameAsProtobuf(bytes);
    if (::testing::Test::HasFailure())
      return;
  }
}

TEST(WireReaderTest, NestedGroupsStopAtProtobufsDepthLimit) {
  for (int depth : {1, 99, 100, 101, 150}) {
    SCOPED_TRACE(depth);
    std::string bytes;
    for (int i = 0; i < depth; ++i)
      bytes += "\x2b";  // field 5, start group
    for (int i = 0; i < depth; ++i)
      bytes += "\x2c";  // field 5, end group
    ExpectSameAsProtobuf(bytes);
  }
}

struct MalformedCase {
  std::string name;
  std::string bytes;
  std::string message;
};

TEST(WireReaderTest, RejectsMalformedFrames) {
  const std::vector<MalformedCase> cases = {
      {"truncated varint", std::string("\x28\x80", 2), "truncated varint"},
      {"varint longer than ten bytes", std::string("\x28") + std::string(10, '\x80') + "\x01",
       "truncated varint"},
      {"truncated tag", std::string("\x80", 1), "truncated tag"},
      {"tag zero", std::string("\x00", 1), "truncated tag"},
      {"field number zero", std::string("\x02\x00", 2), "field number 0"},
      {"length beyond the frame", std::string("\x0a\x05\x0a\x00", 4), "beyond the frame"},
      {"label beyond its series", std::string("\x0a\x02\x0a\x05", 4), "label beyond"},
      {"chunk data beyond its chunk", std::string("\x0a\x06\x12\x04\x1a\x02\x12\x09", 8),
       "chunk data beyond"},
      {"wire type 6", std::string("\x2e", 1), "invalid wire type"},
      {"wire type 7", std::string("\x2f", 1), "invalid wire type"},
      {"stray end group", std::string("\x2c", 1), "unexpected end group"},
      {"mismatched end group", std::string("\x2b\x34", 2), "mismatched end group"},
      {"unterminated group", std::string("\x2b\x28\x01", 3), "unterminated group"},
      {"truncated fixed64", std::string("\x29\x01\x02", 3), "truncated fixed64"},
      {"truncated fixed32", std::string("\x2d\x01", 2), "truncated fixed32"},
      {"label not UTF-8", std::string("\x0a\x05\x0a\x03\x0a\x01\xff", 7), "not valid UTF-8"},
      {"warning not UTF-8", std::string("\x12\x02\xc3\x28", 4), "not valid UTF-8"},
      {"surrogate in a label", std::string("\x0a\x07\x0a\x05\x12\x03\xed\xa0\x80", 9),
       "not valid UTF-8"},
      {"groups nested too deep", std::string(101, '\x2b') + std::string(101, '\x2c'),
       "nesting too deep"},
  };
  for (const MalformedCase& c : cases) {
    SCOPED_TRACE(c.name);
    SeriesResponseView v;
    const absl::Status st = ParseSeriesResponse(c.bytes, &v);
    EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(std::string(st.message()), HasSubstr(c.message));
    thanos::SeriesResponse m;
    google::protobuf::LogSilencer quiet;
    EXPECT_FALSE(m.ParseFromString(c.bytes)) << "protobuf accepts it";
  }
}

TEST(WireReaderTest, FuzzSeedsAreValidFramesOfEveryKind) {
  // The fuzz target's seed corpus (run from the source tree, as ctest does).
  const std::string dir = "storeapi/client/testdata/series_frame_corpus/";
  for (const char* name : {"series", "batch", "warning", "hints", "unknown_fields"}) {
    SCOPED_TRACE(name);
    std::ifstream in(dir + name, std::ios::binary);
    ASSERT_TRUE(in.good()) << "cannot open " << dir + name;
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_FALSE(bytes.empty());
    EXPECT_TRUE(ExpectSameAsProtobuf(bytes));
  }
}

TEST(SeriesFrameTest, ParsesSingleAndSplitByteBuffers) {
  thanos::SeriesResponse r;
  thanos::Series* s = r.mutable_series();
  thanos::Label* l = s->add_labels();
  l->set_name("__name__");
  l->set_value("up");
  s->add_chunks()->mutable_raw()->set_data(std::string(300, 'c'));
  const std::string bytes = r.SerializeAsString();
  for (size_t pieces : {1u, 2u, 7u}) {
    SCOPED_TRACE(pieces);
    std::vector<grpc::Slice> slices;
    const size_t step = (bytes.size() + pieces - 1) / pieces;
    for (size_t at = 0; at < bytes.size(); at += step)
      slices.emplace_back(bytes.data() + at, std::min(step, bytes.size() - at));
    grpc::ByteBuffer buffer(slices.data(), slices.size());
    SeriesFrame frame;
    frame.Assign(&buffer);
    ASSERT_THAT(frame.status(), IsOk());
    EXPECT_EQ(buffer.Length(), 0u);
    EXPECT_EQ(frame.wire_bytes(), bytes.size());
    EXPECT_EQ(ShowView(frame.view()), ShowMessage(r));
  }
}

TEST(SeriesFrameTest, KeepsTheParseErrorOfAMalformedFrame) {
  SeriesFrame frame;
  frame.AssignBytes(std::string("\x0a\x09", 2));
  EXPECT_THAT(frame.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  frame.AssignBytes(std::string("\x12\x02ok", 4));
  ASSERT_THAT(frame.status(), IsOk());
  EXPECT_EQ(frame.view().warning(), "ok");
  frame.Release();
  EXPECT_EQ(frame.view().kind(), FrameKind::kNone);
  EXPECT_TRUE(frame.view().warning().empty());
}

}  // namespace
}  // namespace paodin::storeapi
