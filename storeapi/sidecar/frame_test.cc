#include "storeapi/sidecar/frame.h"

#include <string>
#include <vector>

#include "engine/util/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace paodin::storeapi {
namespace {

using ::paodin::testing::StatusHasSubstr;
using ::paodin::testing::StatusIs;

// Drains every complete frame.
std::vector<std::string> Drain(ChunkedFrameReader& reader) {
  std::vector<std::string> out;
  for (;;) {
    absl::StatusOr<std::optional<std::string_view>> f = reader.Next();
    EXPECT_TRUE(f.ok()) << f.status();
    if (!f.ok() || !f->has_value()) {
      return out;
    }
    out.emplace_back(**f);
  }
}

TEST(Crc32cTest, MatchesKnownCheckValues) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  // Continuing a checksum equals checksumming the concatenation.
  EXPECT_EQ(Crc32c("56789", Crc32c("1234")), 0xE3069283u);
}

TEST(ChunkedFrameReaderTest, ReadsFramesFedByteByByte) {
  const std::vector<std::string> messages = {"", "a", std::string(300, 'x'),
                                             std::string(70000, 'y')};
  std::string body;
  for (const std::string& m : messages) {
    AppendChunkedFrame(m, &body);
  }
  ChunkedFrameReader reader(1 << 20);
  std::vector<std::string> got;
  for (char c : body) {
    reader.Feed(std::string_view(&c, 1));
    for (std::string& f : Drain(reader)) {
      got.push_back(std::move(f));
    }
  }
  EXPECT_EQ(got, messages);
  EXPECT_EQ(reader.frames(), 4);
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ChunkedFrameReaderTest, ReadsFramesFedAtOnce) {
  std::string body;
  AppendChunkedFrame("first", &body);
  AppendChunkedFrame("second", &body);
  ChunkedFrameReader reader(1024);
  reader.Feed(body);
  EXPECT_THAT(Drain(reader), ::testing::ElementsAre("first", "second"));
  EXPECT_TRUE(reader.Finish().ok());
}

TEST(ChunkedFrameReaderTest, RejectsCrcMismatchAndStaysFailed) {
  std::string body;
  AppendChunkedFrame("payload", &body);
  body.back() ^= 0x01;
  ChunkedFrameReader reader(1024);
  reader.Feed(body);
  EXPECT_THAT(reader.Next(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(reader.Next(), StatusHasSubstr("CRC32C mismatch"));
  EXPECT_THAT(reader.Finish(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(ChunkedFrameReaderTest, RejectsCorruptCrcField) {
  std::string body;
  AppendChunkedFrame("payload", &body);
  body[1] ^= 0x40;  // first CRC byte
  ChunkedFrameReader reader(1024);
  reader.Feed(body);
  EXPECT_THAT(reader.Next(), StatusHasSubstr("CRC32C mismatch"));
}

TEST(ChunkedFrameReaderTest, RejectsFrameAboveLimitBeforeReadingIt) {
  std::string body;
  AppendChunkedFrame(std::string(2000, 'z'), &body);
  ChunkedFrameReader reader(1000);
  reader.Feed(body.substr(0, 3));  // the length alone is enough to refuse
  EXPECT_THAT(reader.Next(), StatusHasSubstr("message size 2000 bytes exceeds the limit of 1000"));
}

TEST(ChunkedFrameReaderTest, RejectsHugeDeclaredLength) {
  ChunkedFrameReader reader(64 << 20);
  reader.Feed("\xff\xff\xff\xff\xff\xff\xff\xff\x7f");
  EXPECT_THAT(reader.Next(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(ChunkedFrameReaderTest, RejectsOverlongVarint) {
  ChunkedFrameReader reader(1024);
  reader.Feed(std::string(11, '\x80'));
  EXPECT_THAT(reader.Next(), StatusHasSubstr("malformed length"));
}

TEST(ChunkedFrameReaderTest, WaitsForMoreBytesInsideAFrame) {
  std::string body;
  AppendChunkedFrame("abcdef", &body);
  for (size_t cut = 0; cut < body.size(); ++cut) {
    ChunkedFrameReader reader(1024);
    reader.Feed(body.substr(0, cut));
    absl::StatusOr<std::optional<std::string_view>> f = reader.Next();
    ASSERT_TRUE(f.ok()) << cut;
    EXPECT_FALSE(f->has_value()) << cut;
    if (cut > 0) {
      EXPECT_THAT(reader.Finish(), StatusHasSubstr("stream cut inside frame 0")) << cut;
    } else {
      EXPECT_TRUE(reader.Finish().ok());
    }
  }
}

TEST(ChunkedFrameReaderTest, CutAfterCompleteFramesNamesTheFrame) {
  std::string body;
  AppendChunkedFrame("one", &body);
  AppendChunkedFrame("two", &body);
  ChunkedFrameReader reader(1024);
  reader.Feed(body.substr(0, body.size() - 1));
  EXPECT_THAT(Drain(reader), ::testing::ElementsAre("one"));
  EXPECT_THAT(reader.Finish(), StatusHasSubstr("inside frame 1"));
}

}  // namespace
}  // namespace paodin::storeapi
