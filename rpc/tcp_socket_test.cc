// Copyright 2026 The weft Authors.
//
// ConnectTcp and ListenTcp: a listener on a free port that takes a
// connection, and the errors that name the address and the reason.

#include "rpc/tcp_socket.h"

#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

using ::testing::HasSubstr;

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

TEST(TcpSocketTest, ListensOnAFreePortAndTakesAConnection) {
  absl::StatusOr<TcpListener> listener = ListenTcp("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_GT(listener->port, 0);
  absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", listener->port, Soon());
  ASSERT_TRUE(fd.ok()) << fd.status();
  ::close(*fd);
  ::close(listener->fd);
}

TEST(TcpSocketTest, ErrorsNameTheAddressAndTheReason) {
  absl::StatusOr<TcpListener> listener = ListenTcp("127.0.0.1", 0);
  ASSERT_TRUE(listener.ok()) << listener.status();
  const int port = listener->port;
  // A second listener on the same port.
  absl::StatusOr<TcpListener> again = ListenTcp("127.0.0.1", port);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(absl::IsUnavailable(again.status()));
  EXPECT_THAT(again.status().message(),
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port) +
                        ": Address already in use"));
  ::close(listener->fd);
  // Nobody listens there any more.
  absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", port, Soon());
  ASSERT_FALSE(fd.ok());
  EXPECT_THAT(fd.status().message(),
              HasSubstr("cannot connect to 127.0.0.1:" + std::to_string(port) +
                        ": Connection refused"));
  absl::StatusOr<int> unnamed = ConnectTcp("no-such-host.invalid", 1, Soon());
  ASSERT_FALSE(unnamed.ok());
  EXPECT_THAT(unnamed.status().message(),
              HasSubstr("cannot resolve no-such-host.invalid:1"));
}

}  // namespace
}  // namespace weft::rpc
