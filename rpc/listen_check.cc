// Copyright 2026 The weft Authors.

#include "rpc/listen_check.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace weft::rpc {

absl::Status CheckCanListen(const std::string& host, int port) {
  const std::string where = absl::StrCat(host, ":", port);
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                                   service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: cannot listen on ", where, ": host '", host,
                     "' does not resolve (", ::gai_strerror(rc), ")"));
  }
  int error = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
                            a->ai_protocol);
    if (fd < 0) {
      error = errno;
      continue;
    }
    // As the real listener will: reuse an address in TIME_WAIT, but never
    // share a port another socket listens on.
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const bool bound = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    error = bound ? 0 : errno;
    ::close(fd);
    if (bound) break;
  }
  ::freeaddrinfo(found);
  if (error == 0) return absl::OkStatus();
  const std::string reason = std::strerror(error);
  if (error == EADDRINUSE) {
    return absl::FailedPreconditionError(absl::StrCat(
        "weft: cannot listen on ", where, ": ", reason,
        " (is another scheduler or worker running there? choose another "
        "--port, or 0 for any free one)"));
  }
  if (error == EADDRNOTAVAIL) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: cannot listen on ", where, ": ", reason, " ('", host,
        "' is not an address of this machine; see `ip addr`)"));
  }
  return absl::UnavailableError(
      absl::StrCat("weft: cannot listen on ", where, ": ", reason));
}

}  // namespace weft::rpc
