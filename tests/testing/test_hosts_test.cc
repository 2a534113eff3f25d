// Copyright 2026 The weft Authors.
//
// Tests of the test hosts: separate names and host ids, name resolution,
// TCP between hosts, a link taken down and up, netem, and cleanup (also of a
// crashed run). Code that runs inside a host is this binary re-executed there
// with a role (SpawnThisTest); each TEST dispatches on the role first.

#include "tests/testing/test_hosts.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/shared_region.h"
#include "tests/testing/as_nobody.h"

namespace weft::testing {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// The echo server's port, in every host (each host has its own ports).
constexpr int kEchoPort = 7000;
constexpr char kMessage[] = "ping\n";

// The line after `prefix` in `text`, or "" if there is none.
std::string LineAfter(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  const size_t begin = at + prefix.size();
  return text.substr(begin, text.find('\n', begin) - begin);
}

// Role "server": echoes every connection on kEchoPort until killed.
void ServeEcho() {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(kEchoPort);
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(
      ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  ASSERT_EQ(::listen(listener, 16), 0);
  std::printf("listening\n");
  std::fflush(stdout);
  for (;;) {
    const int peer = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (peer < 0) continue;
    char buf[256];
    ssize_t n;
    while ((n = ::read(peer, buf, sizeof(buf))) > 0) {
      if (::write(peer, buf, n) != n) break;
    }
    ::close(peer);
  }
}

// One connection to `host`:kEchoPort and one message echoed, within
// `timeout`. Returns the message's round trip (not the connection's).
absl::StatusOr<absl::Duration> EchoOnce(const std::string& host,
                                        absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(kEchoPort).c_str(),
                             &hints, &found);
      rc != 0) {
    return absl::NotFoundError(
        absl::StrCat("resolving ", host, ": ", ::gai_strerror(rc)));
  }
  sockaddr_in target = *reinterpret_cast<sockaddr_in*>(found->ai_addr);
  ::freeaddrinfo(found);
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError("socket");
  auto close_fd = absl::MakeCleanup([fd] { ::close(fd); });
  // Waits for `events` on fd until the deadline.
  auto await = [&](short events) -> absl::Status {
    pollfd p{fd, events, 0};
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(
        std::max(deadline - absl::Now(), absl::ZeroDuration())));
    if (::poll(&p, 1, ms) <= 0) {
      return absl::DeadlineExceededError("timed out");
    }
    int error = 0;
    socklen_t length = sizeof(error);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return absl::UnavailableError(std::strerror(error));
    return absl::OkStatus();
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof(target)) !=
      0) {
    if (errno != EINPROGRESS)
      return absl::UnavailableError(std::strerror(errno));
    if (absl::Status s = await(POLLOUT); !s.ok()) return s;
  }
  const absl::Time sent = absl::Now();
  if (::write(fd, kMessage, sizeof(kMessage) - 1) !=
      static_cast<ssize_t>(sizeof(kMessage) - 1)) {
    return absl::UnavailableError("short write");
  }
  std::string echoed;
  while (echoed.size() < sizeof(kMessage) - 1) {
    if (absl::Status s = await(POLLIN); !s.ok()) return s;
    char buf[16];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return absl::UnavailableError("closed");
    echoed.append(buf, n);
  }
  if (echoed != kMessage) return absl::DataLossError(echoed);
  return absl::Now() - sent;
}

// Role "client": echoes once through ECHO_TARGET, retrying for up to
// ECHO_TIMEOUT_MS; prints "echo ok rtt_us=N" or "echo failed: why".
void EchoClient() {
  const char* target = std::getenv("ECHO_TARGET");
  int64_t timeout_ms = 0;
  ASSERT_NE(target, nullptr);
  ASSERT_TRUE(absl::SimpleAtoi(std::getenv("ECHO_TIMEOUT_MS"), &timeout_ms));
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  absl::StatusOr<absl::Duration> rtt;
  do {
    rtt = EchoOnce(target, std::min(deadline - absl::Now(), absl::Seconds(1)));
    if (!rtt.ok()) absl::SleepFor(absl::Milliseconds(20));
  } while (!rtt.ok() && absl::Now() < deadline);
  if (rtt.ok()) {
    std::printf("echo ok rtt_us=%lld\n",
                static_cast<long long>(absl::ToInt64Microseconds(*rtt)));
  } else {
    std::printf("echo failed: %s\n", rtt.status().ToString().c_str());
  }
}

// True if `pid` has exited (gone, or a zombie nobody reaped yet).
bool ProcessIsGone(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string pid_field, comm, state;
  if (!(stat >> pid_field >> comm >> state)) return true;
  return state == "Z" || state == "X";
}

std::string CommandOutput(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

class TestHostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ThisTestRole().empty()) return;  // inside a host: the role runs
    if (absl::Status s = TestNetwork::Availability(); !s.ok()) {
      GTEST_SKIP() << "no test hosts here: " << s.message();
    }
  }

  // A network with hosts `names`, or a failed assertion.
  std::unique_ptr<TestNetwork> MakeNetwork(std::vector<std::string> names) {
    absl::StatusOr<std::unique_ptr<TestNetwork>> network =
        TestNetwork::Create();
    EXPECT_TRUE(network.ok()) << network.status();
    if (!network.ok()) return nullptr;
    for (const std::string& name : names) {
      absl::StatusOr<TestHost*> host = (*network)->AddHost(name);
      EXPECT_TRUE(host.ok()) << host.status();
      if (!host.ok()) return nullptr;
    }
    return std::move(*network);
  }

  // Starts the echo server in `host` and waits until it listens.
  std::unique_ptr<HostProcess> StartServer(TestHost& host) {
    absl::StatusOr<std::unique_ptr<HostProcess>> server =
        host.SpawnThisTest("server");
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    absl::Status listening =
        (*server)->WaitForOutput("listening", absl::Seconds(30));
    EXPECT_TRUE(listening.ok()) << listening << "\n" << (*server)->Output();
    return std::move(*server);
  }

  // Runs the echo client in `from` against `target` for up to `timeout`;
  // returns its output.
  std::string Echo(TestHost& from, const std::string& target,
                   absl::Duration timeout) {
    absl::StatusOr<std::unique_ptr<HostProcess>> client = from.SpawnThisTest(
        "client", {{"ECHO_TARGET", target},
                   {"ECHO_TIMEOUT_MS",
                    std::to_string(absl::ToInt64Milliseconds(timeout))}});
    EXPECT_TRUE(client.ok()) << client.status();
    if (!client.ok()) return "";
    absl::StatusOr<int> code = (*client)->Wait(timeout + absl::Seconds(30));
    EXPECT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(code.value_or(-1), 0) << (*client)->Output();
    return (*client)->Output();
  }
};

TEST_F(TestHostsTest, HostsHaveTheirOwnNamesAndHostIds) {
  if (ThisTestRole() == "identity") {
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    std::printf("name=%s\nid=%s\n", host, rpc::LocalHostId().c_str());
    return;
  }
  std::unique_ptr<TestNetwork> network = MakeNetwork({"alpha", "beta"});
  ASSERT_NE(network, nullptr);
  std::vector<std::string> ids = {rpc::LocalHostId()};
  for (const char* name : {"alpha", "beta"}) {
    TestHost* host = network->host(name);
    ASSERT_NE(host, nullptr);
    absl::StatusOr<std::unique_ptr<HostProcess>> child =
        host->SpawnThisTest("identity");
    ASSERT_TRUE(child.ok()) << child.status();
    ASSERT_EQ((*child)->Wait(absl::Seconds(30)).value_or(-1), 0)
        << (*child)->Output();
    const std::string output = (*child)->Output();
    EXPECT_EQ(LineAfter(output, "name="), name) << output;
    ids.push_back(LineAfter(output, "id="));
    EXPECT_THAT(ids.back(), HasSubstr(name));
  }
  // The test's own host, alpha and beta: three different hosts for weft.
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_NE(ids[0], ids[2]);
  EXPECT_NE(ids[1], ids[2]);
}

TEST_F(TestHostsTest, NamesResolveAndTrafficStaysInside) {
  std::unique_ptr<TestNetwork> network = MakeNetwork({"alpha", "beta"});
  ASSERT_NE(network, nullptr);
  TestHost& alpha = *network->host("alpha");
  TestHost& beta = *network->host("beta");
  EXPECT_EQ(alpha.address(), "10.77.0.1");
  EXPECT_EQ(beta.address(), "10.77.0.2");

  absl::StatusOr<RunResult> resolved = alpha.Run("getent hosts beta alpha");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->exit_code, 0) << resolved->output;
  EXPECT_THAT(resolved->output, ContainsRegex("10\\.77\\.0\\.2 +beta"));
  EXPECT_THAT(resolved->output, ContainsRegex("10\\.77\\.0\\.1 +alpha"));

  // Its own segment, and nothing else: no default route, no other address.
  absl::StatusOr<RunResult> routes = alpha.Run("ip route; ip -o addr");
  ASSERT_TRUE(routes.ok()) << routes.status();
  EXPECT_THAT(routes->output, HasSubstr("10.77.0.0/24 dev eth0"));
  EXPECT_THAT(routes->output, Not(HasSubstr("default")));
  absl::StatusOr<RunResult> outside = alpha.Run("ip route get 192.0.2.1");
  ASSERT_TRUE(outside.ok()) << outside.status();
  EXPECT_NE(outside->exit_code, 0);
  EXPECT_THAT(outside->output, HasSubstr("unreachable"));
}

TEST_F(TestHostsTest, TcpEchoBetweenHosts) {
  if (ThisTestRole() == "server") return ServeEcho();
  if (ThisTestRole() == "client") return EchoClient();
  std::unique_ptr<TestNetwork> network = MakeNetwork({"alpha", "beta"});
  ASSERT_NE(network, nullptr);
  TestHost& alpha = *network->host("alpha");
  TestHost& beta = *network->host("beta");
  std::unique_ptr<HostProcess> server = StartServer(beta);
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(Echo(alpha, "beta", absl::Seconds(10)), HasSubstr("echo ok"));
  EXPECT_THAT(Echo(alpha, beta.address(), absl::Seconds(10)),
              HasSubstr("echo ok"));
  // The server listens in beta only: alpha's own port 7000 is closed.
  EXPECT_THAT(Echo(alpha, "localhost", absl::Milliseconds(300)),
              HasSubstr("echo failed"));
}

TEST_F(TestHostsTest, LinkDownCutsTheHostOffAndLinkUpRestoresIt) {
  if (ThisTestRole() == "server") return ServeEcho();
  if (ThisTestRole() == "client") return EchoClient();
  std::unique_ptr<TestNetwork> network = MakeNetwork({"alpha", "beta"});
  ASSERT_NE(network, nullptr);
  TestHost& alpha = *network->host("alpha");
  TestHost& beta = *network->host("beta");
  std::unique_ptr<HostProcess> server = StartServer(beta);
  ASSERT_NE(server, nullptr);
  EXPECT_THAT(Echo(alpha, "beta", absl::Seconds(10)), HasSubstr("echo ok"));

  ASSERT_TRUE(beta.LinkDown().ok());
  // Echo() bounds the attempt: the client gives up after 1.5 s and exits.
  EXPECT_THAT(Echo(alpha, "beta", absl::Milliseconds(1500)),
              HasSubstr("echo failed"));
  ASSERT_TRUE(beta.LinkDown().ok());  // idempotent

  absl::Status up = beta.LinkUp();
  ASSERT_TRUE(up.ok()) << up;
  EXPECT_THAT(Echo(alpha, "beta", absl::Seconds(10)), HasSubstr("echo ok"));
}

TEST_F(TestHostsTest, NetemDelaysWhatAHostSends) {
  if (ThisTestRole() == "server") return ServeEcho();
  if (ThisTestRole() == "client") return EchoClient();
  std::unique_ptr<TestNetwork> network = MakeNetwork({"alpha", "beta"});
  ASSERT_NE(network, nullptr);
  TestHost& alpha = *network->host("alpha");
  TestHost& beta = *network->host("beta");
  std::unique_ptr<HostProcess> server = StartServer(beta);
  ASSERT_NE(server, nullptr);

  EXPECT_TRUE(absl::IsInvalidArgument(alpha.SetNetem("no such option")));
  constexpr int64_t kDelayMs = 100;
  absl::Status set = alpha.SetNetem(absl::StrCat("delay ", kDelayMs, "ms"));
  if (absl::IsUnavailable(set)) GTEST_SKIP() << set.message();
  ASSERT_TRUE(set.ok()) << set;
  const std::string delayed = Echo(alpha, "beta", absl::Seconds(10));
  int64_t rtt_us = 0;
  ASSERT_TRUE(absl::SimpleAtoi(LineAfter(delayed, "rtt_us="), &rtt_us))
      << delayed;
  // Loose on purpose (timers are coarse); no upper bound.
  EXPECT_GE(rtt_us, kDelayMs * 1000 * 8 / 10);
  ASSERT_TRUE(alpha.ClearNetem().ok());
  EXPECT_THAT(Echo(alpha, "beta", absl::Seconds(10)), HasSubstr("echo ok"));
}

TEST_F(TestHostsTest, RunSpawnAndAddHostReportErrors) {
  std::unique_ptr<TestNetwork> network = MakeNetwork({"alpha"});
  ASSERT_NE(network, nullptr);
  TestHost& alpha = *network->host("alpha");

  absl::StatusOr<RunResult> run = alpha.Run("echo hi; echo oops >&2; exit 3");
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 3);
  EXPECT_EQ(run->output, "hi\noops\n");
  absl::StatusOr<RunResult> with_env =
      alpha.Run("echo $GREETING", absl::Seconds(30), {{"GREETING", "hello"}});
  ASSERT_TRUE(with_env.ok()) << with_env.status();
  EXPECT_EQ(with_env->output, "hello\n");
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      alpha.Run("sleep 30", absl::Milliseconds(200)).status()));

  absl::StatusOr<std::unique_ptr<HostProcess>> missing =
      alpha.Spawn({"no-such-program-here"});
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  absl::StatusOr<std::unique_ptr<HostProcess>> env = alpha.Spawn(
      {"sh", "-c", "echo $GREETING; kill -TERM $$"}, {{"GREETING", "hello"}});
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ((*env)->Wait(absl::Seconds(30)).value_or(-1), 128 + SIGTERM);
  EXPECT_EQ((*env)->Output(), "hello\n");
  EXPECT_TRUE(absl::IsFailedPrecondition((*env)->Signal(SIGTERM)));

  EXPECT_TRUE(absl::IsAlreadyExists(network->AddHost("alpha").status()));
  for (const char* bad : {"", "Alpha", "-a", "a-", "a.b", "localhost"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(network->AddHost(bad).status()))
        << "'" << bad << "'";
  }
}

TEST_F(TestHostsTest, DestructionRemovesEverything) {
  std::unique_ptr<TestNetwork> network = MakeNetwork({"alpha", "beta"});
  ASSERT_NE(network, nullptr);
  const std::string name = network->name();
  const std::string state_dir = network->state_dir();
  // A process that outlives its shell in a session of its own, and one whose
  // handle outlives the network.
  absl::StatusOr<RunResult> escaped =
      network->host("alpha")->Run("setsid sleep 300 & echo pid=$!");
  ASSERT_TRUE(escaped.ok()) << escaped.status();
  int escaped_pid = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(LineAfter(escaped->output, "pid="), &escaped_pid))
      << escaped->output;
  absl::StatusOr<std::unique_ptr<HostProcess>> held =
      network->host("beta")->Spawn({"sleep", "300"});
  ASSERT_TRUE(held.ok()) << held.status();
  // Keep the bridge's namespace open past the network to see its ports go.
  const int bridge = ::open(("/run/netns/" + name).c_str(), O_RDONLY);
  ASSERT_GE(bridge, 0);
  EXPECT_THAT(CommandOutput(absl::StrCat("nsenter --net=/proc/", ::getpid(),
                                         "/fd/", bridge, " ip -o link")),
              HasSubstr("p2@"));

  network.reset();

  EXPECT_EQ((*held)->Wait(absl::Seconds(10)).value_or(-1), 128 + SIGKILL);
  EXPECT_TRUE(ProcessIsGone(escaped_pid));
  EXPECT_THAT(CommandOutput("ip netns list"), Not(HasSubstr(name)));
  struct stat st {};
  EXPECT_NE(::stat(state_dir.c_str(), &st), 0);
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::stringstream mounts;
  mounts << mountinfo.rdbuf();
  EXPECT_THAT(mounts.str(), Not(HasSubstr(state_dir)));
  // The hosts' namespaces are freed, taking their veth pairs (and so the
  // bridge's ports) with them; the kernel does that in the background.
  const std::string list_links = absl::StrCat(
      "nsenter --net=/proc/", ::getpid(), "/fd/", bridge, " ip -o link");
  std::string links = CommandOutput(list_links);
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30);
       (absl::StrContains(links, "p1@") || absl::StrContains(links, "p2@")) &&
       absl::Now() < deadline;
       links = CommandOutput(list_links)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(links, Not(HasSubstr("p1@")));
  EXPECT_THAT(links, Not(HasSubstr("p2@")));
  ::close(bridge);
}

TEST_F(TestHostsTest, CreateRemovesLeftoversOfACrashedRun) {
  // A child that makes a network with a busy host and dies without cleaning
  // up, as a crashed test would.
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    auto network = TestNetwork::Create();
    if (!network.ok()) ::_exit(1);
    auto host = (*network)->AddHost("gamma");
    if (!host.ok()) ::_exit(2);
    auto sleeper = (*host)->Spawn({"sleep", "300"});
    if (!sleeper.ok()) ::_exit(3);
    const std::string line =
        absl::StrCat((*network)->name(), " ", (*network)->state_dir(), " ",
                     (*sleeper)->pid(), "\n");
    if (::write(report[1], line.data(), line.size()) < 0) ::_exit(4);
    ::_exit(0);
  }
  ::close(report[1]);
  std::string line;
  char buf[256];
  ssize_t n;
  while ((n = ::read(report[0], buf, sizeof(buf))) > 0) line.append(buf, n);
  ::close(report[0]);
  // Exited but not reaped: its pid still counts as alive, so nobody (not a
  // parallel test either) removes its leftovers yet.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  ASSERT_EQ(info.si_status, 0);
  std::istringstream fields(line);
  std::string name, state_dir;
  pid_t sleeper = 0;
  ASSERT_TRUE(fields >> name >> state_dir >> sleeper) << line;
  struct stat st {};
  ASSERT_EQ(::stat(("/run/netns/" + name + "-gamma").c_str(), &st), 0);
  ASSERT_EQ(::stat(state_dir.c_str(), &st), 0);
  ASSERT_FALSE(ProcessIsGone(sleeper));

  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // now its pid is free
  absl::StatusOr<std::unique_ptr<TestNetwork>> network = TestNetwork::Create();
  ASSERT_TRUE(network.ok()) << network.status();

  EXPECT_NE(::stat(("/run/netns/" + name + "-gamma").c_str(), &st), 0);
  EXPECT_NE(::stat(("/run/netns/" + name).c_str(), &st), 0);
  EXPECT_NE(::stat(state_dir.c_str(), &st), 0);
  EXPECT_TRUE(ProcessIsGone(sleeper));
}

TEST(TestHostsAvailabilityTest, SaysWhyNotWithoutRoot) {
  if (::geteuid() != 0) {
    absl::Status s = TestNetwork::Availability();
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("root"));
    return;
  }
  // As root: ask again in a child that gave root up.
  absl::StatusOr<std::string> message = RunAsNobody(
      [] { return std::string(TestNetwork::Availability().message()); });
  ASSERT_TRUE(message.ok()) << message.status();
  EXPECT_THAT(*message, HasSubstr("need root"));
}

}  // namespace
}  // namespace weft::testing
