// Copyright 2026 The weft Authors.

#include "worker/supervisor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "worker/worker.h"

extern char** environ;

namespace weft::worker {
namespace {

// The signals the supervisor waits for (blocked, taken with sigtimedwait).
sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, sig);
  return set;
}

bool IsStopSignal(int sig) {
  return sig == SIGTERM || sig == SIGINT || sig == SIGHUP;
}

// The exit code that passes `wait_status` on.
int CodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

// A death worth a restart: a crash, not a decision.
bool Restartable(int wait_status) {
  if (WIFSIGNALED(wait_status)) return true;
  if (!WIFEXITED(wait_status)) return false;
  const int code = WEXITSTATUS(wait_status);
  return code != 0 && code != 1 && code != 2 && code != kExitNoScheduler;
}

class Supervisor {
 public:
  Supervisor(const std::vector<std::string>& argv,
             const SupervisorOptions& options)
      : options_(options), argv_(argv) {
    const sigset_t watched = WatchedSignals();
    ::sigprocmask(SIG_BLOCK, &watched, &original_mask_);
    if (!options.program.empty()) {
      path_ = options.program;
    } else {
      char path[4096];
      const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
      if (n > 0) path_.assign(path, n);
    }
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "WEFT_SUPERVISED=", 16) != 0) env_.emplace_back(*e);
    }
    env_.push_back(absl::StrCat(kSupervisedVariable, "=1"));
  }

  int Run() {
    const int code = Loop();
    ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
    return code;
  }

 private:
  int Loop() {
    if (path_.empty()) {
      std::fprintf(stderr, "%s supervisor: cannot find this program's path\n",
                   options_.name.c_str());
      return 1;
    }
    if (!Start()) return 1;
    int restarts = 0;
    absl::Duration backoff = options_.min_backoff;
    while (true) {
      int status = 0;
      if (!WaitForChild(&status)) continue;
      child_ = -1;
      if (stopping_ || !Restartable(status)) return CodeOf(status);
      const std::string how = DescribeExit(status);
      if (options_.max_restarts >= 0 && restarts >= options_.max_restarts) {
        std::fprintf(stderr,
                     "%s supervisor: the worker (pid %d) %s; not restarting "
                     "it (it was restarted %d times, the limit)\n",
                     options_.name.c_str(), static_cast<int>(last_pid_),
                     how.c_str(), restarts);
        return CodeOf(status);
      }
      const absl::Duration lived = absl::Now() - started_;
      absl::Duration delay = absl::ZeroDuration();
      if (lived < options_.healthy_after) {
        delay = backoff;
        backoff = std::min(backoff * 2, options_.max_backoff);
      } else {
        backoff = options_.min_backoff;
      }
      ++restarts;
      std::fprintf(stderr,
                   "%s supervisor: the worker (pid %d) %s; restarting it%s "
                   "(restart %d)\n",
                   options_.name.c_str(), static_cast<int>(last_pid_),
                   how.c_str(),
                   delay > absl::ZeroDuration()
                       ? absl::StrCat(" in ", absl::FormatDuration(delay))
                             .c_str()
                       : "",
                   restarts);
      if (!SleepUnlessStopped(delay)) return CodeOf(status);
      if (!Start()) return 1;
    }
  }

  // Forks and execs the child. Returns false (saying why) if it cannot.
  bool Start() {
    // Prepared before fork(): the child only calls async-signal-safe
    // functions.
    std::vector<char*> argv;
    for (std::string& a : argv_) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& e : env_) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      std::fprintf(stderr, "%s supervisor: cannot start the worker: %s\n",
                   options_.name.c_str(), std::strerror(errno));
      return false;
    }
    if (pid == 0) {
      // The worker leaves (SIGTERM) when its supervisor dies.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(1);
      ::sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
      ::execve(path_.c_str(), argv.data(), envp.data());
      ::_exit(127);
    }
    child_ = pid;
    last_pid_ = pid;
    started_ = absl::Now();
    return true;
  }

  // Waits for a signal; passes stop signals on. Returns true (with
  // `*status`) once the child has ended.
  bool WaitForChild(int* status) {
    const sigset_t watched = WatchedSignals();
    timespec tick{1, 0};  // also reaps a child whose SIGCHLD was merged
    const int sig = ::sigtimedwait(&watched, nullptr, &tick);
    if (IsStopSignal(sig)) {
      stopping_ = true;
      if (child_ > 0) ::kill(child_, sig);
    }
    return child_ > 0 && ::waitpid(child_, status, WNOHANG) == child_;
  }

  // Sleeps `delay` unless a stop signal comes first (then false).
  bool SleepUnlessStopped(absl::Duration delay) {
    const sigset_t watched = WatchedSignals();
    const absl::Time until = absl::Now() + delay;
    for (absl::Time now = absl::Now(); now < until; now = absl::Now()) {
      const timespec left = absl::ToTimespec(until - now);
      const int sig = ::sigtimedwait(&watched, nullptr, &left);
      if (IsStopSignal(sig)) return false;
    }
    return true;
  }

  const SupervisorOptions options_;
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  std::string path_;
  sigset_t original_mask_;
  pid_t child_ = -1;     // the running child, -1 if none
  pid_t last_pid_ = -1;  // for messages
  absl::Time started_;
  bool stopping_ = false;  // a stop signal was passed on
};

}  // namespace

bool IsSupervisedChild() {
  const char* value = std::getenv(kSupervisedVariable);
  return value != nullptr && std::string_view(value) == "1";
}

int Supervise(const std::vector<std::string>& argv,
              const SupervisorOptions& options) {
  return Supervisor(argv, options).Run();
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    const char* name = ::strsignal(sig);
    return absl::StrCat("was killed by signal ", sig,
                        name != nullptr ? absl::StrCat(" (", name, ")") : "");
  }
  return absl::StrCat("ended with wait status ", wait_status);
}

}  // namespace weft::worker
