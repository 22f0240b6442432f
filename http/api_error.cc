#include "http/api_error.h"

#include "absl/strings/str_cat.h"
#include "engine/util/strings.h"

namespace paodin::http {

std::string_view ErrorTypeName(ErrorType type) {
  switch (type) {
    case ErrorType::kBadData:
      return "bad_data";
    case ErrorType::kExecution:
      return "execution";
    case ErrorType::kCanceled:
      return "canceled";
    case ErrorType::kTimeout:
      return "timeout";
    case ErrorType::kInternal:
      return "internal";
    case ErrorType::kUnavailable:
      return "unavailable";
    case ErrorType::kNotFound:
      return "not_found";
  }
  return "internal";
}

int HttpStatusFor(ErrorType type) {
  switch (type) {
    case ErrorType::kBadData:
      return 400;
    case ErrorType::kExecution:
      return 422;
    case ErrorType::kCanceled:
    case ErrorType::kTimeout:
      return 503;
    case ErrorType::kNotFound:
      return 404;
    case ErrorType::kInternal:
    case ErrorType::kUnavailable:
      return 500;
  }
  return 500;
}

ApiError InvalidParam(std::string_view param, std::string_view message) {
  return ApiError{ErrorType::kBadData,
                  absl::StrCat("invalid parameter \"", ToAbsl(param), "\": ", ToAbsl(message))};
}

ApiError FromStatus(const absl::Status& status) {
  std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kCancelled:
      return {ErrorType::kCanceled, std::move(message)};
    case absl::StatusCode::kDeadlineExceeded:
      return {ErrorType::kTimeout, std::move(message)};
    case absl::StatusCode::kInvalidArgument:
      return {ErrorType::kBadData, std::move(message)};
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
      return {ErrorType::kInternal, std::move(message)};
    default:
      return {ErrorType::kExecution, std::move(message)};
  }
}

}  // namespace paodin::http
