// Copyright 2026 The weft Authors.
//
// gRPC's log lines through weft: a flood of failed-handshake lines (one per
// refused TLS connection in gRPC) is cut to a few and a count; other lines
// pass as they are.

#include "rpc/grpc_log.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpc/grpc.h"
#include "grpc/support/log.h"
#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

using ::testing::HasSubstr;

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    n += absl::StrContains(line, what);
  }
  return n;
}

TEST(GrpcLogTest, FailedHandshakeLinesAreRateLimitedAndOthersPass) {
  grpc_init();  // as in a process that made a channel or a server
  RouteGrpcLogs();
  RouteGrpcLogs();  // idempotent
  ASSERT_TRUE(gpr_should_log(GPR_LOG_SEVERITY_ERROR));
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 100; ++i) {
    gpr_log(__FILE__, __LINE__, GPR_LOG_SEVERITY_ERROR,
            "Handshake failed with fatal error SSL_ERROR_SSL: "
            "error:0A00010B:SSL routines::wrong version number.");
  }
  gpr_log(__FILE__, __LINE__, GPR_LOG_SEVERITY_ERROR, "something else: %d", 7);
  const std::string out = ::testing::internal::GetCapturedStderr();
  // One window's worth of the 100 (RateLimitedLog's default: 10 a window).
  EXPECT_EQ(Count(out, "a TLS handshake failed"), 10) << out;
  EXPECT_THAT(out, HasSubstr("weft: gRPC: a TLS handshake failed "
                             "(grpc_log_test.cc:"));
  EXPECT_THAT(out, HasSubstr("wrong version number"));
  EXPECT_THAT(out, HasSubstr("gRPC E grpc_log_test.cc:"));
  EXPECT_THAT(out, HasSubstr("] something else: 7"));
  grpc_shutdown();
}

}  // namespace
}  // namespace weft::rpc
