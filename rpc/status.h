// Copyright 2026 The weft Authors.
//
// The one place where absl::Status and grpc::Status meet, plus the cluster
// token carried by every call.

#ifndef WEFT_RPC_STATUS_H_
#define WEFT_RPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace weft::rpc {

// Metadata key of the cluster token.
inline constexpr char kTokenMetadata[] = "weft-token";

absl::Status FromGrpc(const grpc::Status& status);
grpc::Status ToGrpc(const absl::Status& status);

// OK if the call's metadata carries `token`; UNAUTHENTICATED otherwise.
// Compares in constant time.
grpc::Status CheckToken(const grpc::ServerContext& context,
                        const std::string& token);

// Adds the token to an outgoing call.
void AttachToken(grpc::ClientContext& context, const std::string& token);

// A fresh random token (hex, 256 bits).
std::string NewToken();

// Writes `token` to `path`, readable only by its owner (0600), creating the
// parent directory. Errors: the file system's.
absl::Status WriteTokenFile(const std::string& path, const std::string& token);
// Reads a token file, trimming whitespace. Errors: NotFound, PermissionDenied.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// ~/.weft/token, or $WEFT_HOME/token.
std::string DefaultTokenPath();

// The token a client or worker presents: $WEFT_TOKEN if set, else the file
// at `token_file` (or DefaultTokenPath() when empty). Errors: NotFound with
// a message saying how to provide one.
absl::StatusOr<std::string> ResolveToken(const std::string& token_file);

}  // namespace weft::rpc

#endif  // WEFT_RPC_STATUS_H_
