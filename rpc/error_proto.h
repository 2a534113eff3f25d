// Copyright 2026 The weft Authors.
//
// The one conversion between weft::ErrorInfo (core/weft/errors.h) and its
// wire form, rpc::Error (rpc/weft.proto). Clients, the scheduler and the
// workers all convert errors here, so that an error kind reads the same in
// every process.

#ifndef WEFT_RPC_ERROR_PROTO_H_
#define WEFT_RPC_ERROR_PROTO_H_

#include "rpc/weft.pb.h"
#include "weft/errors.h"

namespace weft::rpc {

// Fills `out` with every field of `info`. Thread-safe.
void ToProto(const ErrorInfo& info, Error& out);

// Returns the ErrorInfo `error` carries. An error kind this build does not
// know (a newer build's) reads as ErrorKind::kTaskFailed: the task did not
// produce its value, and the message says why. Thread-safe.
ErrorInfo FromProto(const Error& error);

}  // namespace weft::rpc

#endif  // WEFT_RPC_ERROR_PROTO_H_
