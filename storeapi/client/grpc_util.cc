#include "storeapi/client/grpc_util.h"

#include <fmt/format.h>

#include "engine/util/strings.h"

namespace paodin::storeapi {

std::string_view GrpcCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "Canceled";
    case grpc::StatusCode::UNKNOWN:
      return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FailedPrecondition";
    case grpc::StatusCode::ABORTED:
      return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "Unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "Internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "Unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "Unauthenticated";
    default:
      return "Unknown";
  }
}

std::string GrpcStatusText(const grpc::Status& status) {
  return fmt::format("rpc error: code = {} desc = {}", GrpcCodeName(status.error_code()),
                     status.error_message());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      ToAbsl(status.error_message()));
}

std::string FormatMillis(int64_t ms) {
  if (ms < 1000)
    return fmt::format("{}ms", ms);
  const int64_t hours = ms / 3600000;
  const int64_t minutes = (ms / 60000) % 60;
  const double seconds = static_cast<double>(ms % 60000) / 1000.0;
  if (hours > 0)
    return fmt::format("{}h{}m{}s", hours, minutes, seconds);
  if (minutes > 0)
    return fmt::format("{}m{}s", minutes, seconds);
  return fmt::format("{}s", seconds);
}

}  // namespace paodin::storeapi
