// Copyright 2026 The weft Authors.
//
// The floor under W2 on this machine: one-message round trips between two
// processes over (1) a raw TCP loopback socket and (2) a gRPC bidirectional
// stream, the transport weft's scheduler and workers use, with one thread
// each side. The server side is a forked child process, as a worker is.
// Then two gRPC streams with a worker's thread hops (bench/history.md):
// (3) the sync API as weft uses it (the parent writes from a writer thread
// and reads on a reader thread while the caller polls; the child reads,
// hands to an "executor" thread, which hands to a writer thread), and
// (4) the callback API on both sides with the same executor hand-off.
//
//   bazel run --config=opt //bench:transport_floor_bench
//
// Prints one JSON line per transport: p50/p99 of 2,000 round trips.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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

// A forked child serving one gRPC service on a loopback port. Children are
// forked before the parent touches gRPC: gRPC's threads do not survive a
// fork, so a child forked later would hang.
struct ServerChild {
  pid_t pid = 0;
  int port = 0;  // 0: it did not start

  ~ServerChild() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

template <class Service>
std::unique_ptr<ServerChild> StartServer() {
  auto child = std::make_unique<ServerChild>();
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return child;
  child->pid = ::fork();
  if (child->pid == 0) {
    ::close(pipe_fds[0]);
    Service service;
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
  pollfd ready{pipe_fds[0], POLLIN, 0};
  int port = 0;
  if (::poll(&ready, 1, /*timeout_ms=*/10000) != 1 ||
      ::read(pipe_fds[0], &port, sizeof(port)) != sizeof(port)) {
    port = 0;
  }
  ::close(pipe_fds[0]);
  child->port = port;
  if (port == 0) std::fprintf(stderr, "grpc server did not start\n");
  return child;
}

// gRPC: the child serves Chat; the parent ping-pongs on one stream.
void GrpcFloor(const ServerChild& server) {
  if (server.port == 0) return;
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server.port),
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

using weft::rpc::testing::EchoReply;
using weft::rpc::testing::EchoRequest;

// A thread that runs posted closures in order: an executor, or a writer.
class Runner {
 public:
  Runner() : thread_([this] { Loop(); }) {}
  ~Runner() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Post(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(f));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::function<void()> f = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      f();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

// Sync server shaped like a worker: reader -> executor -> writer.
class HopEchoService final : public weft::rpc::testing::Echo::Service {
  grpc::Status Chat(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<EchoReply, EchoRequest>* stream) override {
    Runner writer, executor;
    EchoRequest request;
    while (stream->Read(&request)) {
      executor.Post([&writer, stream, text = request.text()] {
        writer.Post([stream, text] {
          EchoReply reply;
          reply.set_text(text);
          stream->Write(reply);
        });
      });
    }
    return grpc::Status::OK;
  }
};

// Callback server: OnReadDone -> executor -> StartWrite.
class HopEchoReactor final
    : public grpc::ServerBidiReactor<EchoRequest, EchoReply> {
 public:
  HopEchoReactor() { StartRead(&request_); }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    executor_.Post([this, text = request_.text()] {
      reply_.set_text(text);
      StartWrite(&reply_);
    });
  }
  void OnWriteDone(bool) override { StartRead(&request_); }
  void OnDone() override { delete this; }

 private:
  EchoRequest request_;
  EchoReply reply_;
  Runner executor_;
};

class HopEchoCallbackService final
    : public weft::rpc::testing::Echo::CallbackService {
  grpc::ServerBidiReactor<EchoRequest, EchoReply>* Chat(
      grpc::CallbackServerContext*) override {
    return new HopEchoReactor;
  }
};

class HopEchoClient final
    : public grpc::ClientBidiReactor<EchoRequest, EchoReply> {
 public:
  void OnReadDone(bool ok) override {
    if (!ok) return;
    replies.fetch_add(1);
    StartRead(&reply);
  }
  void OnWriteDone(bool) override { writes.fetch_add(1); }
  void OnDone(const grpc::Status&) override { done = true; }

  EchoRequest request;
  EchoReply reply;
  std::atomic<int> replies{0};
  std::atomic<int> writes{0};
  std::atomic<bool> done{false};
};

// The caller polls for the reply (as a weft client's get() does first).
void PollFor(const std::atomic<int>& counter, int want) {
  while (counter.load(std::memory_order_acquire) < want) ::sched_yield();
}

// 2,000 round trips to `server` (a hop service); `callback` picks the
// parent's API.
void HopFloor(const ServerChild& server, const std::string& transport,
              bool callback) {
  if (server.port == 0) return;
  const int port = server.port;
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  auto stub = weft::rpc::testing::Echo::NewStub(channel);
  std::vector<double> us;
  auto timed = [&](int i, auto&& round_trip) {
    const auto start = Clock::now();
    round_trip();
    if (i >= kWarmup) {
      us.push_back(
          std::chrono::duration<double, std::micro>(Clock::now() - start)
              .count());
    }
  };
  if (!callback) {
    grpc::ClientContext context;
    auto stream = stub->Chat(&context);
    std::atomic<int> replies{0};
    std::thread reader([&] {
      EchoReply reply;
      while (stream->Read(&reply)) replies.fetch_add(1);
    });
    {
      Runner writer;
      for (int i = 0; i < kRounds + kWarmup; ++i) {
        timed(i, [&] {
          writer.Post([&] {
            EchoRequest request;
            request.set_text("x");
            stream->Write(request);
          });
          PollFor(replies, i + 1);
        });
      }
    }
    stream->WritesDone();
    context.TryCancel();
    reader.join();
  } else {
    grpc::ClientContext context;
    HopEchoClient client;
    stub->async()->Chat(&context, &client);
    client.request.set_text("x");
    client.StartRead(&client.reply);
    client.AddHold();
    client.StartCall();
    for (int i = 0; i < kRounds + kWarmup; ++i) {
      timed(i, [&] {
        client.StartWrite(&client.request);
        PollFor(client.replies, i + 1);
        PollFor(client.writes, i + 1);  // one write in flight at a time
      });
    }
    client.StartWritesDone();
    client.RemoveHold();
    context.TryCancel();
    while (!client.done) ::sched_yield();
  }
  if (!us.empty()) Report(transport, us);
}

}  // namespace

int main() {
  std::unique_ptr<ServerChild> echo = StartServer<EchoService>();
  std::unique_ptr<ServerChild> sync_hops = StartServer<HopEchoService>();
  std::unique_ptr<ServerChild> callback_hops =
      StartServer<HopEchoCallbackService>();
  TcpFloor();
  GrpcFloor(*echo);
  HopFloor(*sync_hops, "grpc_sync_worker_hops", /*callback=*/false);
  HopFloor(*callback_hops, "grpc_callback_worker_hops", /*callback=*/true);
  return 0;
}
