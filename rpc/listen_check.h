// Copyright 2026 The weft Authors.
//
// CheckCanListen: says in plain words why a server could not listen on an
// address, before gRPC tries (gRPC only logs that "no address was added").

#ifndef WEFT_RPC_LISTEN_CHECK_H_
#define WEFT_RPC_LISTEN_CHECK_H_

#include <string>

#include "absl/status/status.h"

namespace weft::rpc {

// OK if a TCP listener could bind `host`:`port` now (port 0: any free port,
// which only checks the host). Errors, each naming the address and the
// system's reason: FailedPrecondition if the port is in use (another
// scheduler or worker listening there), InvalidArgument if `host` does not
// resolve or is not an address of this machine, Unavailable otherwise.
// Only a check: another process may take the port between this call and
// the real bind.
absl::Status CheckCanListen(const std::string& host, int port);

}  // namespace weft::rpc

#endif  // WEFT_RPC_LISTEN_CHECK_H_
