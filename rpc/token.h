// Copyright 2026 The weft Authors.
//
// The cluster token: a secret the scheduler makes, every worker and client
// presents on every call (the "weft-token" metadata entry, and the key of a
// frame stream's handshake), and the data services of workers check.
//
// Where it lives: the scheduler writes it to a token file (--token-file, or
// the state directory's: ~/.weft/token, $WEFT_HOME/token, inside a SLURM job
// ~/.weft/slurm-JOBID/token; rpc/cluster_files.h) that shares a home
// directory with the workers and programs of the cluster; they read it from
// there, or take it from $WEFT_TOKEN. A scheduler restarted with the same token file keeps
// the token in it, so the workers of its cluster get back in.

#ifndef WEFT_RPC_TOKEN_H_
#define WEFT_RPC_TOKEN_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace weft::rpc {

// Metadata key of the cluster token.
inline constexpr char kTokenMetadata[] = "weft-token";

// OK if the call's metadata carries `token`; UNAUTHENTICATED otherwise,
// saying whether none or a wrong one was presented. Compares in constant
// time.
grpc::Status CheckToken(const grpc::ServerContext& context,
                        const std::string& token);

// Adds the token to an outgoing call.
void AttachToken(grpc::ClientContext& context, const std::string& token);

// A fresh random token (hex, 256 bits).
std::string NewToken();

// Writes `token` to `path`, readable only by its owner (0600), creating
// missing parent directories (0700). The file is replaced atomically
// (written beside it, then renamed), so a reader never sees part of it,
// and never written through a symbolic link. Errors: the file system's, as
// PermissionDenied or Internal.
absl::Status WriteTokenFile(const std::string& path, const std::string& token);

// Reads a token file, trimming whitespace. Errors: NotFound (no file, or
// empty), PermissionDenied.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// DefaultStateDir() + "/token" (rpc/cluster_files.h): $WEFT_HOME/token,
// else ~/.weft/token, inside a SLURM job in its slurm-JOBID/ subdirectory.
// Errors: FailedPrecondition if neither WEFT_HOME nor HOME is set (no guess
// in a shared directory).
absl::StatusOr<std::string> DefaultTokenPath();

// Where a client or worker gets the token from: $WEFT_TOKEN if set when it
// is made, else a token file (the given path, or DefaultTokenPath()). A
// file is read anew by each Read(), so a process that starts before the
// scheduler (or outlives a restarted one with a new token) finds the
// current token. Copyable; thread-safe.
class TokenSource {
 public:
  // `token_file` empty: $WEFT_TOKEN, else the default path.
  static TokenSource FromEnvironmentOr(const std::string& token_file);
  // Exactly `token` (e.g. one a LocalCluster made).
  static TokenSource Literal(std::string token);

  // The token now. Errors: NotFound (no such file yet, or empty: the
  // message says how to provide one), PermissionDenied, FailedPrecondition
  // (no home directory to look in).
  absl::StatusOr<std::string> Read() const;

  // Whether Read() can change between calls (a file), so that a refusal
  // for a wrong token is worth retrying.
  bool from_file() const { return !literal_; }

  // For messages: "$WEFT_TOKEN", the file's path, or "the given token".
  std::string Describe() const;

 private:
  TokenSource() = default;

  bool literal_ = false;
  std::string value_;  // the token (literal_) or the file ("": default)
  bool from_env_ = false;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_TOKEN_H_
