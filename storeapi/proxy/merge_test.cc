#include "storeapi/proxy/merge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storeapi/proxy/test_series.h"

namespace paodin::storeapi {
namespace {

using testing::Chunk;
using ::testing::ElementsAre;
using testing::Series;

std::unique_ptr<SeriesSource> Source(std::vector<StoreSeries> s) {
  return std::make_unique<VectorSeriesSource>(std::move(s));
}

struct Out {
  std::string labels;
  size_t chunks;
};

std::vector<std::string> MergeLabels(SeriesMerger& m, std::vector<size_t>* chunk_counts) {
  std::vector<std::string> out;
  StoreSeries s;
  for (;;) {
    absl::StatusOr<bool> more = m.Next(&s);
    EXPECT_TRUE(more.ok());
    if (!more.ok() || !*more)
      break;
    out.push_back(s.labels.ToString());
    chunk_counts->push_back(s.chunks.size());
  }
  return out;
}

TEST(SeriesMergerTest, OrdersByLabelsBytewiseAndJoinsEqualSeries) {
  std::vector<std::unique_ptr<SeriesSource>> sources;
  sources.push_back(
      Source({Series({{"a", "1"}}, {Chunk({{0, 1}})}), Series({{"a", "3"}}, {Chunk({{0, 1}})})}));
  sources.push_back(
      Source({Series({{"a", "1"}}, {Chunk({{10, 1}})}), Series({{"a", "2"}}, {Chunk({{0, 1}})}),
              Series({{"a", "2"}, {"b", "x"}}, {Chunk({{0, 1}})})}));
  sources.push_back(Source({}));
  sources.push_back(Source({Series({{"B", "1"}}, {Chunk({{0, 1}})})}));
  SeriesMerger merger(std::move(sources));
  ASSERT_TRUE(merger.Init().ok());
  std::vector<size_t> counts;
  // "B" < "a" bytewise; {a=2} is a prefix of {a=2,b=x} and sorts first.
  EXPECT_THAT(MergeLabels(merger, &counts), ElementsAre(R"({B="1"})", R"({a="1"})", R"({a="2"})",
                                                        R"({a="2", b="x"})", R"({a="3"})"));
  EXPECT_THAT(counts, ElementsAre(1, 2, 1, 1, 1));
}

TEST(SeriesMergerTest, DropsByteIdenticalChunksAndSortsTheRest) {
  std::vector<std::unique_ptr<SeriesSource>> sources;
  sources.push_back(Source({Series({{"a", "1"}}, {Chunk({{100, 1}, {200, 2}}), Chunk({{0, 1}})})}));
  sources.push_back(Source({Series({{"a", "1"}}, {Chunk({{100, 1}, {200, 2}}, 1)})}));
  sources.push_back(Source({Series({{"a", "1"}}, {Chunk({{100, 1}, {200, 3}}, 2)})}));
  SeriesMerger merger(std::move(sources));
  StoreSeries s;
  ASSERT_TRUE(*merger.Next(&s));
  ASSERT_EQ(s.chunks.size(), 3u);
  EXPECT_EQ(s.chunks[0].min_time, 0);
  EXPECT_EQ(s.chunks[1].min_time, 100);
  EXPECT_EQ(s.chunks[2].min_time, 100);
  EXPECT_NE(s.chunks[1].data, s.chunks[2].data);
  EXPECT_FALSE(*merger.Next(&s));
}

TEST(SeriesMergerTest, OrdersValuesWithNulBytesLikeCompare) {
  const std::string nul("x\0", 2);
  const std::string nul_a("x\0a", 3);
  std::vector<std::unique_ptr<SeriesSource>> sources;
  // Compare order: "x" < "x\0" < "x\0a" < "x\x01"; {a=x} < {a=x, b=1}.
  sources.push_back(
      Source({Series({{"a", "x"}}, {Chunk({{0, 1}})}), Series({{"a", nul_a}}, {Chunk({{0, 1}})})}));
  sources.push_back(Source({Series({{"a", "x"}, {"b", "1"}}, {Chunk({{0, 1}})}),
                            Series({{"a", "x\x01"}}, {Chunk({{0, 1}})})}));
  sources.push_back(Source({Series({{"a", nul}}, {Chunk({{0, 1}})})}));
  SeriesMerger merger(std::move(sources));
  std::vector<engine::Labels> got;
  StoreSeries s;
  while (*merger.Next(&s))
    got.push_back(s.labels);
  ASSERT_EQ(got.size(), 5u);
  for (size_t i = 1; i < got.size(); ++i)
    EXPECT_LT(engine::Compare(got[i - 1], got[i]), 0) << i;
  EXPECT_EQ(got[2].Get("a"), nul);
}

TEST(SeriesMergerTest, JoinsEqualSeriesWithinOneSourceAndAcrossSources) {
  // A store that could not strip replica labels sends two equal series in a row.
  std::vector<std::unique_ptr<SeriesSource>> sources;
  sources.push_back(
      Source({Series({{"a", "1"}}, {Chunk({{0, 1}})}), Series({{"a", "1"}}, {Chunk({{5, 1}})}),
              Series({{"a", "2"}}, {Chunk({{0, 1}})})}));
  sources.push_back(Source({Series({{"a", "1"}}, {Chunk({{9, 1}})})}));
  SeriesMerger merger(std::move(sources));
  std::vector<size_t> counts;
  EXPECT_THAT(MergeLabels(merger, &counts), ElementsAre(R"({a="1"})", R"({a="2"})"));
  EXPECT_THAT(counts, ElementsAre(3, 1));
}

class FailingSource : public SeriesSource {
 public:
  absl::StatusOr<bool> Next() override {
    return absl::UnavailableError("receive series from s1: broken");
  }

  StoreSeries& current() override { return current_; }

 private:
  StoreSeries current_;
};

TEST(SeriesMergerTest, SourceErrorStopsTheMerge) {
  std::vector<std::unique_ptr<SeriesSource>> sources;
  sources.push_back(Source({Series({{"a", "1"}}, {Chunk({{0, 1}})})}));
  sources.push_back(std::make_unique<FailingSource>());
  SeriesMerger merger(std::move(sources));
  absl::Status st = merger.Init();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "receive series from s1: broken");
}

TEST(SeriesMergerTest, NoSourcesMeansNoSeries) {
  SeriesMerger merger({});
  StoreSeries s;
  EXPECT_FALSE(*merger.Next(&s));
}

}  // namespace
}  // namespace paodin::storeapi
