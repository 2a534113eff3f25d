// Copyright 2026 The weft Authors.
//
// Conversions between task arguments and their protobuf messages (errors:
// rpc/error_proto.h).

#ifndef WEFT_RPC_CONVERT_H_
#define WEFT_RPC_CONVERT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "rpc/weft.pb.h"
#include "weft/internal/wire.h"

namespace weft::rpc {

void ToProto(const internal::WireArg& arg, Arg& out);
// Errors: InvalidArgument for an Arg with no kind set.
absl::Status FromProto(const Arg& arg, internal::WireArg& out);

// A task's argument as TaskDef.args carries it: a serialized Arg (bytes, so
// that the scheduler passes arguments on without parsing them).
std::string ArgBytes(const internal::WireArg& arg);
// The inverse. Errors: InvalidArgument if `bytes` is not a serialized Arg
// with its kind set.
absl::Status FromArgBytes(std::string_view bytes, internal::WireArg& out);

}  // namespace weft::rpc

#endif  // WEFT_RPC_CONVERT_H_
