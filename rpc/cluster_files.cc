// Copyright 2026 The weft Authors.

#include "rpc/cluster_files.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "deploy/slurm_env.h"
#include "weft/internal/status_macros.h"

namespace weft::rpc {
namespace {

// Creates the directories above `path` that are missing (mode 0700).
void MakeParents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    ::mkdir(path.substr(0, slash).c_str(), 0700);
  }
}

}  // namespace

absl::StatusOr<std::string> DefaultStateDir() {
  std::string dir;
  if (const char* home = std::getenv("WEFT_HOME"); home != nullptr && *home) {
    dir = home;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home) {
    dir = absl::StrCat(home, "/.weft");
  } else {
    return absl::FailedPreconditionError(
        "weft: neither WEFT_HOME nor HOME is set, so there is no default "
        "token file; pass --token-file (or set WEFT_TOKEN)");
  }
  if (std::optional<std::string> job = deploy::CurrentSlurmJobId()) {
    absl::StrAppend(&dir, "/slurm-", *job);
  }
  return dir;
}

absl::StatusOr<std::string> DefaultSchedulerFile() {
  WEFT_ASSIGN_OR_RETURN(std::string dir, DefaultStateDir());
  return dir + "/scheduler";
}

absl::StatusOr<std::string> SchedulerFileBeside(const std::string& token_file) {
  if (token_file.empty()) return DefaultSchedulerFile();
  const size_t slash = token_file.rfind('/');
  if (slash == std::string::npos) return std::string("scheduler");
  return token_file.substr(0, slash + 1) + "scheduler";
}

absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents,
                                 const std::string& what) {
  MakeParents(path);
  // A fresh file beside the target (never an existing one, never through a
  // symbolic link), renamed over it: rename() replaces a link at `path`
  // itself, not what it points to.
  const std::string tmp = absl::StrCat(path, ".", ::getpid(), ".tmp");
  ::unlink(tmp.c_str());
  const int fd = ::open(
      tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "weft: cannot write ", what, " ", tmp, ": ", std::strerror(errno)));
  }
  const bool ok = ::write(fd, contents.data(), contents.size()) ==
                      static_cast<ssize_t>(contents.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("weft: cannot write ", what, " ",
                                            path, ": ", std::strerror(error)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTrimmedFile(const std::string& path,
                                            const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == EACCES || error == EPERM) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot read ", what, " ", path, ": ", std::strerror(error)));
    }
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path,
                                            ": ", std::strerror(error)));
  }
  std::string contents;
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || contents.size() > 4096) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  std::string text(absl::StripAsciiWhitespace(contents));
  if (text.empty()) {
    return absl::NotFoundError(absl::StrCat(what, " ", path, " is empty"));
  }
  return text;
}

absl::Status WriteSchedulerFile(const std::string& path,
                                const std::string& address) {
  return WriteFileAtomically(path, address + "\n", "scheduler file");
}

absl::StatusOr<std::string> ReadSchedulerFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTrimmedFile(path, "scheduler file");
  if (!text.ok()) return text;
  const size_t colon = text->rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      text->find_first_of(" \t\n") != std::string::npos ||
      !absl::SimpleAtoi(text->substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("weft: scheduler file ",
                                                   path, " holds '", *text,
                                                   "', not one host:port"));
  }
  return text;
}

absl::StatusOr<std::string> WaitForSchedulerFile(const std::string& path,
                                                 absl::Time deadline) {
  for (;;) {
    absl::StatusOr<std::string> address = ReadSchedulerFile(path);
    if (!absl::IsNotFound(address.status())) return address;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("weft: no scheduler wrote its address to ", path,
                       " in time (", address.status().message(), ")"));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

std::string ReachableAddress(const std::string& host, int port) {
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") {
    char name[256] = {0};
    ::gethostname(name, sizeof(name) - 1);
    return absl::StrCat(name, ":", port);
  }
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::string> InterfaceAddress(const std::string& name) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return absl::InternalError(absl::StrCat(
        "weft: cannot list the network interfaces: ", std::strerror(errno)));
  }
  std::string found;
  std::vector<std::string> names;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) {
      continue;
    }
    char text[INET_ADDRSTRLEN] = {0};
    ::inet_ntop(AF_INET,
                &reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr,
                text, sizeof(text));
    if (name == it->ifa_name && found.empty()) found = text;
    names.push_back(absl::StrCat(it->ifa_name, " (", text, ")"));
  }
  ::freeifaddrs(list);
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "weft: no network interface ", name,
        " with an IPv4 address here; there are: ", absl::StrJoin(names, ", ")));
  }
  return found;
}

namespace {

bool IsLoopback(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const uint32_t ip =
        ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
    return (ip >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    return IN6_IS_ADDR_LOOPBACK(
        &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  return false;
}

// Whether `address` is one of this machine's interfaces' addresses.
bool IsLocalAddress(const sockaddr* address) {
  if (IsLoopback(address)) return true;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* it = list; it != nullptr && !found; it = it->ifa_next) {
    const sockaddr* own = it->ifa_addr;
    if (own == nullptr || own->sa_family != address->sa_family) continue;
    if (own->sa_family == AF_INET) {
      found = reinterpret_cast<const sockaddr_in*>(own)->sin_addr.s_addr ==
              reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr;
    } else if (own->sa_family == AF_INET6) {
      found = std::memcmp(
                  &reinterpret_cast<const sockaddr_in6*>(own)->sin6_addr,
                  &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr,
                  sizeof(in6_addr)) == 0;
    }
  }
  ::freeifaddrs(list);
  return found;
}

std::string HostOf(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

absl::StatusOr<Whereabouts> LocateServer(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: '", address, "' is not HOST:PORT"));
  }
  const std::string host = HostOf(address);
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (const int e = ::getaddrinfo(host.c_str(), absl::StrCat(port).c_str(),
                                  &hints, &found);
      e != 0) {
    return absl::NotFoundError(
        absl::StrCat("weft: cannot resolve ", host, ": ", ::gai_strerror(e)));
  }
  absl::StatusOr<Whereabouts> out =
      absl::UnavailableError(absl::StrCat("weft: no route to ", address));
  for (addrinfo* it = found; it != nullptr; it = it->ai_next) {
    // A datagram socket's connect() sends nothing: it only picks the route
    // and with it the local address.
    const int fd = ::socket(it->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    sockaddr_storage local = {};
    socklen_t size = sizeof(local);
    if (::connect(fd, it->ai_addr, it->ai_addrlen) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) == 0) {
      char text[INET6_ADDRSTRLEN] = {0};
      const void* ip =
          local.ss_family == AF_INET
              ? static_cast<const void*>(
                    &reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
              : static_cast<const void*>(
                    &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
      ::inet_ntop(local.ss_family, ip, text, sizeof(text));
      Whereabouts where;
      where.here = IsLocalAddress(it->ai_addr);
      where.local_address = text;
      out = where;
    }
    ::close(fd);
    if (out.ok()) break;
  }
  ::freeaddrinfo(found);
  return out;
}

bool IsLoopbackHost(const std::string& host) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(HostOf(host + ":0").c_str(), nullptr, &hints, &found) !=
      0) {
    return false;
  }
  bool all = found != nullptr;
  for (addrinfo* it = found; it != nullptr; it = it->ai_next) {
    all = all && IsLoopback(it->ai_addr);
  }
  ::freeaddrinfo(found);
  return all;
}

}  // namespace weft::rpc
