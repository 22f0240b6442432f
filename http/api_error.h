// The error half of the API envelope: Prometheus' errorType strings and the HTTP status each
// one is answered with, and the mapping from our absl::Status codes.
#ifndef PAODIN_HTTP_API_ERROR_H_
#define PAODIN_HTTP_API_ERROR_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace paodin::http {

// The `errorType` of an error response.
enum class ErrorType {
  kBadData,      // "bad_data", 400
  kExecution,    // "execution", 422
  kCanceled,     // "canceled", 503 (Thanos; Prometheus >= 2.43 uses 499)
  kTimeout,      // "timeout", 503
  kInternal,     // "internal", 500
  kUnavailable,  // "unavailable", 500 (Prometheus has no case for it and falls to default)
  kNotFound,     // "not_found", 404
};

// The errorType string, e.g. "bad_data".
std::string_view ErrorTypeName(ErrorType type);

// The HTTP status code an error of this type is answered with.
int HttpStatusFor(ErrorType type);

// One API error: the type and the exact message of the `error` field.
struct ApiError {
  ErrorType type;
  std::string message;
};

// Prometheus' invalidParamError: bad_data with `invalid parameter "<param>": <message>`.
ApiError InvalidParam(std::string_view param, std::string_view message);

// Maps a backend status to an API error with the status message: Cancelled -> canceled,
// DeadlineExceeded -> timeout, InvalidArgument -> bad_data, Internal / Unavailable / DataLoss
// (storage failures) -> internal, everything else -> execution.
// REQUIRES: !status.ok().
ApiError FromStatus(const absl::Status& status);

}  // namespace paodin::http

#endif  // PAODIN_HTTP_API_ERROR_H_
