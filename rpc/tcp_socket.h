// Copyright 2026 The weft Authors.
//
// Plain TCP sockets for weft's own ports (the frame port, the bulk port):
// resolving a host, connecting with a deadline, listening. One copy of the
// getaddrinfo loops and their error messages.

#ifndef WEFT_RPC_TCP_SOCKET_H_
#define WEFT_RPC_TCP_SOCKET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::rpc {

// Connects to host:port (a name, an IPv4 address or a bracketed IPv6 one),
// trying each resolved address until `deadline`. Returns a non-blocking,
// close-on-exec socket the caller owns. Errors: Unavailable, naming
// host:port ("cannot resolve ...", "cannot connect to ...: timed out" or the
// system's reason). Thread-safe.
absl::StatusOr<int> ConnectTcp(const std::string& host, int port,
                               absl::Time deadline);

// A listening socket and the port it got (`port` 0 asks for any free one).
struct TcpListener {
  int fd = -1;  // owned by the caller
  int port = 0;
};

// Listens on host:port (empty host: every address) with SO_REUSEADDR and
// the system's backlog; the socket is non-blocking and close-on-exec.
// Errors: Unavailable, naming host:port ("cannot resolve ...", "cannot
// listen on ...: <reason>", e.g. the port is in use). Thread-safe.
absl::StatusOr<TcpListener> ListenTcp(const std::string& host, int port);

// strerror(error) as a string, for messages naming a socket's failure.
// Thread-safe.
std::string ErrnoText(int error);

// poll()'s timeout for waiting until `deadline`, in milliseconds: at least
// 0 and at most a minute (poll takes an int; an infinite deadline is one
// such wait after another), rounded up so a wait never ends early.
int PollTimeoutMs(absl::Time deadline);

// `host` without the brackets of an IPv6 literal ("[::1]" -> "::1").
std::string StripBrackets(const std::string& host);

}  // namespace weft::rpc

#endif  // WEFT_RPC_TCP_SOCKET_H_
