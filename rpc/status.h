// Copyright 2026 The weft Authors.
//
// The one place where absl::Status and grpc::Status meet. (The cluster
// token is in rpc/token.h.)

#ifndef WEFT_RPC_STATUS_H_
#define WEFT_RPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"

namespace weft::rpc {

// The same code and message, in the other library's type.
absl::Status FromGrpc(const grpc::Status& status);
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace weft::rpc

#endif  // WEFT_RPC_STATUS_H_
