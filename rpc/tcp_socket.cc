// Copyright 2026 The weft Authors.

#include "rpc/tcp_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "weft/internal/status_macros.h"

namespace weft::rpc {

std::string ErrnoText(int error) { return std::strerror(error); }

int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left =
      std::min(deadline - absl::Now(), absl::Minutes(1));
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left) + 1);
}

namespace {

// The addresses of host:port, or Unavailable naming them.
absl::StatusOr<addrinfo*> Resolve(const std::string& host, int port,
                                  bool passive) {
  const std::string name = StripBrackets(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = absl::StrCat(port);
  if (int rc = ::getaddrinfo(name.empty() ? nullptr : name.c_str(),
                             service.c_str(), &hints, &found);
      rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        "weft: cannot resolve ", host, ":", port, ": ", ::gai_strerror(rc)));
  }
  return found;
}

}  // namespace

std::string StripBrackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

namespace {

// Resolves `host`:`port` and tries `attempt(fd, address)` on a fresh
// non-blocking socket for each address in turn, until one returns "":
// returns that socket. A failed attempt returns why (its socket is then
// closed). Errors: Unavailable, "weft: cannot `verb` HOST:PORT: WHY" with
// the last failure's reason; a name that does not resolve, as Resolve().
template <class Attempt>
absl::StatusOr<int> OnFirstAddress(const std::string& host, int port,
                                   bool passive, const char* verb,
                                   Attempt attempt) {
  WEFT_ASSIGN_OR_RETURN(addrinfo * found, Resolve(host, port, passive));
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family,
                            a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                            a->ai_protocol);
    if (fd < 0) {
      last_error = ErrnoText(errno);
      continue;
    }
    last_error = attempt(fd, *a);
    if (last_error.empty()) {
      ::freeaddrinfo(found);
      return fd;
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return absl::UnavailableError(absl::StrCat("weft: cannot ", verb, " ", host,
                                             ":", port, ": ", last_error));
}

}  // namespace

absl::StatusOr<int> ConnectTcp(const std::string& host, int port,
                               absl::Time deadline) {
  return OnFirstAddress(
      host, port, /*passive=*/false, "connect to",
      [&](int fd, const addrinfo& a) -> std::string {
        int rc = ::connect(fd, a.ai_addr, a.ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
          pollfd p{fd, POLLOUT, 0};
          while ((rc = ::poll(&p, 1, PollTimeoutMs(deadline))) < 0 &&
                 errno == EINTR) {
          }
          if (rc == 0) return "timed out";
          int error = 0;
          socklen_t len = sizeof(error);
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
          rc = error == 0 ? 0 : -1;
          errno = error;
        }
        return rc == 0 ? "" : ErrnoText(errno);
      });
}

absl::StatusOr<TcpListener> ListenTcp(const std::string& host, int port) {
  WEFT_ASSIGN_OR_RETURN(
      const int fd,
      OnFirstAddress(host, port, /*passive=*/true, "listen on",
                     [](int fd, const addrinfo& a) -> std::string {
                       int one = 1;
                       ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
                                    sizeof(one));
                       if (::bind(fd, a.ai_addr, a.ai_addrlen) != 0 ||
                           ::listen(fd, SOMAXCONN) != 0) {
                         return ErrnoText(errno);
                       }
                       return "";
                     }));
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const int bound_port =
      bound.ss_family == AF_INET6
          ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
          : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return TcpListener{fd, bound_port};
}

}  // namespace weft::rpc
