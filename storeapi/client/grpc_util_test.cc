#include "storeapi/client/grpc_util.h"

#include <gtest/gtest.h>

namespace paodin::storeapi {
namespace {

TEST(GrpcUtilTest, FormatsDurationsLikeGo) {
  struct Case {
    int64_t ms;
    const char* want;
  };

  for (const Case& c : {Case{0, "0ms"}, Case{250, "250ms"}, Case{1000, "1s"}, Case{1500, "1.5s"},
                        Case{120000, "2m0s"}, Case{3723000, "1h2m3s"}}) {
    EXPECT_EQ(FormatMillis(c.ms), c.want) << c.ms;
  }
}

TEST(GrpcUtilTest, RendersStatusesLikeGo) {
  grpc::Status st(grpc::StatusCode::UNAVAILABLE, "connection refused");
  EXPECT_EQ(GrpcStatusText(st), "rpc error: code = Unavailable desc = connection refused");
  absl::Status converted = FromGrpcStatus(st);
  EXPECT_EQ(converted.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(converted.message(), "connection refused");
  EXPECT_EQ(GrpcCodeName(grpc::StatusCode::DEADLINE_EXCEEDED), "DeadlineExceeded");
}

}  // namespace
}  // namespace paodin::storeapi
