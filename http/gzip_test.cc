#include "http/gzip.h"

#include <string>

#include "gtest/gtest.h"

namespace paodin::http {
namespace {

TEST(GzipTest, AcceptEncodingParsing) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=1.0, *;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("GZIP"));
  EXPECT_TRUE(AcceptsGzip("br, *"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("deflate, br"));
}

TEST(GzipTest, RoundTripsWholeAndStreamed) {
  std::string data;
  for (int i = 0; i < 100000; ++i)
    data += "[" + std::to_string(i) + ",\"1\"],";
  absl::StatusOr<std::string> z = GzipCompress(data);
  ASSERT_TRUE(z.ok());
  EXPECT_LT(z->size(), data.size() / 4);
  EXPECT_EQ(static_cast<unsigned char>((*z)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*z)[1]), 0x8b);
  EXPECT_EQ(*GzipDecompress(*z), data);

  auto stream = GzipStream::Create();
  ASSERT_TRUE(stream.ok());
  std::string out;
  for (size_t i = 0; i < data.size(); i += 7777) {
    ASSERT_TRUE((*stream)->Write(std::string_view(data).substr(i, 7777), out).ok());
  }
  ASSERT_TRUE((*stream)->Flush(out).ok());
  ASSERT_TRUE((*stream)->Finish(out).ok());
  EXPECT_EQ(*GzipDecompress(out), data);
  EXPECT_EQ(*GzipDecompress(*GzipCompress("")), "");
}

TEST(GzipTest, DecompressRejectsGarbage) {
  EXPECT_FALSE(GzipDecompress("not gzip at all").ok());
  std::string z = *GzipCompress("hello hello hello");
  EXPECT_FALSE(GzipDecompress(z.substr(0, z.size() / 2)).ok());
}

}  // namespace
}  // namespace paodin::http
