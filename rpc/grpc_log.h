// Copyright 2026 The weft Authors.
//
// gRPC's own log lines, through weft. gRPC writes an error line for every
// TLS handshake that fails ("Handshake failed with fatal error ..."): one
// per refused connection, which a stranger on a TLS port (or a plaintext
// client of it) can repeat as fast as it connects. Routed here, those lines
// are rate-limited like weft's other lines about peers
// (rpc/rate_limited_log.h); gRPC's other lines are written as before.

#ifndef WEFT_RPC_GRPC_LOG_H_
#define WEFT_RPC_GRPC_LOG_H_

namespace weft::rpc {

// Routes this process's gRPC log lines (those at gRPC's verbosity,
// GRPC_VERBOSITY: errors by default) through weft from now on. Lines about
// failed TLS handshakes go through a RateLimitedLog ("weft: gRPC: ...", at
// most 10 per 10 s, then a count of those left out); the others to stderr
// as "gRPC E file:line] message". Idempotent; thread-safe. Called when a
// TLS endpoint is made (rpc/tls.h).
void RouteGrpcLogs();

}  // namespace weft::rpc

#endif  // WEFT_RPC_GRPC_LOG_H_
