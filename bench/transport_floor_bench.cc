// Copyright 2026 The weft Authors.
//
// The floor under W2 on this machine: one-message round trips between two
// processes over (1) a raw TCP loopback socket and (2) a gRPC bidirectional
// stream, the transport weft's scheduler and workers use. The server side
// is a forked child process, as a worker is.
//
//   bazel run --config=opt //bench:transport_floor_bench
//
// Prints one JSON line per transport: p50/p99 of 2,000 round trips.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "rpc/testing/echo.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRounds = 2000;
constexpr int kWarmup = 200;

void Report(const std::string& transport, std::vector<double> us) {
  std::sort(us.begin(), us.end());
  std::printf(
      "{\"workload\": \"round_trip_floor\", \"transport\": \"%s\", "
      "\"count\": %zu, \"p50_us\": %.1f, \"p99_us\": %.1f, \"min_us\": "
      "%.1f}\n",
      transport.c_str(), us.size(), us[us.size() / 2],
      us[us.size() * 99 / 100], us.front());
  std::fflush(stdout);
}

// Raw TCP: the child echoes one byte at a time.
void TcpFloor() {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 ||
      ::bind(listener, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("tcp listener");
    return;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    int c = ::accept(listener, nullptr, nullptr);
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char b;
    while (::read(c, &b, 1) == 1) {
      if (::write(c, &b, 1) != 1) break;
    }
    ::_exit(0);
  }
  ::close(listener);
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::perror("tcp connect");
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return;
  }
  std::vector<double> us;
  char b = 'x';
  for (int i = 0; i < kRounds + kWarmup; ++i) {
    const auto start = Clock::now();
    if (::write(s, &b, 1) != 1 || ::read(s, &b, 1) != 1) break;
    if (i >= kWarmup) {
      us.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - start)
              .count());
    }
  }
  ::close(s);
  ::waitpid(child, nullptr, 0);
  if (!us.empty()) Report("tcp_loopback_1_byte", us);
}

class EchoService final : public weft::rpc::testing::Echo::Service {
  grpc::Status Chat(grpc::ServerContext*,
                    grpc::ServerReaderWriter<weft::rpc::testing::EchoReply,
                                             weft::rpc::testing::EchoRequest>*
                        stream) override {
    weft::rpc::testing::EchoRequest request;
    while (stream->Read(&request)) {
      weft::rpc::testing::EchoReply reply;
      reply.set_text(request.text());
      if (!stream->Write(reply)) break;
    }
    return grpc::Status::OK;
  }
};

// gRPC: the child serves Chat; the parent ping-pongs on one stream.
void GrpcFloor() {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    EchoService service;
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    if (::write(pipe_fds[1], &port, sizeof(port)) != sizeof(port)) ::_exit(1);
    server->Wait();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  int port = 0;
  if (::read(pipe_fds[0], &port, sizeof(port)) != sizeof(port) || port == 0) {
    std::fprintf(stderr, "grpc server did not start\n");
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return;
  }
  {
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    auto stub = weft::rpc::testing::Echo::NewStub(channel);
    grpc::ClientContext context;
    auto stream = stub->Chat(&context);
    std::vector<double> us;
    weft::rpc::testing::EchoRequest request;
    request.set_text("x");
    weft::rpc::testing::EchoReply reply;
    for (int i = 0; i < kRounds + kWarmup; ++i) {
      const auto start = Clock::now();
      if (!stream->Write(request) || !stream->Read(&reply)) break;
      if (i >= kWarmup) {
        us.push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - start)
                .count());
      }
    }
    stream->WritesDone();
    context.TryCancel();
    if (!us.empty()) Report("grpc_bidi_stream", us);
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

}  // namespace

int main() {
  TcpFloor();
  GrpcFloor();
  return 0;
}
