#include "engine/util/status_macros.h"

#include <gtest/gtest.h>

#include "engine/util/status_matchers.h"

namespace paodin {
namespace {

using ::paodin::testing::IsOk;
using ::paodin::testing::StatusIs;

absl::StatusOr<int> Half(int v) {
  if (v % 2 != 0) {
    return absl::InvalidArgumentError("odd");
  }
  return v / 2;
}

absl::StatusOr<int> Quarter(int v) {
  PAODIN_ASSIGN_OR_RETURN(int half, Half(v));
  PAODIN_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int v) {
  PAODIN_RETURN_IF_ERROR(Half(v).status());
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesValueAndError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument, "odd"));
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  EXPECT_THAT(CheckEven(4), IsOk());
  EXPECT_THAT(CheckEven(3), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace paodin
