// Copyright 2026 The weft Authors.

#include "tests/testing/as_nobody.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weft::testing {

namespace {

constexpr uid_t kNobody = 65534;
// The child's exit codes other than 0.
constexpr int kCouldNotDropRoot = 1;
constexpr int kCouldNotReport = 2;

}  // namespace

absl::StatusOr<std::string> RunAsNobody(absl::FunctionRef<std::string()> f) {
  int report[2];
  if (::pipe(report) != 0) {
    return absl::InternalError(absl::StrCat("pipe: errno ", errno));
  }
  const pid_t child = ::fork();
  if (child < 0) {
    const int error = errno;
    ::close(report[0]);
    ::close(report[1]);
    return absl::InternalError(absl::StrCat("fork: errno ", error));
  }
  if (child == 0) {
    ::close(report[0]);
    if (::setresuid(kNobody, kNobody, kNobody) != 0) ::_exit(kCouldNotDropRoot);
    const std::string said = f();
    size_t sent = 0;
    while (sent < said.size()) {
      const ssize_t n =
          ::write(report[1], said.data() + sent, said.size() - sent);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ::_exit(kCouldNotReport);
      sent += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  ::close(report[1]);
  std::string said;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(report[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    said.append(buf, static_cast<size_t>(n));
  }
  ::close(report[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid: errno ", errno));
    }
  }
  if (!WIFEXITED(status)) {
    return absl::InternalError(
        absl::StrCat("the child that gave up root ended by signal ",
                     WIFSIGNALED(status) ? WTERMSIG(status) : 0));
  }
  switch (WEXITSTATUS(status)) {
    case 0:
      return said;
    case kCouldNotDropRoot:
      return absl::InternalError("the child could not give up root");
    case kCouldNotReport:
      return absl::InternalError("the child could not write its report");
    default:
      return absl::InternalError(
          absl::StrCat("the child exited with ", WEXITSTATUS(status)));
  }
}

}  // namespace weft::testing
