// Copyright 2026 The weft Authors.

#include "deploy/run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace weft::deploy {
namespace {

// Closes what it holds when it goes.
struct Fds {
  int fds[6] = {-1, -1, -1, -1, -1, -1};  // in r/w, out r/w, err r/w
  ~Fds() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  void Close(int i) {
    if (fds[i] >= 0) ::close(fds[i]);
    fds[i] = -1;
  }
};

int ExitCode(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& input,
                                         absl::Duration timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("no command to run");
  Fds p;
  for (int i = 0; i < 3; ++i) {
    if (::pipe2(p.fds + 2 * i, O_CLOEXEC) != 0) {
      return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
    }
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, p.fds[0], 0);
  posix_spawn_file_actions_adddup2(&actions, p.fds[3], 1);
  posix_spawn_file_actions_adddup2(&actions, p.fds[5], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  std::vector<std::string> copy = argv;
  std::vector<char*> cargv;
  for (std::string& a : copy) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned =
      ::posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    if (spawned == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("no program '", argv[0], "' (is it on the PATH?)"));
    }
    return absl::InternalError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(spawned)));
  }
  p.Close(0);
  p.Close(3);
  p.Close(5);
  // Feed the input and collect the output without blocking on either.
  CommandResult result;
  size_t written = 0;
  if (input.empty()) p.Close(1);
  for (int i : {1, 2, 4}) {
    if (p.fds[i] >= 0) ::fcntl(p.fds[i], F_SETFL, O_NONBLOCK);
  }
  const absl::Time deadline = absl::Now() + timeout;
  bool timed_out = false;
  while (p.fds[2] >= 0 || p.fds[4] >= 0) {
    pollfd polls[3];
    int n = 0;
    int which[3];
    for (int i : {1, 2, 4}) {
      if (p.fds[i] < 0) continue;
      polls[n] = {p.fds[i], static_cast<short>(i == 1 ? POLLOUT : POLLIN), 0};
      which[n++] = i;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(
        polls, n, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno != EINTR) break;
    for (int k = 0; k < n && ready > 0; ++k) {
      if (polls[k].revents == 0) continue;
      const int i = which[k];
      if (i == 1) {
        const ssize_t w = ::write(p.fds[1], input.data() + written,
                                  input.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();
        if (written >= input.size()) p.Close(1);
        continue;
      }
      char buf[4096];
      const ssize_t r = ::read(p.fds[i], buf, sizeof(buf));
      if (r > 0) {
        (i == 2 ? result.out : result.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        p.Close(i);
      }
    }
  }
  int status = 0;
  if (timed_out) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return absl::DeadlineExceededError(absl::StrCat(
        ShellCommand(argv), " did not finish within ",
        absl::FormatDuration(timeout), "; it said: ", result.out, result.err));
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = ExitCode(status);
  return result;
}

std::string ShellQuote(const std::string& word) {
  bool safe = !word.empty();
  for (char c : word) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::strchr("_./:=@%+,-", c) != nullptr)) {
      safe = false;
      break;
    }
  }
  if (safe) return word;
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ShellCommand(const std::vector<std::string>& argv) {
  std::vector<std::string> words;
  for (const std::string& a : argv) words.push_back(ShellQuote(a));
  return absl::StrJoin(words, " ");
}

}  // namespace weft::deploy
