#include "storeapi/chunkenc/xor.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin::storeapi {
namespace {

using ::paodin::testing::IsOk;
using ::paodin::testing::StatusIs;
using ::testing::ElementsAreArray;

constexpr uint64_t kStaleNaN = 0x7ff0000000000002;
constexpr uint64_t kPromNaN = 0x7ff8000000000001;
constexpr char kFixturePath[] = "tests/golden/chunks/prometheus-2.42.txt";

// The StatusOr is ok and holds `value`.
MATCHER_P(IsOkAndHolds, value, "is OK and holds " + ::testing::PrintToString(value)) {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  *result_listener << "value is " << ::testing::PrintToString(*arg);
  return *arg == value;
}

double FromBits(uint64_t b) { return std::bit_cast<double>(b); }

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// One chunk of the golden fixture: raw bytes from Prometheus and the samples Prometheus
// decoded from it.
struct GoldenChunk {
  std::string series;
  std::string data;
  std::vector<int64_t> ts;
  std::vector<uint64_t> vbits;
};

std::string FromHex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::vector<GoldenChunk> LoadGolden() {
  std::ifstream in(kFixturePath);
  std::vector<GoldenChunk> chunks;
  std::string series;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#')
      continue;
    std::istringstream fields(line);
    std::string kind;
    fields >> kind;
    if (kind == "series") {
      fields >> series;
    } else if (kind == "chunk") {
      int64_t mint, maxt;
      std::string hex;
      fields >> mint >> maxt >> hex;
      chunks.push_back({series, FromHex(hex), {}, {}});
    } else if (kind == "s" && !chunks.empty()) {
      int64_t t;
      std::string hex;
      fields >> t >> hex;
      chunks.back().ts.push_back(t);
      chunks.back().vbits.push_back(std::stoull(hex, nullptr, 16));
    }
  }
  return chunks;
}

const std::vector<GoldenChunk>& Golden() {
  static const auto* chunks = new std::vector<GoldenChunk>(LoadGolden());
  return *chunks;
}

std::vector<uint64_t> BitsOf(const std::vector<double>& vs) {
  std::vector<uint64_t> out;
  for (double v : vs)
    out.push_back(Bits(v));
  return out;
}

// Decodes `chunk` in tiles of `tile` samples; fails the test on error.
void DecodeInTiles(std::string_view chunk, size_t tile, std::vector<int64_t>& ts,
                   std::vector<double>& vs) {
  XorDecoder dec;
  ASSERT_THAT(dec.Reset(chunk), IsOk());
  std::vector<int64_t> tile_ts(tile);
  std::vector<double> tile_vs(tile);
  for (;;) {
    absl::StatusOr<size_t> n = dec.Next(tile_ts, tile_vs);
    ASSERT_THAT(n, IsOk());
    if (*n == 0)
      break;
    ASSERT_LE(*n, tile);
    ts.insert(ts.end(), tile_ts.begin(), tile_ts.begin() + *n);
    vs.insert(vs.end(), tile_vs.begin(), tile_vs.begin() + *n);
  }
  EXPECT_EQ(dec.remaining(), 0);
}

void ExpectRoundTrip(const std::vector<int64_t>& ts, const std::vector<double>& vs) {
  absl::StatusOr<std::string> chunk = EncodeXorChunk(ts, vs);
  ASSERT_THAT(chunk, IsOk());
  EXPECT_THAT(XorNumSamples(*chunk), IsOkAndHolds(static_cast<int>(ts.size()))) << "header count";
  std::vector<int64_t> got_ts(ts.size());
  std::vector<double> got_vs(vs.size());
  absl::StatusOr<size_t> n = DecodeXorChunk(*chunk, got_ts, got_vs);
  ASSERT_THAT(n, IsOk());
  ASSERT_EQ(*n, ts.size());
  EXPECT_THAT(got_ts, ElementsAreArray(ts));
  EXPECT_THAT(BitsOf(got_vs), ElementsAreArray(BitsOf(vs)));
}

// ---------------------------------------------------------------------------------------------
// Golden chunks written by Prometheus 2.42.

TEST(XorGoldenTest, FixtureCoversManySeriesAndChunks) {
  ASSERT_GE(Golden().size(), 30u) << "missing or short fixture " << kFixturePath;
  size_t samples = 0;
  for (const GoldenChunk& c : Golden())
    samples += c.ts.size();
  EXPECT_GE(samples, 3000u);
}

TEST(XorGoldenTest, DecodesEveryChunkToPrometheusSamples) {
  for (const GoldenChunk& c : Golden()) {
    SCOPED_TRACE(c.series);
    std::vector<int64_t> ts(c.ts.size());
    std::vector<double> vs(c.ts.size());
    ASSERT_THAT(XorNumSamples(c.data), IsOkAndHolds(static_cast<int>(c.ts.size())));
    absl::StatusOr<size_t> n = DecodeXorChunk(c.data, ts, vs);
    ASSERT_THAT(n, IsOk());
    ASSERT_EQ(*n, c.ts.size());
    EXPECT_THAT(ts, ElementsAreArray(c.ts));
    EXPECT_THAT(BitsOf(vs), ElementsAreArray(c.vbits));
  }
}

TEST(XorGoldenTest, ReencodingDecodedSamplesGivesIdenticalBytes) {
  for (const GoldenChunk& c : Golden()) {
    SCOPED_TRACE(c.series);
    std::vector<double> vs;
    for (uint64_t b : c.vbits)
      vs.push_back(FromBits(b));
    absl::StatusOr<std::string> chunk = EncodeXorChunk(c.ts, vs);
    ASSERT_THAT(chunk, IsOk());
    EXPECT_EQ(*chunk, c.data);
  }
}

TEST(XorGoldenTest, TileDecodingMatchesWholeChunkForOddTileSizes) {
  for (size_t tile : {1, 2, 3, 7, 13, 64, 119, 121, 500}) {
    for (const GoldenChunk& c : Golden()) {
      SCOPED_TRACE(c.series + " tile " + std::to_string(tile));
      std::vector<int64_t> ts;
      std::vector<double> vs;
      DecodeInTiles(c.data, tile, ts, vs);
      EXPECT_THAT(ts, ElementsAreArray(c.ts));
      EXPECT_THAT(BitsOf(vs), ElementsAreArray(c.vbits));
    }
  }
}

TEST(XorGoldenTest, EveryTruncationIsAnErrorNeverACrash) {
  for (const GoldenChunk& c : Golden()) {
    for (size_t len = 0; len < c.data.size(); ++len) {
      SCOPED_TRACE(c.series + " truncated to " + std::to_string(len));
      std::string cut = c.data.substr(0, len);  // own buffer so ASan sees overreads
      std::vector<int64_t> ts(c.ts.size());
      std::vector<double> vs(c.ts.size());
      EXPECT_THAT(DecodeXorChunk(cut, ts, vs), StatusIs(absl::StatusCode::kInvalidArgument));
    }
  }
}

TEST(XorGoldenTest, FlippedBitsNeverCrash) {
  std::mt19937_64 rng(7);
  for (const GoldenChunk& c : Golden()) {
    for (int trial = 0; trial < 50; ++trial) {
      std::string bad = c.data;
      const size_t bit = rng() % (bad.size() * 8);
      bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
      std::vector<int64_t> ts(65535);
      std::vector<double> vs(65535);
      absl::StatusOr<size_t> n = DecodeXorChunk(bad, ts, vs);
      if (n.ok()) {
        EXPECT_EQ(*n, static_cast<size_t>(*XorNumSamples(bad)));
      } else {
        EXPECT_THAT(n, StatusIs(absl::StatusCode::kInvalidArgument));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Round trips on generated data.

TEST(XorRoundTripTest, EmptyChunkIsTwoZeroBytes) {
  XorEncoder enc;
  EXPECT_EQ(enc.bytes(), std::string_view("\0\0", 2));
  XorDecoder dec;
  ASSERT_THAT(dec.Reset(enc.bytes()), IsOk());
  int64_t t;
  double v;
  EXPECT_THAT(dec.Next({&t, 1}, {&v, 1}), IsOkAndHolds(size_t{0}));
}

TEST(XorRoundTripTest, SingleAndTwoSamples) {
  ExpectRoundTrip({1680000000000}, {1.5});
  ExpectRoundTrip({-5, 10}, {FromBits(kStaleNaN), 3.25});
  ExpectRoundTrip({0, 0}, {0.0, 0.0});
}

TEST(XorRoundTripTest, CountersAtRegularAndJitteredScrapes) {
  std::mt19937_64 rng(1);
  for (int jitter : {0, 5, 50, 5000}) {
    std::vector<int64_t> ts;
    std::vector<double> vs;
    int64_t t = 1680000000000;
    double v = 0;
    for (int i = 0; i < 120; ++i) {
      ts.push_back(t);
      vs.push_back(v);
      t += 15000 + (jitter ? static_cast<int64_t>(rng() % (2 * jitter + 1)) - jitter : 0);
      v += static_cast<double>(rng() % 50);
      if (i == 60)
        v = 0;  // counter reset
    }
    SCOPED_TRACE(jitter);
    ExpectRoundTrip(ts, vs);
  }
}

TEST(XorRoundTripTest, ConstantsAndRandomDoubles) {
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> dist(-1e12, 1e12);
  std::vector<int64_t> ts;
  std::vector<double> constant, random, bits;
  for (int i = 0; i < 1000; ++i) {
    ts.push_back(1000 * i);
    constant.push_back(42.0);
    random.push_back(dist(rng));
    bits.push_back(FromBits(rng()));  // any bit pattern, NaN payloads included
  }
  ExpectRoundTrip(ts, constant);
  ExpectRoundTrip(ts, random);
  ExpectRoundTrip(ts, bits);
}

TEST(XorRoundTripTest, SpecialValuesKeepTheirExactBits) {
  const std::vector<double> specials = {FromBits(kStaleNaN),
                                        FromBits(kPromNaN),
                                        std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity(),
                                        0.0,
                                        -0.0,
                                        FromBits(kStaleNaN),
                                        std::numeric_limits<double>::denorm_min(),
                                        std::numeric_limits<double>::max(),
                                        FromBits(kStaleNaN),
                                        FromBits(kStaleNaN),
                                        1.0,
                                        FromBits(0xfff0000000000001),
                                        -1.0};
  std::vector<int64_t> ts;
  for (size_t i = 0; i < specials.size(); ++i)
    ts.push_back(15000 * static_cast<int64_t>(i));
  ExpectRoundTrip(ts, specials);
}

TEST(XorRoundTripTest, TimestampsInEveryDodBucketAndExtremes) {
  // Deltas chosen so dods hit the bucket edges: +-8192, 65536, 524288 and beyond.
  const std::vector<int64_t> deltas = {1,       8193, 1, -8190,   65537, 1,  524289, 1,
                                       -524287, 5,    5, 1 << 30, 0,     -1, 8192,   0};
  std::vector<int64_t> ts = {0};
  for (int64_t d : deltas)
    ts.push_back(ts.back() + d);
  ExpectRoundTrip(ts, std::vector<double>(ts.size(), 1.0));

  const int64_t lo = std::numeric_limits<int64_t>::min();
  const int64_t hi = std::numeric_limits<int64_t>::max();
  ExpectRoundTrip({lo, hi, lo, 0, hi, -1}, {1, 2, 3, 4, 5, 6});
}

TEST(XorRoundTripTest, MaximumSampleCount) {
  std::vector<int64_t> ts;
  std::vector<double> vs;
  for (int i = 0; i < kXorMaxSamples; ++i) {
    ts.push_back(int64_t{15000} * i);
    vs.push_back(i % 7 == 0 ? FromBits(kStaleNaN) : i * 0.5);
  }
  ExpectRoundTrip(ts, vs);
}

TEST(XorRoundTripTest, EncoderResetStartsAFreshChunk) {
  XorEncoder enc;
  ASSERT_THAT(enc.Append(1, 1.0), IsOk());
  ASSERT_THAT(enc.Append(2, 2.0), IsOk());
  const std::string first(enc.bytes());
  enc.Reset();
  EXPECT_EQ(enc.num_samples(), 0);
  ASSERT_THAT(enc.Append(1, 1.0), IsOk());
  ASSERT_THAT(enc.Append(2, 2.0), IsOk());
  EXPECT_EQ(enc.bytes(), first);
}

// ---------------------------------------------------------------------------------------------
// Errors.

TEST(XorEncoderTest, RejectsSampleBeyondMaximum) {
  XorEncoder enc;
  for (int i = 0; i < kXorMaxSamples; ++i)
    ASSERT_THAT(enc.Append(i, 0.0), IsOk());
  EXPECT_THAT(enc.Append(kXorMaxSamples, 0.0), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(enc.num_samples(), kXorMaxSamples);
}

TEST(XorEncoderTest, EncodeRejectsMismatchedAndOversizedInput) {
  std::vector<int64_t> ts = {1, 2};
  std::vector<double> vs = {1.0};
  EXPECT_THAT(EncodeXorChunk(ts, vs), StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<int64_t> many_ts(kXorMaxSamples + 1);
  std::vector<double> many_vs(kXorMaxSamples + 1);
  EXPECT_THAT(EncodeXorChunk(many_ts, many_vs), StatusIs(absl::StatusCode::kResourceExhausted));
}

struct BadChunkCase {
  std::string name;
  std::string data;
};

std::string Chunk(std::initializer_list<uint8_t> bytes) {
  return std::string(bytes.begin(), bytes.end());
}

class XorDecoderErrorTest : public ::testing::TestWithParam<BadChunkCase> {};

TEST_P(XorDecoderErrorTest, ReturnsInvalidArgument) {
  const std::string data = GetParam().data;  // own copy: exact bounds for ASan
  std::vector<int64_t> ts(70000);
  std::vector<double> vs(70000);
  EXPECT_THAT(DecodeXorChunk(data, ts, vs), StatusIs(absl::StatusCode::kInvalidArgument));
}

INSTANTIATE_TEST_SUITE_P(
    BadChunks, XorDecoderErrorTest,
    ::testing::Values(
        BadChunkCase{"Empty", ""}, BadChunkCase{"OneByte", Chunk({0x00})},
        BadChunkCase{"CountWithoutSamples", Chunk({0x00, 0x01})},
        BadChunkCase{"CountTooLargeForBits", Chunk({0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0})},
        BadChunkCase{"MaxCountTinyChunk", Chunk({0xff, 0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})},
        BadChunkCase{"TimestampVarintOverflow",
                     Chunk({0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0,    0,    0,    0,    0,    0,    0})},
        BadChunkCase{"TenthVarintByteTooLarge",
                     Chunk({0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0x02, 0,    0,    0,    0,    0,    0,    0,    0})},
        // Two samples; the second value says "reuse window" before any window exists.
        BadChunkCase{"ReuseBeforeWindow",
                     Chunk({0x00, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0b10000000})},
        // Third sample reuses: the second wrote no window (value unchanged).
        BadChunkCase{"ReuseBeforeWindowInHotLoop",
                     Chunk({0x00, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0b00100000, 0})},
        // New window with 31 leading zeros and 40 significant bits: 71 > 64.
        BadChunkCase{"WindowWiderThan64",
                     Chunk({0x00, 0x02,       0x00,       0, 0, 0, 0, 0, 0, 0, 0,
                            0x01, 0b11111111, 0b10100000, 0, 0, 0, 0, 0, 0, 0})},
        BadChunkCase{"WindowWiderThan64InHotLoop",
                     Chunk({0x00, 0x03,       0x00,       0, 0, 0, 0, 0, 0, 0, 0,
                            0x01, 0b00111111, 0b11010000, 0, 0, 0, 0, 0, 0, 0, 0})},
        // A 64-bit dod bucket that runs past the last byte.
        BadChunkCase{"ReadsPastEnd",
                     Chunk({0x00, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0b01111000, 0, 0, 0})},
        BadChunkCase{"AllOnesAfterHeader",
                     Chunk({0x00, 0x78, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})}),
    [](const ::testing::TestParamInfo<BadChunkCase>& info) { return info.param.name; });

TEST(XorDecoderTest, HeaderCountLargerThanRealChunkFails) {
  ASSERT_FALSE(Golden().empty());
  for (const GoldenChunk& c : Golden()) {
    SCOPED_TRACE(c.series);
    std::string bad = c.data;
    const int count = static_cast<int>(c.ts.size()) + 40;
    bad[0] = static_cast<char>(count >> 8);
    bad[1] = static_cast<char>(count & 0xff);
    std::vector<int64_t> ts(count);
    std::vector<double> vs(count);
    EXPECT_THAT(DecodeXorChunk(bad, ts, vs), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(XorDecoderTest, GarbageNeverCrashesOrOverruns) {
  std::mt19937_64 rng(3);
  std::vector<int64_t> ts(65535);
  std::vector<double> vs(65535);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string data(rng() % 300, '\0');
    for (char& ch : data)
      ch = static_cast<char>(rng());
    if (data.size() >= 2 && trial % 2 == 0)
      data[0] = 0;  // plausible counts too
    absl::StatusOr<size_t> n = DecodeXorChunk(data, ts, vs);
    if (n.ok()) {
      EXPECT_EQ(*n, static_cast<size_t>(*XorNumSamples(data)));
    }
  }
}

TEST(XorDecoderTest, ErrorIsSticky) {
  const std::string data = Chunk({0x00, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0b00100000, 0});
  XorDecoder dec;
  ASSERT_THAT(dec.Reset(data), IsOk());
  int64_t ts[3];
  double vs[3];
  EXPECT_THAT(dec.Next(ts, vs), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(dec.Next(ts, vs), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(XorDecoderTest, ResetRejectsShortHeaderAndRecoversOnNextReset) {
  XorDecoder dec;
  EXPECT_THAT(dec.Reset(std::string_view("\x00", 1)), StatusIs(absl::StatusCode::kInvalidArgument));
  int64_t t;
  double v;
  EXPECT_THAT(dec.Next({&t, 1}, {&v, 1}), StatusIs(absl::StatusCode::kInvalidArgument));
  absl::StatusOr<std::string> chunk = EncodeXorChunk(std::vector<int64_t>{7}, std::vector{2.0});
  ASSERT_THAT(chunk, IsOk());
  ASSERT_THAT(dec.Reset(*chunk), IsOk());
  EXPECT_THAT(dec.Next({&t, 1}, {&v, 1}), IsOkAndHolds(size_t{1}));
  EXPECT_EQ(t, 7);
  EXPECT_EQ(v, 2.0);
}

TEST(XorDecoderTest, DecodeXorChunkRejectsTooSmallOutput) {
  absl::StatusOr<std::string> chunk =
      EncodeXorChunk(std::vector<int64_t>{1, 2, 3}, std::vector{1.0, 2.0, 3.0});
  ASSERT_THAT(chunk, IsOk());
  std::vector<int64_t> ts(2);
  std::vector<double> vs(3);
  EXPECT_THAT(DecodeXorChunk(*chunk, ts, vs), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(XorDecoderTest, NextFillsAtMostTheSmallerSpan) {
  absl::StatusOr<std::string> chunk =
      EncodeXorChunk(std::vector<int64_t>{1, 2, 3}, std::vector{1.0, 2.0, 3.0});
  ASSERT_THAT(chunk, IsOk());
  XorDecoder dec;
  ASSERT_THAT(dec.Reset(*chunk), IsOk());
  int64_t ts[3];
  double vs[2];
  EXPECT_THAT(dec.Next(ts, vs), IsOkAndHolds(size_t{2}));
  EXPECT_THAT(dec.Next(ts, vs), IsOkAndHolds(size_t{1}));
  EXPECT_EQ(ts[0], 3);
  EXPECT_THAT(dec.Next(ts, vs), IsOkAndHolds(size_t{0}));
}

TEST(XorNumSamplesTest, ReadsBigEndianHeaderAndRejectsShortInput) {
  EXPECT_THAT(XorNumSamples(Chunk({0x01, 0x02})), IsOkAndHolds(258));
  EXPECT_THAT(XorNumSamples(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ChunkHashTest, IsXxh64WithSeedZero) {
  EXPECT_EQ(ChunkHash(""), 0xEF46DB3751D8E999ull);
  EXPECT_EQ(ChunkHash("abc"), 0x44BC2CF5AD770999ull);
  EXPECT_NE(ChunkHash("abc"), ChunkHash("abd"));
}

}  // namespace
}  // namespace paodin::storeapi
