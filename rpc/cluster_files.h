// Copyright 2026 The weft Authors.
//
// The files a cluster shares through the file system: where they live, and
// the scheduler file.
//
// The state directory is $WEFT_HOME, else ~/.weft; inside a SLURM job
// (SLURM_JOB_ID set) it is that directory's slurm-JOBID/, so jobs that share
// a home directory, even two jobs on one node, never share a token or an
// address. It holds the token file (rpc/token.h), the scheduler file and
// `weft cluster`'s state.
//
// The scheduler file holds the address (host:port) at which a scheduler is
// reached; it lives beside the token file. `weft scheduler` writes it once it
// listens (and removes it when it stops); workers and Client::Connect read it
// when they are given no address, so nobody has to know the port in advance.
//
// Thread-safety: the functions are thread-safe (they only touch the file
// system and read the environment).

#ifndef WEFT_RPC_CLUSTER_FILES_H_
#define WEFT_RPC_CLUSTER_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::rpc {

// The state directory (see above); not created. Errors:
// FailedPrecondition if neither WEFT_HOME nor HOME is set (no guess in a
// shared directory).
absl::StatusOr<std::string> DefaultStateDir();

// DefaultStateDir() + "/scheduler". Errors: those of DefaultStateDir().
absl::StatusOr<std::string> DefaultSchedulerFile();

// The scheduler file that goes with a token file: "scheduler" in the same
// directory as `token_file` ("dir/token" -> "dir/scheduler"), or
// DefaultSchedulerFile() if `token_file` is empty. Errors: those of
// DefaultStateDir().
absl::StatusOr<std::string> SchedulerFileBeside(const std::string& token_file);

// Writes `contents` to `path`, readable only by its owner (0600), creating
// missing parent directories (0700). The file is replaced atomically
// (written beside it, then renamed), so a reader never sees part of it,
// and never written through a symbolic link. `what` names the file in
// messages ("token file"). Errors: PermissionDenied or Internal with the
// file system's reason.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& contents,
                                 const std::string& what);

// Reads a small file (at most 4 KiB are read), trimming whitespace.
// Errors: NotFound (no file, or empty), PermissionDenied; the message
// names the file as `what`.
absl::StatusOr<std::string> ReadTrimmedFile(const std::string& path,
                                            const std::string& what);

// Writes `address` (host:port) as the scheduler file at `path`
// (WriteFileAtomically). Errors: as WriteFileAtomically's.
absl::Status WriteSchedulerFile(const std::string& path,
                                const std::string& address);

// The address in the scheduler file at `path`. Errors: NotFound (no file
// yet, or empty), PermissionDenied, InvalidArgument if it does not hold
// one host:port line.
absl::StatusOr<std::string> ReadSchedulerFile(const std::string& path);

// Reads the scheduler file at `path`, waiting until `deadline` for it to
// appear (polling every 50 ms). Errors: DeadlineExceeded naming the file if
// it is still missing then; the other errors of ReadSchedulerFile at once.
absl::StatusOr<std::string> WaitForSchedulerFile(const std::string& path,
                                                 absl::Time deadline);

// The address peers on other machines reach a server at that listens on
// `host`:`port`: `host` itself, or this machine's host name when `host` is
// a wildcard ("0.0.0.0", "::", "[::]" or empty).
std::string ReachableAddress(const std::string& host, int port);

// The IPv4 address of this machine's network interface `name` (e.g.
// "eth0", "ib0"), for a server to listen on. Errors: NotFound naming the
// interfaces that have an IPv4 address if `name` is not one of them.
absl::StatusOr<std::string> InterfaceAddress(const std::string& name);

// Where a server at `address` ("host:port" or "[v6]:port") is, seen from
// this machine, for a worker choosing the address it tells its peers.
struct Whereabouts {
  // It is on this machine (a loopback address or one of this machine's).
  bool here = false;
  // This machine's address on the route to it (what a peer beside it can
  // reach), e.g. "10.0.0.3".
  std::string local_address;
};
// Errors: InvalidArgument for a malformed address; NotFound if its host
// does not resolve; Unavailable if there is no route to it.
absl::StatusOr<Whereabouts> LocateServer(const std::string& address);

// Whether every address `host` (a name or an address) resolves to is a
// loopback one (127.0.0.0/8, ::1), as "localhost" and, on many systems,
// the machine's own name (127.0.1.1) do. False if it does not resolve.
bool IsLoopbackHost(const std::string& host);

}  // namespace weft::rpc

#endif  // WEFT_RPC_CLUSTER_FILES_H_
