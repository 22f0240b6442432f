// gMock matchers for absl::Status and absl::StatusOr, for tests only.
#ifndef PAODIN_ENGINE_UTIL_STATUS_MATCHERS_H_
#define PAODIN_ENGINE_UTIL_STATUS_MATCHERS_H_

#include <gmock/gmock.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace paodin::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }

template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// EXPECT_THAT(DoIt(), IsOk());
MATCHER(IsOk, "is OK") { return GetStatus(arg).ok(); }

// EXPECT_THAT(Parse("x"), StatusIs(absl::StatusCode::kInvalidArgument));
MATCHER_P(StatusIs, code, "has status code " + ::testing::PrintToString(code)) {
  return GetStatus(arg).code() == code;
}

// EXPECT_THAT(Parse("x"), StatusIs(absl::StatusCode::kInvalidArgument, "1:3: parse error: ..."));
MATCHER_P2(StatusIs, code, message,
           "has status code " + ::testing::PrintToString(code) + " and message " +
               ::testing::PrintToString(message)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code && status.message() == message;
}

// EXPECT_THAT(Parse("x"), StatusHasSubstr("unexpected"));
MATCHER_P(StatusHasSubstr, substr, "has a message containing " + ::testing::PrintToString(substr)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return !status.ok() && status.message().find(substr) != absl::string_view::npos;
}

}  // namespace paodin::testing

#endif  // PAODIN_ENGINE_UTIL_STATUS_MATCHERS_H_
