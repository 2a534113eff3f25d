// Copyright 2026 The weft Authors.
//
// Frame streams with the process's TLS on: a round trip, and peers that
// must not get a byte to the application (no certificate, another CA, no
// TLS at all).

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/frame_stream.h"
#include "rpc/tcp_socket.h"
#include "rpc/testing/tls_files.h"
#include "rpc/tls.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {
namespace {

using ::testing::HasSubstr;

EventLoop& Loop() {
  static EventLoop* loop = new EventLoop(2, "tls-test-loop");
  return *loop;
}

const TlsFiles& Cluster() {
  static const TlsFiles files = testing::TestTlsFiles("cluster");
  return files;
}

const TlsFiles& OtherCluster() {
  static const TlsFiles files = testing::TestTlsFiles("other");
  return files;
}

// A listener and what it accepted or refused.
struct Server {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<FrameStream>> accepted;
  std::vector<std::string> errors;
  std::unique_ptr<FrameListener> listener;

  explicit Server(const TlsFiles& tls) {
    EXPECT_TRUE(ConfigureProcessTls(tls).ok());
    auto l = FrameListener::Listen("127.0.0.1", 0, Loop());
    EXPECT_TRUE(l.ok()) << l.status();
    listener = *std::move(l);
    listener->StartAccepting(
        [this](std::shared_ptr<FrameStream> s) {
          std::lock_guard<std::mutex> lock(mu);
          accepted.push_back(std::move(s));
          cv.notify_all();
        },
        [this](const absl::Status& error) {
          std::lock_guard<std::mutex> lock(mu);
          errors.emplace_back(error.message());
          cv.notify_all();
        });
  }
  ~Server() {
    listener.reset();
    for (auto& s : accepted) s->Shutdown();
  }
  // Waits (at most a minute) for an accepted stream or a refusal.
  bool WaitForSomething() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::minutes(1), [&] {
      return !accepted.empty() || !errors.empty();
    });
  }
};

WorkerMessage Message(uint64_t id, size_t padding) {
  WorkerMessage m;
  auto* r = m.add_results();
  r->set_id(id);
  r->set_inline_value(std::string(padding, static_cast<char>('a' + id % 26)));
  return m;
}

TEST(FrameStreamTlsTest, RoundTripBothWays) {
  Server server(Cluster());
  auto client = ConnectFrameStream("127.0.0.1", server.listener->port(),
                                   absl::Seconds(30), Loop());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(server.WaitForSomething());
  std::shared_ptr<FrameStream> accepted;
  {
    std::lock_guard<std::mutex> lock(server.mu);
    ASSERT_TRUE(server.errors.empty()) << server.errors[0];
    accepted = server.accepted.at(0);
  }
  // Small and large (over a TLS record, over a socket buffer) messages.
  const std::vector<size_t> sizes = {0, 10, 20000, 3 << 20, 7, 1 << 16};
  // The server echoes on the event loop.
  accepted->StartReading(
      [accepted](absl::Span<const std::string_view> frames) {
        for (std::string_view f : frames) {
          WorkerMessage m;
          EXPECT_TRUE(m.ParseFromArray(f.data(), static_cast<int>(f.size())));
          EXPECT_TRUE(accepted->Send(m));
        }
        return frames.size();
      },
      [](const absl::Status&) {});
  for (size_t i = 0; i < sizes.size(); ++i) {
    ASSERT_TRUE((*client)->Send(Message(i, sizes[i])));
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    WorkerMessage got;
    ASSERT_TRUE((*client)->Read(got, absl::Now() + absl::Minutes(1)))
        << (*client)->status();
    const WorkerMessage want = Message(i, sizes[i]);
    EXPECT_EQ(got.SerializeAsString(), want.SerializeAsString()) << i;
  }
  (*client)->Shutdown();
}

TEST(FrameStreamTlsTest, PlaintextPeerIsRefusedWithoutAByte) {
  Server server(Cluster());
  absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", server.listener->port(),
                                      absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(fd.ok());
  // A frame as a plaintext peer would send it.
  FrameHello hello;
  hello.set_key("0123456789abcdef");
  std::string bytes;
  AppendFrame(hello, hello.ByteSizeLong(), bytes);
  ASSERT_EQ(::send(*fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  ASSERT_TRUE(server.WaitForSomething());
  std::lock_guard<std::mutex> lock(server.mu);
  EXPECT_TRUE(server.accepted.empty());
  ASSERT_EQ(server.errors.size(), 1u);
  EXPECT_THAT(server.errors[0], HasSubstr("refused a connection from"));
  ::close(*fd);
}

TEST(FrameStreamTlsTest, PeerWithoutCertificateIsRefused) {
  Server server(Cluster());
  absl::StatusOr<int> fd = ConnectTcp("127.0.0.1", server.listener->port(),
                                      absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(fd.ok());
  // A TLS client that trusts anything and presents no certificate (on
  // OpenSSL's own socket BIO, which may raise SIGPIPE as the server
  // closes).
  ::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, *fd);
  int rc;
  while ((rc = SSL_connect(ssl)) != 1) {
    const int e = SSL_get_error(ssl, rc);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) break;
    ::usleep(1000);
  }
  // (In TLS 1.3 the client finishes first, and may send at once.)
  if (rc == 1) SSL_write(ssl, "hello", 5);
  ASSERT_TRUE(server.WaitForSomething());
  {
    std::lock_guard<std::mutex> lock(server.mu);
    EXPECT_TRUE(server.accepted.empty());
    ASSERT_EQ(server.errors.size(), 1u);
    EXPECT_THAT(server.errors[0], HasSubstr("certificate"));
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  ::close(*fd);
}

// A connection that never shakes hands holds up no one, and is dropped
// after kTlsHandshakeTimeout.
TEST(FrameStreamTlsTest, SilentPeerBlocksNothingAndIsDropped) {
  Server server(Cluster());
  absl::StatusOr<int> silent = ConnectTcp(
      "127.0.0.1", server.listener->port(), absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(silent.ok());
  auto client = ConnectFrameStream("127.0.0.1", server.listener->port(),
                                   absl::Seconds(30), Loop());
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(server.WaitForSomething());
  {
    std::lock_guard<std::mutex> lock(server.mu);
    EXPECT_EQ(server.accepted.size(), 1u);
    EXPECT_TRUE(server.errors.empty());
  }
  // The server closes the silent one (recv sees the end) and says why.
  pollfd p{*silent, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 60000), 1);
  char byte;
  EXPECT_LE(::recv(*silent, &byte, 1, 0), 0);
  {
    std::unique_lock<std::mutex> lock(server.mu);
    ASSERT_TRUE(server.cv.wait_for(lock, std::chrono::minutes(1),
                                   [&] { return !server.errors.empty(); }));
    EXPECT_THAT(server.errors[0], HasSubstr("no TLS handshake within"));
  }
  (*client)->Shutdown();
  ::close(*silent);
}

TEST(FrameStreamTlsTest, CertificateOfAnotherCaIsRefusedOnBothSides) {
  Server server(Cluster());
  ASSERT_TRUE(ConfigureProcessTls(OtherCluster()).ok());
  auto client = ConnectFrameStream("127.0.0.1", server.listener->port(),
                                   absl::Seconds(30), Loop());
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(),
              HasSubstr(absl::StrCat("127.0.0.1:", server.listener->port())));
  EXPECT_THAT(client.status().message(), HasSubstr("not one of this cluster's"));
  ASSERT_TRUE(server.WaitForSomething());
  std::lock_guard<std::mutex> lock(server.mu);
  EXPECT_TRUE(server.accepted.empty());
  EXPECT_EQ(server.errors.size(), 1u);
}

TEST(FrameStreamTlsTest, TlsClientOfAPlaintextListenerFailsWithinItsDeadline) {
  Server server(TlsFiles{});
  ASSERT_TRUE(ConfigureProcessTls(Cluster()).ok());
  auto client = ConnectFrameStream("127.0.0.1", server.listener->port(),
                                   absl::Seconds(1), Loop());
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("without TLS"));
}

}  // namespace
}  // namespace weft::rpc
