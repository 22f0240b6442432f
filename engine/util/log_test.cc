#include "engine/util/log.h"

#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin::log {
namespace {

using ::paodin::testing::StatusIs;

TEST(LogTest, FormatsLogfmtWithQuotingWhereNeeded) {
  EXPECT_EQ(FormatLine(Format::kLogfmt, Level::kInfo, "2026-01-01T00:00:00.000Z", "query",
                       "listening on", {{"address", "0.0.0.0:10902"}, {"empty", ""}}),
            "ts=2026-01-01T00:00:00.000Z level=info caller=query msg=\"listening on\" "
            "address=0.0.0.0:10902 empty=\"\"");
}

TEST(LogTest, FormatsJsonWithEscapes) {
  EXPECT_EQ(FormatLine(Format::kJson, Level::kWarn, "t", "store", "a \"b\"\n", {{"k", "v"}}),
            "{\"ts\":\"t\",\"level\":\"warn\",\"caller\":\"store\",\"msg\":\"a \\\"b\\\"\\n\","
            "\"k\":\"v\"}");
}

TEST(LogTest, ConfigureRejectsUnknownNames) {
  EXPECT_THAT(Configure("loud", "logfmt"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Configure("info", "xml"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LogTest, ConfigureSetsMinimumLevel) {
  ASSERT_TRUE(Configure("warn", "logfmt").ok());
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  ASSERT_TRUE(Configure("info", "logfmt").ok());
  EXPECT_TRUE(Enabled(Level::kInfo));
}

}  // namespace
}  // namespace paodin::log
