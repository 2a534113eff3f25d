// Copyright 2026 The weft Authors.
//
// Strangers cannot keep peers out of a scheduler. Hundreds of connections
// that never show a key are held open on its frame port (idle ones, ones
// that sent part of a hello, ones that trickle a byte at a time) and on its
// gRPC port (idle, half an HTTP/2 preface), while workers (SimWorkers:
// the real handshake and frame streams) and clients join and run tasks.
// Every wait has a timeout: a scheduler that took one connection at a time
// and waited on each (as it once did, 2 s per connection) would keep these
// peers out for many minutes, far beyond them.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "rpc/weft.pb.h"
#include "scheduler/scheduler_service.h"
#include "scheduler/testing/server_fixture.h"
#include "scheduler/testing/sim_workers.h"
#include "weft/weft.h"

namespace {

int64_t Inc(int64_t x) { return x + 1; }  // what SimWorkers answer

}  // namespace

WEFT_REMOTE(Inc);

namespace weft::scheduler {
namespace {

using testing::Eventually;
using testing::SimWorkers;

constexpr char kToken[] = "accept-path-test-token";

// Waits up to 20 s for `done`.
// A TCP connection to 127.0.0.1:port; -1 on failure.
int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent,
                             MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// A frame header announcing `bytes` bytes (rpc/frame_codec.h).
std::string Header(uint32_t bytes) {
  std::string h(4, '\0');
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(bytes >> (8 * i));
  return h;
}

// Whether the other end closed `fd` (it reads as the end of the stream).
bool ClosedByPeer(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// Connections held open by the test, closed at the end.
class Strangers {
 public:
  ~Strangers() {
    StopTrickling();
    for (int fd : all_) ::close(fd);
  }

  // Connects and sends nothing.
  bool Idle(int port, int n) { return Sending(port, n, ""); }
  // Connects and sends `bytes`.
  bool Sending(int port, int n, const std::string& bytes) {
    for (int i = 0; i < n; ++i) {
      if (!Open(port, bytes)) return false;
    }
    return true;
  }
  // Connects; a thread then sends each of these one byte of a hello that
  // announces 4,000 bytes, every 20 ms, until the test ends (slowloris).
  bool Trickling(int port, int n) {
    for (int i = 0; i < n; ++i) {
      const int fd = Connect(port);
      if (fd < 0) return false;
      all_.push_back(fd);
      trickling_.push_back(fd);
    }
    return true;
  }
  // The three kinds of stranger that never show a key: `idle` that send
  // nothing, `partial` that send the start of a hello frame and never the
  // rest, and `trickling` (above), which start trickling at once.
  bool Keyless(int port, int idle, int partial, int trickling) {
    if (!Idle(port, idle) ||
        !Sending(port, partial, Header(64) + std::string(10, 'k')) ||
        !Trickling(port, trickling)) {
      return false;
    }
    StartTrickling();
    return true;
  }
  void StartTrickling() {
    trickler_ = std::thread([this] {
      const std::string bytes = Header(4000) + std::string(4000, 'x');
      for (size_t at = 0; !stop_.load() && at < bytes.size(); ++at) {
        for (int fd : trickling_) {
          // A connection the scheduler closed fails; the rest go on.
          (void)::send(fd, &bytes[at], 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  void StopTrickling() {
    stop_ = true;
    if (trickler_.joinable()) trickler_.join();
  }

  // How many of the connections opened so far the scheduler closed.
  int ClosedByScheduler() const {
    int n = 0;
    for (int fd : all_) n += ClosedByPeer(fd) ? 1 : 0;
    return n;
  }
  int size() const { return static_cast<int>(all_.size()); }

 private:
  bool Open(int port, const std::string& bytes) {
    const int fd = Connect(port);
    if (fd < 0) return false;
    all_.push_back(fd);
    return bytes.empty() || SendAll(fd, bytes);
  }

  std::vector<int> all_;
  std::vector<int> trickling_;
  std::thread trickler_;
  std::atomic<bool> stop_{false};
};

class AcceptPathTest : public testing::SchedulerServerTest {
 protected:
  void SetUp() override {
    // A thousand and more sockets, both ends in this process.
    ASSERT_GE(SimWorkers::RaiseOpenFileLimit(), 4096u)
        << "too few file descriptors allowed";
    token_file_ = WriteTokenFile(kToken);
  }

  void Start(FrameRendezvous::Options rendezvous) {
    SchedulerService::Options options;
    options.token = kToken;
    options.rendezvous = rendezvous;
    StartServer(options);
    if (HasFatalFailure()) return;
    ASSERT_GT(server_->frame_port(), 0);
    grpc_port_ = std::stoi(
        server_->address().substr(server_->address().rfind(':') + 1));
  }

  // `clients` clients connect at once, each runs `tasks` tasks on the
  // workers and checks the results. Returns how many succeeded.
  int ClientsJoinAndWork(int clients, int tasks) {
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        try {
          Client client = Client::Connect(server_->address(), token_file_,
                                          std::chrono::seconds(20));
          std::vector<int64_t> xs(tasks);
          std::iota(xs.begin(), xs.end(), int64_t{1000} * c);
          std::vector<int64_t> ys =
              weft::get(client.map(Inc, xs), std::chrono::seconds(20));
          for (int i = 0; i < tasks; ++i) {
            if (ys[i] != xs[i] + 1) return;
          }
          ++ok;
        } catch (const std::exception& e) {
          ADD_FAILURE() << "client " << c << ": " << e.what();
        }
      });
    }
    for (std::thread& t : threads) t.join();
    return ok.load();
  }

  std::string token_file_;
  int grpc_port_ = 0;
};

TEST_F(AcceptPathTest, HundredsOfStrangersHeldOpenDoNotKeepPeersOut) {
  FrameRendezvous::Options rendezvous;
  // Long enough that no stranger is closed for time during the test: the
  // counts below are then exact.
  rendezvous.hello_timeout = absl::Seconds(120);
  rendezvous.max_pending = 256;
  Start(rendezvous);
  const int frame_port = server_->frame_port();

  // Strangers the frame port refuses at once: a key nobody was given, a
  // hello announcing more than max_hello_bytes.
  Strangers strangers;
  rpc::FrameHello wrong;
  wrong.set_key("a key nobody was given");
  const std::string wrong_frame =
      Header(static_cast<uint32_t>(wrong.ByteSizeLong())) +
      wrong.SerializeAsString();
  ASSERT_TRUE(strangers.Sending(frame_port, 10, wrong_frame));
  ASSERT_TRUE(strangers.Sending(frame_port, 10, Header(1 << 20)));
  ASSERT_TRUE(Eventually([&] {
    return server_->service().frame_counts().refused == 20;
  })) << server_->service().frame_counts().refused;

  // 400 strangers that show no key and stay: 256 wait for a key, the
  // oldest 144 are closed to make room (the cap on keyless connections).
  ASSERT_TRUE(strangers.Keyless(frame_port, /*idle=*/200, /*partial=*/100,
                                /*trickling=*/100));
  ASSERT_TRUE(Eventually([&] {
    return server_->service().frame_counts().accepted == 420;
  })) << server_->service().frame_counts().accepted;
  FrameRendezvous::Counts counts = server_->service().frame_counts();
  EXPECT_EQ(counts.evicted, 144u);
  EXPECT_EQ(counts.timed_out, 0u);
  EXPECT_EQ(counts.joined, 0u);
  // And 150 on the gRPC port: idle, and half of HTTP/2's preface.
  Strangers grpc_strangers;
  ASSERT_TRUE(grpc_strangers.Idle(grpc_port_, 100));
  ASSERT_TRUE(grpc_strangers.Sending(grpc_port_, 50, "PRI * HTTP/2.0\r\n"));

  // Workers and clients join while all that is held open, and work runs.
  const auto start = std::chrono::steady_clock::now();
  SimWorkers sims(SimOptions());
  absl::Status joined = sims.Add(40, /*parallel=*/8, absl::Seconds(20));
  ASSERT_TRUE(joined.ok()) << joined;
  EXPECT_EQ(ClientsJoinAndWork(/*clients=*/4, /*tasks=*/500), 4);
  std::fprintf(stderr, "40 workers and 4 clients joined and ran 2,000 tasks "
               "in %.3f s\n",
               std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - start).count());
  EXPECT_EQ(server_->service().num_workers(), 40u);
  EXPECT_EQ(sims.counts().answered, 2000u);

  counts = server_->service().frame_counts();
  EXPECT_EQ(counts.joined, 44u);  // 40 workers, 4 clients
  EXPECT_EQ(counts.accepted, 464u);
  EXPECT_EQ(counts.refused, 20u);
  EXPECT_EQ(counts.timed_out, 0u);
  // Every peer found room: strangers were closed for it when needed (and
  // never the peer, which shows its key at once).
  EXPECT_GE(counts.evicted, 144u);
  EXPECT_LE(counts.evicted, 144u + 44u);
  // The strangers not closed for room are still held open.
  const int closed = 20 + static_cast<int>(counts.evicted);
  EXPECT_TRUE(Eventually([&] { return strangers.ClosedByScheduler() == closed; }))
      << strangers.ClosedByScheduler() << " closed, expected " << closed;
  EXPECT_EQ(strangers.size() - closed, 400 - static_cast<int>(counts.evicted));
}

TEST_F(AcceptPathTest, StrangersAreClosedAtTheirDeadline) {
  FrameRendezvous::Options rendezvous;
  rendezvous.hello_timeout = absl::Milliseconds(300);
  rendezvous.max_pending = 1000;  // no room needed: only deadlines close
  Start(rendezvous);
  const int frame_port = server_->frame_port();
  Strangers strangers;
  // Bytes that keep coming (the trickling ones) do not move a connection's
  // deadline.
  ASSERT_TRUE(strangers.Keyless(frame_port, /*idle=*/100, /*partial=*/50,
                                /*trickling=*/50));
  ASSERT_TRUE(Eventually([&] {
    return server_->service().frame_counts().timed_out == 200;
  })) << server_->service().frame_counts().timed_out;
  EXPECT_TRUE(Eventually([&] { return strangers.ClosedByScheduler() == 200; }))
      << strangers.ClosedByScheduler();
  const FrameRendezvous::Counts counts = server_->service().frame_counts();
  EXPECT_EQ(counts.accepted, 200u);
  EXPECT_EQ(counts.evicted, 0u);
  EXPECT_EQ(counts.refused, 0u);
  // And the port serves peers as before.
  SimWorkers sims(SimOptions());
  absl::Status joined = sims.Add(4, /*parallel=*/4, absl::Seconds(20));
  ASSERT_TRUE(joined.ok()) << joined;
  EXPECT_EQ(ClientsJoinAndWork(/*clients=*/1, /*tasks=*/100), 1);
  EXPECT_EQ(server_->service().frame_counts().joined, 5u);
}

}  // namespace
}  // namespace weft::scheduler
