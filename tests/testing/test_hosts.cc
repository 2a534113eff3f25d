// Copyright 2026 The weft Authors.

#include "tests/testing/test_hosts.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

extern char** environ;

namespace weft::testing {
namespace {

// Where `ip netns` keeps its namespaces, and where networks keep theirs.
constexpr char kNetnsDir[] = "/run/netns";
constexpr char kStateRoot[] = "/run/weft-test";
// Every namespace name starts with this, then the pid of its test process.
constexpr absl::string_view kNamePrefix = "weft-test-";
// The environment variable that carries ThisTestRole().
constexpr char kRoleVariable[] = "WEFT_TEST_HOST_ROLE";
// Inside a host and on the bridge.
constexpr char kHostInterface[] = "eth0";
constexpr char kBridge[] = "br0";
constexpr int kMaxHosts = 254;

// How long `ip` or `tc` may take, and how long processes take to die.
constexpr absl::Duration kToolTimeout = absl::Seconds(20);
constexpr absl::Duration kKillTimeout = absl::Seconds(10);
constexpr absl::Duration kLinkUpTimeout = absl::Seconds(10);

// Variables a child re-run of the test must not inherit: they would make it
// write the test's XML or premature-exit file, or shard its one test away.
constexpr const char* kTestRunnerVariables[] = {
    "XML_OUTPUT_FILE",         "GTEST_OUTPUT",
    "GTEST_SHARD_INDEX",       "GTEST_TOTAL_SHARDS",
    "GTEST_SHARD_STATUS_FILE", "GTEST_FILTER",
    "TEST_SHARD_INDEX",        "TEST_TOTAL_SHARDS",
    "TEST_SHARD_STATUS_FILE",  "TEST_PREMATURE_EXIT_FILE",
    "TESTBRIDGE_TEST_ONLY",
};

// What a forked child was doing when it failed; reported to the parent as
// {stage, errno} over a close-on-exec pipe.
enum Stage : int {
  kEnterNet,
  kEnterUts,
  kNewMountNamespace,
  kSlaveMounts,
  kBindHosts,
  kStdio,
  kExec,
  kNewUtsNamespace,
  kSetHostName,
  kBindUts,
};
constexpr const char* kStageNames[] = {
    "entering the host's network namespace (setns)",
    "entering the host's UTS namespace (setns)",
    "making a mount namespace (unshare)",
    "making the mounts slaves (mount MS_SLAVE)",
    "bind-mounting the hosts file onto /etc/hosts",
    "redirecting standard input and output (dup2)",
    "exec",
    "making a UTS namespace (unshare)",
    "setting the host name (sethostname)",
    "bind-mounting the UTS namespace (mount)",
};

// A descriptor closed on destruction.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Strings and the null-terminated pointer array execve() takes, built
// before fork() (the child may not allocate).
class CStrings {
 public:
  explicit CStrings(std::vector<std::string> strings)
      : strings_(std::move(strings)) {
    for (std::string& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  char* const* get() const { return pointers_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

absl::Status ErrnoError(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

// Exit code in the shell's convention: 128 + N for signal N.
int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

void Nap(absl::Duration d) {
  std::this_thread::sleep_for(absl::ToChronoNanoseconds(d));
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// `name` itself if it has a '/', else the first executable of that name in
// PATH, /usr/sbin, /sbin, /usr/bin, /bin (Bazel gives tests a PATH without
// the sbin directories, where `ip` and `tc` live). Empty if none.
std::string FindProgram(const std::string& name) {
  if (absl::StrContains(name, '/')) return name;
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  for (const char* d : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    dirs.push_back(d);
  }
  for (const std::string& dir : dirs) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// This process's environment without `unset` and the keys of `set`, then
// `set`.
std::vector<std::string> MakeEnvironment(
    const EnvOverrides& set, const std::vector<std::string>& unset = {}) {
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry(*e);
    std::string key(entry.substr(0, entry.find('=')));
    if (set.count(key) > 0) continue;
    if (std::find(unset.begin(), unset.end(), key) != unset.end()) continue;
    out.emplace_back(entry);
  }
  for (const auto& [key, value] : set) out.push_back(key + "=" + value);
  return out;
}

// In a forked child: reports `stage` and errno to the parent and exits.
[[noreturn]] void ChildFail(int report_fd, Stage stage) {
  const int message[2] = {stage, errno};
  [[maybe_unused]] ssize_t n = ::write(report_fd, message, sizeof(message));
  ::_exit(127);
}

// Reads a child's report from `report_fd` (whose write end the parent has
// closed): OK at end of file, else the stage that failed.
absl::Status ReadChildReport(int report_fd, absl::string_view what) {
  int message[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(report_fd, message, sizeof(message));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return absl::OkStatus();
  if (n != sizeof(message) || message[0] < 0 ||
      message[0] >= static_cast<int>(std::size(kStageNames))) {
    return absl::InternalError(
        absl::StrCat(what, ": the child's report is garbled"));
  }
  return ErrnoError(absl::StrCat(what, ": ", kStageNames[message[0]]),
                    message[1]);
}

// Waits up to `timeout` for child `pid` to exit and reaps it; returns its
// exit code (ExitCode()). DeadlineExceeded if it is still running.
absl::StatusOr<int> WaitChild(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration nap = absl::Milliseconds(1);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return ExitCode(status);
    if (r < 0 && errno != EINTR) {
      return ErrnoError(absl::StrCat("waitpid ", pid), errno);
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid, " still running after ",
                       absl::FormatDuration(timeout)));
    }
    Nap(nap);
    nap = std::min(nap * 2, absl::Milliseconds(20));
  }
}

// Runs `body` in a forked child, which exits 0 when `body` returns (or 127
// through ChildFail(report_fd, ...)), and waits for it. `body` may only make
// async-signal-safe calls: the test process may have threads.
absl::Status RunInChild(absl::string_view what,
                        absl::FunctionRef<void(int report_fd)> body) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return ErrnoError("pipe2", errno);
  Fd read_end(report[0]);
  Fd write_end(report[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork", errno);
  if (pid == 0) {
    body(write_end.get());
    ::_exit(0);
  }
  write_end.Reset();
  absl::Status reported = ReadChildReport(read_end.get(), what);
  absl::StatusOr<int> code = WaitChild(pid, kKillTimeout);
  if (!reported.ok()) return reported;
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(what, ": exit code ", *code));
  }
  return absl::OkStatus();
}

// What a forked child sets up before exec: all of it prepared by the parent.
struct ExecPlan {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int netns_fd = -1;                 // setns() into it if >= 0
  int uts_fd = -1;                   // likewise
  const char* hosts_path = nullptr;  // bind onto /etc/hosts in a new mount ns
  int output_fd = -1;                // standard output and error
};

// Forks, sets up the child as `plan` says and execs it in a process group of
// its own. Returns its pid once it is executing the program.
absl::StatusOr<pid_t> ForkExec(const ExecPlan& plan) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return ErrnoError("pipe2", errno);
  Fd read_end(report[0]);
  Fd write_end(report[1]);
  Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull.get() < 0) return ErrnoError("opening /dev/null", errno);
  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork", errno);
  if (pid == 0) {
    // Async-signal-safe calls only from here on.
    const int r = write_end.get();
    if (plan.netns_fd >= 0 && ::setns(plan.netns_fd, CLONE_NEWNET) != 0) {
      ChildFail(r, kEnterNet);
    }
    if (plan.uts_fd >= 0 && ::setns(plan.uts_fd, CLONE_NEWUTS) != 0) {
      ChildFail(r, kEnterUts);
    }
    if (plan.hosts_path != nullptr) {
      if (::unshare(CLONE_NEWNS) != 0) ChildFail(r, kNewMountNamespace);
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) {
        ChildFail(r, kSlaveMounts);
      }
      if (::mount(plan.hosts_path, "/etc/hosts", nullptr, MS_BIND, nullptr) !=
          0) {
        ChildFail(r, kBindHosts);
      }
    }
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);  // gRPC ignores it in the test process
    if (::dup2(devnull.get(), 0) < 0 || ::dup2(plan.output_fd, 1) < 0 ||
        ::dup2(plan.output_fd, 2) < 0) {
      ChildFail(r, kStdio);
    }
    // Everything above 2 closes at exec, whoever opened it.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(plan.path, plan.argv, plan.envp);
    ChildFail(r, kExec);
  }
  write_end.Reset();
  absl::Status started =
      ReadChildReport(read_end.get(), absl::StrCat("starting ", plan.path));
  if (!started.ok()) {
    (void)WaitChild(pid, kKillTimeout);
    return started;
  }
  return pid;
}

// Runs a tool (`ip`, `tc`) in the test's own namespaces and waits up to
// kToolTimeout. Errors: NotFound (no such program), Internal (it failed:
// the message has its output), DeadlineExceeded.
absl::StatusOr<RunResult> RunTool(const std::vector<std::string>& argv) {
  const std::string path = FindProgram(argv[0]);
  if (path.empty()) {
    return absl::NotFoundError(absl::StrCat("no program `", argv[0], "`"));
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoError("pipe2", errno);
  Fd read_end(out[0]);
  Fd write_end(out[1]);
  const CStrings args(argv);
  const CStrings env(MakeEnvironment({}));
  ExecPlan plan;
  plan.path = path.c_str();
  plan.argv = args.get();
  plan.envp = env.get();
  plan.output_fd = write_end.get();
  absl::StatusOr<pid_t> pid = ForkExec(plan);
  if (!pid.ok()) return pid.status();
  write_end.Reset();
  const absl::Time deadline = absl::Now() + kToolTimeout;
  RunResult result;
  for (;;) {
    pollfd p{read_end.get(), POLLIN, 0};
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(
        std::max(deadline - absl::Now(), absl::ZeroDuration())));
    const int ready = ::poll(&p, 1, ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;  // the deadline (or a poll error): stop reading
    char buf[4096];
    const ssize_t n = ::read(read_end.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, n);
  }
  absl::StatusOr<int> code =
      WaitChild(*pid, std::max(deadline - absl::Now(), absl::Milliseconds(1)));
  const std::string command = absl::StrJoin(argv, " ");
  if (!code.ok()) {
    ::kill(*pid, SIGKILL);
    (void)WaitChild(*pid, kKillTimeout);
    return absl::DeadlineExceededError(
        absl::StrCat("`", command, "` still running after ",
                     absl::FormatDuration(kToolTimeout)));
  }
  result.exit_code = *code;
  if (result.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("`", command, "` exited with ", result.exit_code, ": ",
                     absl::StripAsciiWhitespace(result.output)));
  }
  return result;
}

absl::Status Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunTool(argv).status();
}

std::string NetnsPath(absl::string_view name) {
  return absl::StrCat(kNetnsDir, "/", name);
}

// The pids of the processes in network namespace `netns` (zombies have
// none). Empty if the namespace is gone.
std::vector<pid_t> ProcessesIn(const std::string& netns) {
  std::vector<pid_t> pids;
  struct stat target {};
  if (::stat(NetnsPath(netns).c_str(), &target) != 0) return pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (const dirent* e = ::readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(e->d_name, &pid) || pid <= 0) continue;
    struct stat st {};
    const std::string ns = absl::StrCat("/proc/", pid, "/ns/net");
    if (::stat(ns.c_str(), &st) == 0 && st.st_dev == target.st_dev &&
        st.st_ino == target.st_ino) {
      pids.push_back(pid);
    }
  }
  ::closedir(proc);
  return pids;
}

// SIGKILLs every process in `netns` until none is left, for up to
// kKillTimeout.
absl::Status KillIn(const std::string& netns) {
  const absl::Time deadline = absl::Now() + kKillTimeout;
  for (;;) {
    const std::vector<pid_t> pids = ProcessesIn(netns);
    if (pids.empty()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(pids.size(), " processes in ", netns,
                       " survive SIGKILL (pid ", pids[0], ", ...)"));
    }
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    Nap(absl::Milliseconds(5));
  }
}

// True if `rest` starts with the pid of a process that no longer runs (the
// pid part of "weft-test-PID-..." or of the state directory "PID-SEQ").
bool OwnerIsGone(absl::string_view rest) {
  int pid = 0;
  if (!absl::SimpleAtoi(rest.substr(0, rest.find('-')), &pid) || pid <= 0 ||
      pid == ::getpid()) {
    return false;
  }
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

std::vector<std::string> DirectoryEntries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(d);
  return names;
}

// Unmounts every mount on a file of `dir` (the UTS namespaces) and removes
// it. Returns false if something stayed.
bool RemoveStateDir(const std::string& dir) {
  for (const std::string& name : DirectoryEntries(dir)) {
    ::umount2(absl::StrCat(dir, "/", name).c_str(),
              MNT_DETACH | UMOUNT_NOFOLLOW);
  }
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  if (error) {
    std::fprintf(stderr, "test_hosts: cannot remove %s: %s\n", dir.c_str(),
                 error.message().c_str());
  }
  return !error;
}

// Removes the namespaces and state directories of test processes that are
// gone (a crash or SIGKILL skips destructors), killing what still runs in
// them.
void RemoveLeftovers() {
  for (const std::string& name : DirectoryEntries(kNetnsDir)) {
    if (!absl::StartsWith(name, kNamePrefix) ||
        !OwnerIsGone(absl::string_view(name).substr(kNamePrefix.size()))) {
      continue;
    }
    (void)KillIn(name);
    (void)Ip({"netns", "delete", name});  // racing another test is fine
  }
  for (const std::string& name : DirectoryEntries(kStateRoot)) {
    if (OwnerIsGone(name)) RemoveStateDir(absl::StrCat(kStateRoot, "/", name));
  }
}

// Makes a UTS namespace with host name `host_name` and keeps it by
// bind-mounting it on `path` (created here).
absl::Status MakeUtsNamespace(const std::string& path,
                              const std::string& host_name) {
  Fd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (file.get() < 0) return ErrnoError(absl::StrCat("creating ", path), errno);
  file.Reset();
  const char* target = path.c_str();
  const char* name = host_name.c_str();
  const size_t length = host_name.size();
  return RunInChild("making a UTS namespace", [&](int report_fd) {
    if (::unshare(CLONE_NEWUTS) != 0) ChildFail(report_fd, kNewUtsNamespace);
    if (::sethostname(name, length) != 0) ChildFail(report_fd, kSetHostName);
    if (::mount("/proc/self/ns/uts", target, nullptr, MS_BIND, nullptr) != 0) {
      ChildFail(report_fd, kBindUts);
    }
  });
}

// A valid host name for AddHost (an RFC 1123 label).
bool IsLabel(absl::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' ||
      name.back() == '-') {
    return false;
  }
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') {
      return false;
    }
  }
  return true;
}

std::string MachineHostName() {
  char host[HOST_NAME_MAX + 1] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return host;
}

}  // namespace

std::string ThisTestRole() {
  const char* role = std::getenv(kRoleVariable);
  return role != nullptr ? role : "";
}

absl::StatusOr<std::unique_ptr<HostProcess>> SpawnLocal(
    const std::vector<std::string>& argv, const std::string& output_path,
    const EnvOverrides& env) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  const std::string path = FindProgram(argv[0]);
  if (path.empty()) {
    return absl::NotFoundError(absl::StrCat("no program `", argv[0], "`"));
  }
  Fd output(::open(output_path.c_str(),
                   O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (output.get() < 0) {
    return ErrnoError(absl::StrCat("creating ", output_path), errno);
  }
  Fd reader(::open(output_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (reader.get() < 0) {
    return ErrnoError(absl::StrCat("opening ", output_path), errno);
  }
  const CStrings args(argv);
  const CStrings environment(MakeEnvironment(env));
  ExecPlan plan;
  plan.path = path.c_str();
  plan.argv = args.get();
  plan.envp = environment.get();
  plan.output_fd = output.get();
  absl::StatusOr<pid_t> pid = ForkExec(plan);
  if (!pid.ok()) return pid.status();
  return std::unique_ptr<HostProcess>(
      new HostProcess(*pid, reader.Release(), output_path));
}

// HostProcess ----------------------------------------------------------------

HostProcess::HostProcess(pid_t pid, int output_fd, std::string output_path)
    : pid_(pid), output_fd_(output_fd), output_path_(std::move(output_path)) {}

HostProcess::~HostProcess() {
  Kill();
  ::close(output_fd_);
}

std::string HostProcess::Output() const {
  std::string out;
  char buf[8192];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(output_fd_, buf, sizeof(buf), at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, n);
    at += n;
  }
  return out;
}

absl::Status HostProcess::WaitForOutput(std::string_view text_view,
                                        absl::Duration timeout) {
  const std::string text(text_view);
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const bool exited = Poll().has_value();  // before reading: no lost text
    if (absl::StrContains(Output(), text)) return absl::OkStatus();
    if (exited) {
      return absl::FailedPreconditionError(
          absl::StrCat("process ", pid_, " exited with ", *exit_code_,
                       " without writing '", text, "'"));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid_, " did not write '", text, "' within ",
                       absl::FormatDuration(timeout)));
    }
    Nap(absl::Milliseconds(10));
  }
}

absl::StatusOr<int> HostProcess::Wait(absl::Duration timeout) {
  if (exit_code_.has_value()) return *exit_code_;
  absl::StatusOr<int> code = WaitChild(pid_, timeout);
  if (code.ok()) exit_code_ = *code;
  return code;
}

std::optional<int> HostProcess::Poll() {
  if (!exit_code_.has_value()) {
    absl::StatusOr<int> code = WaitChild(pid_, absl::ZeroDuration());
    if (code.ok()) exit_code_ = *code;
  }
  return exit_code_;
}

absl::Status HostProcess::Signal(int signal) {
  if (exit_code_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("process ", pid_, " has exited"));
  }
  if (::kill(-pid_, signal) != 0 && ::kill(pid_, signal) != 0) {
    return ErrnoError(absl::StrCat("kill ", pid_), errno);
  }
  return absl::OkStatus();
}

int HostProcess::Kill() {
  if (exit_code_.has_value()) return *exit_code_;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  absl::StatusOr<int> code = Wait(kKillTimeout);
  if (!code.ok()) {
    std::fprintf(stderr, "test_hosts: %s\n", code.status().ToString().c_str());
    return -1;
  }
  return *code;
}

// TestHost -------------------------------------------------------------------

TestHost::TestHost(TestNetwork* network, std::string name, int index)
    : network_(network),
      name_(std::move(name)),
      index_(index),
      address_(absl::StrCat(TestNetwork::kSubnetPrefix, index)),
      netns_(absl::StrCat(network->name(), "-", name_)),
      uts_path_(absl::StrCat(network->state_dir(), "/", name_, ".uts")) {}

absl::StatusOr<std::unique_ptr<HostProcess>> TestHost::Spawn(
    const std::vector<std::string>& argv, const EnvOverrides& env) {
  return Start(argv, MakeEnvironment(env));
}

absl::StatusOr<std::unique_ptr<HostProcess>> TestHost::Start(
    const std::vector<std::string>& argv,
    std::vector<std::string> environment) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  const std::string path = FindProgram(argv[0]);
  if (path.empty()) {
    return absl::NotFoundError(absl::StrCat("no program `", argv[0], "`"));
  }
  const std::string output_path =
      absl::StrCat(network_->state_dir(), "/", name_, "-", ++spawned_, ".log");
  Fd output(::open(output_path.c_str(),
                   O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  if (output.get() < 0) {
    return ErrnoError(absl::StrCat("creating ", output_path), errno);
  }
  Fd reader(::open(output_path.c_str(), O_RDONLY | O_CLOEXEC));
  Fd netns(::open(NetnsPath(netns_).c_str(), O_RDONLY | O_CLOEXEC));
  Fd uts(::open(uts_path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (reader.get() < 0 || netns.get() < 0 || uts.get() < 0) {
    return ErrnoError(absl::StrCat("opening the namespaces of host ", name_),
                      errno);
  }
  const CStrings args(argv);
  const CStrings env(std::move(environment));
  ExecPlan plan;
  plan.path = path.c_str();
  plan.argv = args.get();
  plan.envp = env.get();
  plan.netns_fd = netns.get();
  plan.uts_fd = uts.get();
  plan.hosts_path = network_->hosts_path_.c_str();
  plan.output_fd = output.get();
  absl::StatusOr<pid_t> pid = ForkExec(plan);
  if (!pid.ok()) return pid.status();
  return std::unique_ptr<HostProcess>(
      new HostProcess(*pid, reader.Release(), output_path));
}

absl::StatusOr<RunResult> TestHost::Run(std::string_view command_view,
                                        absl::Duration timeout,
                                        const EnvOverrides& env) {
  const std::string command(command_view);
  absl::StatusOr<std::unique_ptr<HostProcess>> process =
      Spawn({"/bin/sh", "-c", command}, env);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> code = (*process)->Wait(timeout);
  if (!code.ok()) {
    (*process)->Kill();
    return absl::DeadlineExceededError(
        absl::StrCat("`", command, "` in host ", name_, " still running after ",
                     absl::FormatDuration(timeout),
                     "; its output so far: ", (*process)->Output()));
  }
  return RunResult{*code, (*process)->Output()};
}

absl::StatusOr<std::unique_ptr<HostProcess>> TestHost::SpawnThisTest(
    std::string_view role, const EnvOverrides& env) {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  if (test == nullptr || role.empty()) {
    return absl::FailedPreconditionError(
        "SpawnThisTest needs a running test and a role");
  }
  char self[PATH_MAX + 1] = {0};
  if (::readlink("/proc/self/exe", self, PATH_MAX) <= 0) {
    return ErrnoError("readlink /proc/self/exe", errno);
  }
  EnvOverrides with_role = env;
  with_role[kRoleVariable] = std::string(role);
  return Start({self, absl::StrCat("--gtest_filter=", test->test_suite_name(),
                                   ".", test->name())},
               MakeEnvironment(with_role, {std::begin(kTestRunnerVariables),
                                           std::end(kTestRunnerVariables)}));
}

absl::Status TestHost::LinkDown() {
  return Ip({"-n", network_->name(), "link", "set", Port(), "down"});
}

absl::Status TestHost::LinkUp() {
  if (absl::Status s =
          Ip({"-n", network_->name(), "link", "set", Port(), "up"});
      !s.ok()) {
    return s;
  }
  const absl::Time deadline = absl::Now() + kLinkUpTimeout;
  for (;;) {
    absl::StatusOr<RunResult> shown = RunTool(
        {"ip", "-n", netns_, "-o", "link", "show", "dev", kHostInterface});
    if (!shown.ok()) return shown.status();
    if (absl::StrContains(shown->output, " state UP ")) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "host ", name_, ": ", kHostInterface, " not up after ",
          absl::FormatDuration(kLinkUpTimeout), ": ", shown->output));
    }
    Nap(absl::Milliseconds(10));
  }
}

absl::Status TestHost::SetNetem(std::string_view args_view) {
  const std::string args(args_view);
  std::vector<std::string> argv = {"tc",           "-n",      netns_,
                                   "qdisc",        "replace", "dev",
                                   kHostInterface, "root",    "netem"};
  for (absl::string_view a :
       absl::StrSplit(args, ' ', absl::SkipWhitespace())) {
    argv.emplace_back(a);
  }
  absl::StatusOr<RunResult> result = RunTool(argv);
  if (result.ok()) {
    netem_ = true;
    return absl::OkStatus();
  }
  if (absl::StrContains(result.status().message(), "qdisc kind is unknown")) {
    return absl::UnavailableError(
        absl::StrCat("the kernel has no netem qdisc (CONFIG_NET_SCH_NETEM): ",
                     result.status().message()));
  }
  if (absl::IsInternal(result.status())) {
    return absl::InvalidArgumentError(result.status().message());
  }
  return result.status();
}

absl::Status TestHost::ClearNetem() {
  if (!netem_) return absl::OkStatus();
  absl::Status s = RunTool({"tc", "-n", netns_, "qdisc", "del", "dev",
                            kHostInterface, "root"})
                       .status();
  if (s.ok()) netem_ = false;
  return s;
}

absl::Status TestHost::KillAll() { return KillIn(netns_); }

std::string TestHost::Port() const { return absl::StrCat("p", index_); }

// TestNetwork ----------------------------------------------------------------

absl::Status TestNetwork::Availability() {
  if (::geteuid() != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "test hosts need root (namespaces, mounts); euid is ", ::geteuid()));
  }
  if (FindProgram("ip").empty()) {
    return absl::FailedPreconditionError(
        "no `ip` program (Debian's iproute2; tools/setup.sh installs it)");
  }
  static std::atomic<int> probes{0};
  const std::string probe =
      absl::StrCat(kNamePrefix, ::getpid(), "-probe", probes++);
  if (absl::Status s = Ip({"netns", "add", probe}); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a network namespace: ", s.message()));
  }
  absl::Status result =
      Ip({"-n", probe, "link", "add", kBridge, "type", "bridge"});
  if (!result.ok()) {
    result = absl::FailedPreconditionError(
        absl::StrCat("cannot create a bridge: ", result.message()));
  } else if (absl::Status s = Ip({"-n", probe, "link", "add", "v0", "type",
                                  "veth", "peer", "name", "v1"});
             !s.ok()) {
    result = absl::FailedPreconditionError(
        absl::StrCat("cannot create a veth pair: ", s.message()));
  } else if (absl::Status s =
                 RunInChild("UTS and mount namespaces",
                            [](int report_fd) {
                              if (::unshare(CLONE_NEWUTS) != 0) {
                                ChildFail(report_fd, kNewUtsNamespace);
                              }
                              if (::sethostname("probe", 5) != 0) {
                                ChildFail(report_fd, kSetHostName);
                              }
                              if (::unshare(CLONE_NEWNS) != 0) {
                                ChildFail(report_fd, kNewMountNamespace);
                              }
                              if (::mount(nullptr, "/", nullptr,
                                          MS_REC | MS_SLAVE, nullptr) != 0) {
                                ChildFail(report_fd, kSlaveMounts);
                              }
                              if (::mount("/etc/hosts", "/etc/hosts", nullptr,
                                          MS_BIND, nullptr) != 0) {
                                ChildFail(report_fd, kBindHosts);
                              }
                            });
             !s.ok()) {
    result = absl::FailedPreconditionError(
        absl::StrCat("cannot make namespaces: ", s.message()));
  }
  (void)Ip({"netns", "delete", probe});
  return result;
}

absl::StatusOr<std::unique_ptr<TestNetwork>> TestNetwork::Create() {
  RemoveLeftovers();
  static std::atomic<int> networks{0};
  const int seq = networks++;
  const pid_t pid = ::getpid();
  if (::mkdir(kStateRoot, 0755) != 0 && errno != EEXIST) {
    return ErrnoError(absl::StrCat("creating ", kStateRoot), errno);
  }
  std::string state_dir = absl::StrCat(kStateRoot, "/", pid, "-", seq);
  if (::mkdir(state_dir.c_str(), 0755) != 0) {
    return ErrnoError(absl::StrCat("creating ", state_dir), errno);
  }
  // From here on the destructor removes whatever got made.
  std::unique_ptr<TestNetwork> network(new TestNetwork(
      absl::StrCat(kNamePrefix, pid, "-", seq), std::move(state_dir)));
  if (absl::Status s = network->WriteHostsFile(); !s.ok()) return s;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"netns", "add", network->name_},
        {"-n", network->name_, "link", "add", kBridge, "type", "bridge"},
        {"-n", network->name_, "link", "set", kBridge, "up"}}) {
    if (absl::Status s = Ip(args); !s.ok()) return s;
  }
  return network;
}

TestNetwork::TestNetwork(std::string name, std::string state_dir)
    : name_(std::move(name)),
      state_dir_(std::move(state_dir)),
      hosts_path_(absl::StrCat(state_dir_, "/hosts")) {}

TestNetwork::~TestNetwork() {
  for (const std::unique_ptr<TestHost>& host : hosts_) RemoveHost(*host);
  if (Exists(NetnsPath(name_))) {
    if (absl::Status s = Ip({"netns", "delete", name_}); !s.ok()) {
      std::fprintf(stderr, "test_hosts: %s\n", s.ToString().c_str());
    }
  }
  RemoveStateDir(state_dir_);
}

absl::StatusOr<TestHost*> TestNetwork::AddHost(std::string_view name_view) {
  const std::string name(name_view);
  if (!IsLabel(name) || name == "localhost" || name == MachineHostName()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad host name '", name,
        "': want 1-63 of [a-z0-9-], no '-' at either end, not localhost and "
        "not the machine's own name"));
  }
  if (host(name) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("host ", name, " exists"));
  }
  if (hosts_.size() >= kMaxHosts) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a network holds at most ", kMaxHosts, " hosts"));
  }
  auto host = std::unique_ptr<TestHost>(new TestHost(
      this, std::string(name), static_cast<int>(hosts_.size()) + 1));
  const std::string& ns = host->netns_;
  const std::string address = absl::StrCat(host->address_, "/24");
  absl::Status made;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"netns", "add", ns},
        {"-n", name_, "link", "add", host->Port(), "type", "veth", "peer",
         "name", kHostInterface, "netns", ns},
        {"-n", name_, "link", "set", host->Port(), "master", kBridge, "up"},
        {"-n", ns, "addr", "add", address, "dev", kHostInterface},
        {"-n", ns, "link", "set", kHostInterface, "up"},
        {"-n", ns, "link", "set", "lo", "up"}}) {
    made = Ip(args);
    if (!made.ok()) break;
  }
  if (made.ok()) made = MakeUtsNamespace(host->uts_path_, host->name_);
  if (!made.ok()) {
    RemoveHost(*host);
    return made;
  }
  hosts_.push_back(std::move(host));
  if (absl::Status s = WriteHostsFile(); !s.ok()) return s;
  return hosts_.back().get();
}

TestHost* TestNetwork::host(std::string_view name) const {
  for (const std::unique_ptr<TestHost>& h : hosts_) {
    if (h->name() == name) return h.get();
  }
  return nullptr;
}

absl::Status TestNetwork::WriteHostsFile() const {
  std::string text =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  for (const std::unique_ptr<TestHost>& h : hosts_) {
    absl::StrAppend(&text, h->address(), "\t", h->name(), "\n");
  }
  // Rewritten in place: processes already running see the same file.
  Fd file(::open(hosts_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                 0644));
  if (file.get() < 0 || ::write(file.get(), text.data(), text.size()) !=
                            static_cast<ssize_t>(text.size())) {
    return ErrnoError(absl::StrCat("writing ", hosts_path_), errno);
  }
  return absl::OkStatus();
}

bool TestNetwork::RemoveHost(const TestHost& host) {
  bool ok = true;
  if (Exists(NetnsPath(host.netns_))) {
    absl::Status s = KillIn(host.netns_);
    // Deleting the namespace deletes its end of the veth pair, and so the
    // bridge's end.
    if (s.ok()) s = Ip({"netns", "delete", host.netns_});
    if (!s.ok()) {
      std::fprintf(stderr, "test_hosts: %s\n", s.ToString().c_str());
      ok = false;
    }
  }
  if (Exists(host.uts_path_)) {
    ::umount2(host.uts_path_.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    if (::unlink(host.uts_path_.c_str()) != 0) {
      std::fprintf(stderr, "test_hosts: cannot remove %s: %s\n",
                   host.uts_path_.c_str(), std::strerror(errno));
      ok = false;
    }
  }
  return ok;
}

}  // namespace weft::testing
