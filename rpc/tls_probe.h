// Copyright 2026 The weft Authors.
//
// Why a connection to a weft port failed, as far as TLS goes: gRPC says
// only that nothing answered, and a TLS mismatch looks the same.

#ifndef WEFT_RPC_TLS_PROBE_H_
#define WEFT_RPC_TLS_PROBE_H_

#include <string>

#include "absl/time/time.h"

namespace weft::rpc {

// Connects to `address` ("host:port") once more and looks at the TLS of
// what answers, by `deadline` (and within a few seconds). Returns "" if
// nothing answers or TLS is not the problem, else a parenthesised reason
// with a leading space naming the address, e.g. " (127.0.0.1:7000 requires
// TLS and this process has none: set WEFT_TLS_CERT, ...)" or " (TLS with
// 127.0.0.1:7000 failed: its certificate is not one of this cluster's
// ...)". Thread-safe; blocks the caller.
std::string DiagnoseTls(const std::string& address, absl::Time deadline);

}  // namespace weft::rpc

#endif  // WEFT_RPC_TLS_PROBE_H_
