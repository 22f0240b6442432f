#include "storeapi/proxy/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin::storeapi {
namespace {

using ::paodin::testing::StatusIs;
using ::testing::ElementsAre;

TEST(ParseReplicaLabelsTest, SplitsSortsAndDeduplicates) {
  std::vector<std::string> flags = {"replica,prometheus_replica", " rule_replica ", "replica,,"};
  auto labels = ParseReplicaLabels(flags);
  ASSERT_TRUE(labels.ok());
  EXPECT_THAT(*labels, ElementsAre("prometheus_replica", "replica", "rule_replica"));
}

TEST(ParseReplicaLabelsTest, RejectsInvalidNames) {
  std::vector<std::string> flags = {"replica,0bad"};
  EXPECT_THAT(ParseReplicaLabels(flags), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseDedupFuncTest, KnowsPenaltyAndChain) {
  EXPECT_EQ(*ParseDedupFunc("penalty"), DedupFunc::kPenalty);
  EXPECT_EQ(*ParseDedupFunc("chain"), DedupFunc::kChain);
  EXPECT_THAT(ParseDedupFunc("quorum"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace paodin::storeapi
