// Copyright 2026 The weft Authors.
//
// Tests of the ssh harness: logins from one test host to others with the
// test's configuration (by name, by address, through the PATH wrapper),
// exit codes and output, the errors a launcher must report (an unreachable
// host, no sshd, an unknown name, a missing program), a session cut by a
// link going down, processes that outlive their session, and teardown.

#include "tests/testing/ssh_hosts.h"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_hosts.h"

namespace weft::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// True if `pid` has exited (gone, or a zombie nobody reaped yet).
bool ProcessIsGone(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string pid_field, comm, state;
  if (!(stat >> pid_field >> comm >> state)) return true;
  return state == "Z" || state == "X";
}

// Waits up to 10 s for `pid` to exit.
bool AwaitGone(pid_t pid) {
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);
       absl::Now() < deadline; absl::SleepFor(absl::Milliseconds(10))) {
    if (ProcessIsGone(pid)) return true;
  }
  return ProcessIsGone(pid);
}

// The inode of a namespace file (/proc/PID/ns/net, /run/netns/NAME), or 0.
ino_t Inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

// The sshd processes running in `host`'s network namespace.
std::vector<pid_t> SshdsIn(const TestHost& host) {
  const ino_t netns = Inode("/run/netns/" + host.netns());
  std::vector<pid_t> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    std::error_code error;
    const auto exe = std::filesystem::read_symlink(entry.path() / "exe", error);
    if (!error && exe == SshHosts::kSshdPath &&
        Inode(absl::StrCat("/proc/", pid, "/ns/net")) == netns) {
      pids.push_back(pid);
    }
  }
  return pids;
}

// Whether `path` exists and when it last changed, to see that nothing
// touched it.
std::string Fingerprint(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return path + " absent";
  return absl::StrCat(path, " mtime ", st.st_mtim.tv_sec, ".",
                      st.st_mtim.tv_nsec, " size ", st.st_size);
}

// The files ssh and sshd would use without the test's configuration.
std::vector<std::string> SystemSshFiles() {
  const passwd* user = ::getpwuid(::geteuid());
  const std::string home = user != nullptr ? user->pw_dir : "/root";
  std::vector<std::string> prints;
  for (const std::string& path :
       {home + "/.ssh", home + "/.ssh/known_hosts", home + "/.ssh/config",
        std::string("/etc/ssh"), std::string("/etc/ssh/ssh_known_hosts"),
        std::string("/etc/ssh/sshd_config")}) {
    prints.push_back(Fingerprint(path));
  }
  return prints;
}

// A network with a client host "c" (no sshd) and hosts "w1" and "w2" running
// sshd.
class SshHostsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (absl::Status s = SshHosts::Availability(); !s.ok()) {
      GTEST_SKIP() << "no ssh hosts here: " << s.message();
    }
    absl::StatusOr<std::unique_ptr<TestNetwork>> network =
        TestNetwork::Create();
    ASSERT_TRUE(network.ok()) << network.status();
    network_ = std::move(*network);
    for (TestHost** host : {&c_, &w1_, &w2_}) {
      const char* name = host == &c_ ? "c" : host == &w1_ ? "w1" : "w2";
      absl::StatusOr<TestHost*> added = network_->AddHost(name);
      ASSERT_TRUE(added.ok()) << added.status();
      *host = *added;
    }
  }

  // Starts sshd in w1 and w2.
  void StartSsh(const SshOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<SshHosts>> ssh =
        SshHosts::Start(*network_, {w1_, w2_}, options);
    ASSERT_TRUE(ssh.ok()) << ssh.status();
    ssh_ = std::move(*ssh);
  }

  // Runs `command` over ssh from c to `to`; a failed expectation if Run()
  // itself fails.
  SshResult Ssh(const std::string& to, const std::string& command) {
    absl::StatusOr<SshResult> result = ssh_->Run(*c_, to, command);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.value_or(SshResult{-1, "", "", absl::ZeroDuration()});
  }

  // SshCommand() with a destination and a command: argv for Spawn().
  std::vector<std::string> SshArgv(const std::string& to,
                                   const std::string& command) {
    std::vector<std::string> argv = ssh_->SshCommand();
    argv.insert(argv.end(), {to, command});
    return argv;
  }

  // Declared first, destroyed last: the ssh hosts live in it.
  std::unique_ptr<TestNetwork> network_;
  TestHost* c_ = nullptr;
  TestHost* w1_ = nullptr;
  TestHost* w2_ = nullptr;
  std::unique_ptr<SshHosts> ssh_;
};

TEST_F(SshHostsTest, LoginsReachTheNamedHost) {
  const std::vector<std::string> untouched = SystemSshFiles();
  const absl::Time start = absl::Now();
  StartSsh();
  std::printf("keys made and 2 sshd listening after %s\n",
              absl::FormatDuration(absl::Now() - start).c_str());

  // The literal `ssh -F <config> HOST COMMAND`, in host c.
  absl::StatusOr<RunResult> literal = c_->Run(
      absl::StrCat("ssh -F ", ssh_->client_config_path(), " w1 hostname"));
  ASSERT_TRUE(literal.ok()) << literal.status();
  EXPECT_EQ(literal->exit_code, 0) << literal->output;
  EXPECT_EQ(literal->output, "w1\n");

  SshResult by_name = Ssh("w2", "hostname");
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;
  std::printf("`ssh w2 hostname` took %s\n",
              absl::FormatDuration(by_name.elapsed).c_str());
  EXPECT_EQ(by_name.out, "w2\n");
  SshResult by_address = Ssh(w2_->address(), "hostname");
  EXPECT_EQ(by_address.exit_code, 0) << by_address.err;
  EXPECT_EQ(by_address.out, "w2\n");
  // Whoever asks, a host's sshd runs commands in that host.
  absl::StatusOr<SshResult> from_w1 = ssh_->Run(*w1_, "w2", "hostname -i");
  ASSERT_TRUE(from_w1.ok()) << from_w1.status();
  EXPECT_EQ(from_w1->out, w2_->address() + "\n") << from_w1->err;

  // A program that runs plain `ssh` from PATH, given ClientEnv().
  absl::StatusOr<std::unique_ptr<HostProcess>> wrapped =
      c_->Spawn({"sh", "-c", "ssh w1 hostname"}, ssh_->ClientEnv());
  ASSERT_TRUE(wrapped.ok()) << wrapped.status();
  EXPECT_EQ((*wrapped)->Wait(absl::Seconds(30)).value_or(-1), 0)
      << (*wrapped)->Output();
  EXPECT_EQ((*wrapped)->Output(), "w1\n");

  EXPECT_THAT(ssh_->ServerLog(*w1_),
              HasSubstr("Accepted publickey for root from 10.77.0.1"));
  EXPECT_EQ(SystemSshFiles(), untouched);
}

TEST_F(SshHostsTest, ExitCodeAndOutputComeBack) {
  StartSsh();
  SshResult result = Ssh("w1", "echo out; echo err >&2; exit 3");
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out, "out\n");
  EXPECT_EQ(result.err, "err\n");

  // The command reaches the remote shell as written, quotes and all.
  result = Ssh("w1", "printf '[%s]\\n' \"a  b\" 'it'\"'\"'s' $(hostname)");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[a  b]\n[it's]\n[w1]\n");

  // Standard input is empty, so a command that reads it does not wait.
  result = Ssh("w1", "cat; echo done");
  EXPECT_EQ(result.out, "done\n");
}

TEST_F(SshHostsTest, MissingProgramIs127NotFound) {
  StartSsh();
  // Root's login shell says so (bash on Debian: "bash: NAME: command not
  // found", and "No such file or directory" for a path).
  SshResult by_name = Ssh("w1", "no-such-weft-program --flag");
  EXPECT_EQ(by_name.exit_code, 127);
  EXPECT_THAT(by_name.err, HasSubstr("no-such-weft-program"));
  EXPECT_THAT(by_name.err, HasSubstr("not found"));
  SshResult by_path = Ssh("w1", "/no/such/dir/weft worker");
  EXPECT_EQ(by_path.exit_code, 127);
  EXPECT_THAT(by_path.err, HasSubstr("/no/such/dir/weft"));
}

TEST_F(SshHostsTest, UnreachableHostFailsAfterConnectTimeout) {
  StartSsh();
  ASSERT_TRUE(w1_->LinkDown().ok());
  // TCP alone would retry its SYN for about two minutes; ConnectTimeout
  // ends the attempt well within Run's 30 s.
  absl::StatusOr<SshResult> down =
      ssh_->Run(*c_, "w1", "hostname", absl::Seconds(30));
  ASSERT_TRUE(down.ok()) << down.status();
  EXPECT_EQ(down->exit_code, 255);
  EXPECT_THAT(down->err,
              HasSubstr("connect to host w1 port 22: Connection timed out"));
  EXPECT_GE(down->elapsed, ssh_->options().connect_timeout);
  std::printf("ssh to a host without link failed after %s\n",
              absl::FormatDuration(down->elapsed).c_str());

  ASSERT_TRUE(w1_->LinkUp().ok());
  // c's neighbour entry for w1 failed while the link was down, so the first
  // attempts may still say "No route to host": retry, for up to 30 s.
  SshResult up;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(30);;) {
    up = Ssh("w1", "hostname");
    if (up.exit_code == 0 || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(up.out, "w1\n");
}

TEST_F(SshHostsTest, OtherFailuresAreClear) {
  StartSsh();
  // A host without sshd: refused at once.
  absl::StatusOr<SshResult> refused = ssh_->Run(*w1_, "c", "hostname");
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->exit_code, 255);
  EXPECT_THAT(refused->err,
              HasSubstr("connect to host c port 22: Connection refused"));
  std::printf("ssh to a host without sshd failed after %s\n",
              absl::FormatDuration(refused->elapsed).c_str());
  // A name no host has.
  SshResult unknown = Ssh("nowhere", "hostname");
  EXPECT_EQ(unknown.exit_code, 255);
  EXPECT_THAT(unknown.err, HasSubstr("Could not resolve hostname nowhere"));
  // A server whose key is not in known_hosts under that name (w1's own
  // sshd as "localhost"): refused without a question.
  absl::StatusOr<SshResult> untrusted =
      ssh_->Run(*w1_, "localhost", "hostname");
  ASSERT_TRUE(untrusted.ok()) << untrusted.status();
  EXPECT_EQ(untrusted->exit_code, 255);
  EXPECT_THAT(untrusted->err, HasSubstr("Host key verification failed"));
}

TEST_F(SshHostsTest, SessionEndsWhenTheLinkGoesDown) {
  StartSsh(SshOptions{.connect_timeout = absl::Seconds(1)});
  absl::StatusOr<std::unique_ptr<HostProcess>> session =
      c_->Spawn(SshArgv("w1", "echo started; exec sleep 300"));
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE((*session)->WaitForOutput("started", absl::Seconds(30)).ok())
      << (*session)->Output();
  ASSERT_TRUE(w1_->LinkDown().ok());
  // ServerAliveInterval 1 s, 3 unanswered: ssh gives up after about 4 s.
  EXPECT_EQ((*session)->Wait(absl::Seconds(60)).value_or(-1), 255);
  EXPECT_THAT((*session)->Output(),
              HasSubstr("Timeout, server w1 not responding"));
}

TEST_F(SshHostsTest, DetachedProcessOutlivesItsSessionAndDiesOverSsh) {
  StartSsh();
  // The session ends once the shell exits and nothing holds its output.
  SshResult started =
      Ssh("w1", "setsid nohup sleep 300 >/dev/null 2>&1 </dev/null & echo $!");
  ASSERT_EQ(started.exit_code, 0) << started.err;
  int pid = 0;
  ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(started.out), &pid))
      << started.out;
  ASSERT_FALSE(ProcessIsGone(pid));
  EXPECT_EQ(Inode(absl::StrCat("/proc/", pid, "/ns/net")),
            Inode("/run/netns/" + w1_->netns()));
  absl::StatusOr<std::vector<pid_t>> sessions = ssh_->SessionProcesses(*w1_);
  ASSERT_TRUE(sessions.ok()) << sessions.status();
  EXPECT_THAT(*sessions, Contains(pid));
  EXPECT_THAT(ssh_->SessionProcesses(*w2_).value(), Not(Contains(pid)));

  SshResult killed = Ssh("w1", absl::StrCat("kill ", pid));
  EXPECT_EQ(killed.exit_code, 0) << killed.err;
  EXPECT_TRUE(AwaitGone(pid));
  // Nothing else came in through sshd and stayed. The session of the
  // `kill` may still be closing on the server's side when the client has
  // its exit code (seen once in the suite: one process left at the first
  // look), so this waits for it too.
  std::vector<pid_t> left;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);;
       absl::SleepFor(absl::Milliseconds(10))) {
    left = ssh_->SessionProcesses(*w1_).value();
    if (left.empty() || absl::Now() > deadline) break;
  }
  EXPECT_THAT(left, IsEmpty());
  EXPECT_TRUE(absl::IsNotFound(ssh_->SessionProcesses(*c_).status()));
}

TEST_F(SshHostsTest, StopLeavesNothingBehind) {
  StartSsh();
  std::vector<pid_t> detached;
  for (const char* host : {"w1", "w2"}) {
    SshResult started = Ssh(host, "setsid sleep 300 >/dev/null 2>&1 & echo $!");
    int pid = 0;
    ASSERT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(started.out), &pid))
        << started.out << started.err;
    detached.push_back(pid);
  }
  absl::StatusOr<std::unique_ptr<HostProcess>> open_session =
      c_->Spawn(SshArgv("w2", "echo started; exec sleep 300"));
  ASSERT_TRUE(open_session.ok()) << open_session.status();
  ASSERT_TRUE((*open_session)->WaitForOutput("started", absl::Seconds(30)).ok())
      << (*open_session)->Output();
  // Started in w1 by the test, not over ssh: Stop() leaves it alone.
  absl::StatusOr<std::unique_ptr<HostProcess>> bystander =
      w1_->Spawn({"sleep", "300"});
  ASSERT_TRUE(bystander.ok()) << bystander.status();
  EXPECT_THAT(SshdsIn(*w1_), Not(IsEmpty()));
  const std::string config = ssh_->client_config_path();

  absl::Status stopped = ssh_->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped;

  EXPECT_THAT(SshdsIn(*w1_), IsEmpty());
  EXPECT_THAT(SshdsIn(*w2_), IsEmpty());
  for (pid_t pid : detached) EXPECT_TRUE(ProcessIsGone(pid)) << pid;
  // The client's server is gone: its session ends (an error, not a hang).
  EXPECT_EQ((*open_session)->Wait(absl::Seconds(30)).value_or(-1), 255)
      << (*open_session)->Output();
  EXPECT_FALSE((*bystander)->Poll().has_value());
  struct stat st {};
  EXPECT_NE(::stat(config.c_str(), &st), 0);
  EXPECT_NE(::stat((network_->state_dir() + "/ssh").c_str(), &st), 0);
  EXPECT_THAT(ssh_->ServerLog(*w1_), HasSubstr("Accepted publickey"));
  EXPECT_TRUE(absl::IsNotFound(ssh_->SessionProcesses(*w1_).status()));
  EXPECT_TRUE(
      absl::IsFailedPrecondition(ssh_->Run(*c_, "w1", "true").status()));
  EXPECT_TRUE(ssh_->Stop().ok());  // idempotent

  // The network can have ssh hosts again.
  absl::StatusOr<std::unique_ptr<SshHosts>> again =
      SshHosts::Start(*network_, {w1_});
  ASSERT_TRUE(again.ok()) << again.status();
  absl::StatusOr<SshResult> login = (*again)->Run(*c_, "w1", "hostname");
  ASSERT_TRUE(login.ok()) << login.status();
  EXPECT_EQ(login->out, "w1\n") << login->err;
}

TEST_F(SshHostsTest, StartReportsBadArgumentsAndBusyPorts) {
  EXPECT_TRUE(absl::IsInvalidArgument(SshHosts::Start(*network_, {}).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(SshHosts::Start(*network_, {w1_, w1_}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      SshHosts::Start(*network_, {w1_}, {.connect_timeout = absl::Seconds(0)})
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      SshHosts::Start(*network_, {w1_},
                      {.connect_timeout = absl::Milliseconds(1500)})
          .status()));
  absl::StatusOr<std::unique_ptr<TestNetwork>> other = TestNetwork::Create();
  ASSERT_TRUE(other.ok()) << other.status();
  TestHost* stranger = (*other)->AddHost("w1").value();
  EXPECT_TRUE(
      absl::IsInvalidArgument(SshHosts::Start(*network_, {stranger}).status()));

  // Something else holds port 22 in w2: Start() fails and says why.
  absl::StatusOr<std::unique_ptr<HostProcess>> squatter =
      w2_->Spawn({"python3", "-c",
                  "import socket, time\n"
                  "s = socket.socket()\n"
                  "s.bind(('0.0.0.0', 22))\n"
                  "s.listen()\n"
                  "print('bound', flush=True)\n"
                  "time.sleep(300)\n"});
  ASSERT_TRUE(squatter.ok()) << squatter.status();
  ASSERT_TRUE((*squatter)->WaitForOutput("bound", absl::Seconds(30)).ok())
      << (*squatter)->Output();
  absl::StatusOr<std::unique_ptr<SshHosts>> busy =
      SshHosts::Start(*network_, {w1_, w2_});
  EXPECT_TRUE(absl::IsInternal(busy.status())) << busy.status();
  EXPECT_THAT(busy.status().message(), HasSubstr("Address already in use"));
  // Its failure left nothing: no sshd in w1, and a new Start() works.
  EXPECT_THAT(SshdsIn(*w1_), IsEmpty());
  (*squatter)->Kill();
  StartSsh();
  // Only one at a time per network.
  EXPECT_TRUE(
      absl::IsAlreadyExists(SshHosts::Start(*network_, {w1_}).status()));
}

}  // namespace
}  // namespace weft::testing
