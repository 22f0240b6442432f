// Small helpers for gRPC statuses and durations in messages.
#ifndef PAODIN_STOREAPI_CLIENT_GRPC_UTIL_H_
#define PAODIN_STOREAPI_CLIENT_GRPC_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace paodin::storeapi {

// The canonical name of a gRPC status code, as Go prints it ("Unavailable", "DeadlineExceeded").
std::string_view GrpcCodeName(grpc::StatusCode code);

// "rpc error: code = Unavailable desc = connection refused", Go's rendering of a gRPC error.
std::string GrpcStatusText(const grpc::Status& status);

// Converts a gRPC status to an absl::Status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// Milliseconds as a short Go-like duration: 1500 -> "1.5s", 250 -> "250ms", 120000 -> "2m0s".
std::string FormatMillis(int64_t ms);

}  // namespace paodin::storeapi

#endif  // PAODIN_STOREAPI_CLIENT_GRPC_UTIL_H_
