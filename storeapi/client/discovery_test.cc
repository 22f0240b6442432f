#include "storeapi/client/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin::storeapi {
namespace {

using ::paodin::testing::StatusIs;
using ::testing::Contains;
using ::testing::ElementsAre;

TEST(ResolveEndpointSpecTest, PlainAddressIsUsedAsIs) {
  auto addrs = ResolveEndpointSpec("store-1.example:10901");
  ASSERT_TRUE(addrs.ok());
  EXPECT_THAT(*addrs, ElementsAre("store-1.example:10901"));
}

TEST(ResolveEndpointSpecTest, DnsPrefixResolvesTheHost) {
  auto addrs = ResolveEndpointSpec("dns+localhost:10901");
  ASSERT_TRUE(addrs.ok()) << addrs.status();
  EXPECT_THAT(*addrs, Contains("127.0.0.1:10901"));
}

TEST(ResolveEndpointSpecTest, RejectsMalformedSpecs) {
  struct Case {
    const char* spec;
    absl::StatusCode code;
  };

  for (const Case& c : {Case{"", absl::StatusCode::kInvalidArgument},
                        Case{"no-port", absl::StatusCode::kInvalidArgument},
                        Case{"dns+no-port", absl::StatusCode::kInvalidArgument},
                        Case{"foo+bar:1", absl::StatusCode::kInvalidArgument},
                        Case{"dnssrv+", absl::StatusCode::kInvalidArgument},
                        Case{"dns+does-not-exist.invalid:1", absl::StatusCode::kUnavailable}}) {
    EXPECT_THAT(ResolveEndpointSpec(c.spec), StatusIs(c.code)) << c.spec;
  }
}

TEST(ParseFileSdTest, ReadsYamlAndJsonTargetGroups) {
  auto yaml = ParseFileSd("- targets: ['a:1', 'b:2']\n  labels: {x: y}\n- targets: ['c:3']\n");
  ASSERT_TRUE(yaml.ok());
  EXPECT_THAT(*yaml, ElementsAre("a:1", "b:2", "c:3"));
  auto json = ParseFileSd(R"([{"targets": ["d:4"], "labels": {"job": "x"}}])");
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, ElementsAre("d:4"));
  auto empty = ParseFileSd("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseFileSdTest, RejectsMalformedFiles) {
  for (const char* content : {"targets: [a]", "- targets: a:1", "- [1, 2]", "- targets: [[a]]",
                              "[{\"targets\": [\"a:1\"]"}) {
    EXPECT_THAT(ParseFileSd(content), StatusIs(absl::StatusCode::kInvalidArgument)) << content;
  }
}

TEST(FileSdWatcherTest, ReportsUnreadableFilesAndKeepsGoing) {
  FileSdWatcher watcher({"/nonexistent-dir/*.yaml"});
  std::vector<std::string> errors;
  EXPECT_TRUE(watcher.Targets(&errors).empty());
  EXPECT_TRUE(errors.empty());
}

}  // namespace
}  // namespace paodin::storeapi
