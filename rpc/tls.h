// Copyright 2026 The weft Authors.
//
// Mutual TLS for every network connection of a cluster: the gRPC channels
// and servers (clients, workers and the scheduler), the frame streams
// (rpc/frame_stream.h) and the bulk transfers (rpc/bulk_transfer.h).
//
// Trust model: one certificate authority per cluster. Every process holds a
// certificate signed by it whose subject alternative names include
// kTlsClusterName ("weft-cluster"); each side of a connection requires the
// other's certificate, checks that it chains to the CA, and (a dialling
// side) that it names kTlsClusterName rather than the dialled host, since a
// cluster's host names are not known when its certificates are made.
// Holding a key signed by the CA is what admits a peer; the token
// (rpc/token.h) is still checked on top.
//
// A process's TLS comes from one place, ProcessTls(): set explicitly by
// ConfigureProcessTls() (the `weft` command's --tls flags) or read once from
// WEFT_TLS_CERT, WEFT_TLS_KEY and WEFT_TLS_CA. ConfigureProcessTls() also
// sets those variables, so the worker processes a LocalCluster, `weft
// cluster start` or a supervisor starts inherit the same settings.
//
//   weft tls init /etc/weft/tls            # MakeTlsDirectory()
//   weft scheduler --tls /etc/weft/tls     # ConfigureProcessTls()
//   WEFT_TLS_CERT=... WEFT_TLS_KEY=... WEFT_TLS_CA=... ./my_client

#ifndef WEFT_RPC_TLS_H_
#define WEFT_RPC_TLS_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/channel_arguments.h"

// OpenSSL's types, without its headers in every file that includes this.
typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace weft::rpc {

// The environment variables a process's TLS files come from.
inline constexpr char kTlsCertEnv[] = "WEFT_TLS_CERT";
inline constexpr char kTlsKeyEnv[] = "WEFT_TLS_KEY";
inline constexpr char kTlsCaEnv[] = "WEFT_TLS_CA";
// The name every certificate of a cluster carries and every peer checks.
inline constexpr char kTlsClusterName[] = "weft-cluster";
// How long the accepting side of a frame or bulk connection waits for the
// TLS handshake before dropping the connection.
inline constexpr absl::Duration kTlsHandshakeTimeout = absl::Seconds(5);

// Paths of a process's certificate (PEM), its private key (PEM) and the
// cluster's CA certificate (PEM). All empty: TLS is off.
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string ca;

  bool empty() const { return cert.empty() && key.empty() && ca.empty(); }
};

// The files `weft tls init DIR` writes for `name` (default
// kTlsClusterName): DIR/<name>.pem, DIR/<name>.key and DIR/ca.pem.
TlsFiles TlsFilesInDirectory(const std::string& dir,
                             const std::string& name = kTlsClusterName);

// The files named by WEFT_TLS_CERT, WEFT_TLS_KEY and WEFT_TLS_CA (all
// empty if none is set). Errors: InvalidArgument if some but not all three
// are set, naming the missing ones.
absl::StatusOr<TlsFiles> TlsFilesFromEnvironment();

// Writes a new certificate authority (DIR/ca.pem, DIR/ca.key) if DIR has
// none, and a certificate and key for `name` signed by it (DIR/<name>.pem,
// DIR/<name>.key; names `name` and kTlsClusterName). Creates DIR (mode
// 0700); keys are written with mode 0600. An existing certificate for
// `name` is left alone. Errors: InvalidArgument (a name with a '/'),
// AlreadyExists (DIR/<name>.pem exists), Internal (OpenSSL failed, a file
// could not be written; naming it).
absl::Status MakeTlsDirectory(const std::string& dir,
                              const std::string& name = kTlsClusterName);

class TlsSession;

// A loaded and checked set of TLS files: what connections are made with.
// Immutable and thread-safe.
class TlsContext {
 public:
  // Reads and checks `files`. Errors: InvalidArgument naming the file and
  // the reason: missing or unreadable, not PEM, the key does not match the
  // certificate, the certificate is not signed by the CA (or has expired),
  // or does not name kTlsClusterName.
  static absl::StatusOr<std::shared_ptr<const TlsContext>> Load(
      const TlsFiles& files);
  ~TlsContext();

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  const TlsFiles& files() const { return files_; }

  // gRPC credentials: a server that requires and verifies a client
  // certificate from the CA, and a channel that presents this process's.
  // (A channel also needs AddTlsChannelArgs().)
  std::shared_ptr<grpc::ServerCredentials> GrpcServerCredentials() const;
  std::shared_ptr<grpc::ChannelCredentials> GrpcChannelCredentials() const;

  // A new TLS session on connected non-blocking socket `fd` (which stays
  // the caller's and must outlive the session), accepting (`server`) or
  // dialling; TLS 1.3, the peer's certificate required and verified.
  // Errors: Internal.
  absl::StatusOr<std::unique_ptr<TlsSession>> NewSession(int fd,
                                                         bool server) const;

 private:
  TlsContext() = default;

  TlsFiles files_;
  std::string cert_pem_;
  std::string key_pem_;
  std::string ca_pem_;
  SSL_CTX* server_ctx_ = nullptr;
  SSL_CTX* client_ctx_ = nullptr;
};

// Sets this process's TLS (empty `files`: off) and WEFT_TLS_* to match,
// replacing whatever the environment said. Connections made afterwards use
// it; those already open keep theirs. Errors: as TlsContext::Load (then
// nothing changes). Thread-safe.
absl::Status ConfigureProcessTls(const TlsFiles& files);

// This process's TLS: null when off. Reads the environment on the first
// call unless ConfigureProcessTls() came first. Errors: as
// TlsFilesFromEnvironment() and TlsContext::Load (kept: every call returns
// the same error until ConfigureProcessTls()). Thread-safe.
absl::StatusOr<std::shared_ptr<const TlsContext>> ProcessTls();

// gRPC credentials of this process: TLS ones if ProcessTls() is on,
// insecure ones if it is off. Errors: as ProcessTls() (a server must not
// fall back to plaintext when its TLS files are broken).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
ProcessServerCredentials();
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
ProcessChannelCredentials();
// Adds what a TLS channel needs (the peer's expected name) if TLS is on.
void AddTlsChannelArgs(grpc::ChannelArguments& args);

// One TLS connection over a non-blocking socket: a handshake, then recv()-
// and send()-like calls. Not thread-safe (callers guard it).
class TlsSession {
 public:
  // Takes ownership of `ssl`, not of `fd` (use TlsContext::NewSession).
  TlsSession(SSL* ssl, int fd) : ssl_(ssl), fd_(fd) {}
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Step { kDone, kWantRead, kWantWrite, kFailed };
  // One non-blocking step of the handshake. kFailed: error() says why.
  Step Handshake();
  // Completes the handshake, waiting with poll() until `deadline` or until
  // `stop_fd` (if >= 0) is readable. Errors: Unavailable naming `peer` and
  // the reason (e.g. the certificate is not from the cluster's CA, the
  // peer does not speak TLS), DeadlineExceeded, Cancelled (stopped).
  absl::Status HandshakeBy(absl::Time deadline, const std::string& peer,
                           int stop_fd = -1);

  // Like recv()/send() on a non-blocking socket: > 0 bytes moved; 0 (Recv
  // only) the peer closed; -1 with errno EAGAIN when the socket would
  // block (wants_write() says in which direction to wait), else errno
  // EIO and error() says why.
  ssize_t Recv(void* data, size_t size);
  ssize_t Send(const void* data, size_t size);
  // Whether the last EAGAIN waits for the socket to be writable (else
  // readable).
  bool wants_write() const { return wants_write_; }
  // Decrypted or undecrypted bytes held here that the socket no longer
  // shows as readable.
  bool HasPending() const;
  // Why the last call failed.
  const std::string& error() const { return error_; }

 private:
  // Sets errno/wants_write_/error_ for SSL_get_error of result `rc`;
  // returns the recv()/send()-like result.
  ssize_t Outcome(int rc);

  SSL* const ssl_;
  const int fd_;
  bool wants_write_ = false;
  std::string error_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_TLS_H_
