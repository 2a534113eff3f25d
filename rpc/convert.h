// Copyright 2026 The weft Authors.
//
// Conversions between core types and their protobuf messages.

#ifndef WEFT_RPC_CONVERT_H_
#define WEFT_RPC_CONVERT_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "rpc/weft.pb.h"
#include "weft/errors.h"
#include "weft/internal/wire.h"

namespace weft::rpc {

void ToProto(const internal::WireArg& arg, Arg& out);
// Errors: InvalidArgument for an Arg with no kind set.
absl::Status FromProto(const Arg& arg, internal::WireArg& out);

void ToProto(const ErrorInfo& info, Error& out);
std::shared_ptr<const ErrorInfo> FromProto(const Error& error);

}  // namespace weft::rpc

#endif  // WEFT_RPC_CONVERT_H_
