// Copyright 2026 The weft Authors.

#include "rpc/tls.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "grpcpp/security/credentials.h"
#include "rpc/grpc_log.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {
namespace {

// An owner of an OpenSSL object, freed with `Free`.
template <class T, auto Free>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};
template <class T, auto Free>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter<T, Free>>;
using BioPtr = OpenSslPtr<BIO, BIO_free>;
using X509Ptr = OpenSslPtr<X509, X509_free>;
using PkeyPtr = OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;

// One SSL_read or SSL_write (`io`) of at most INT32_MAX of `size` bytes,
// with OpenSSL's error queue and errno cleared first, so that what follows
// sees only this call's errors. Returns what `io` returned.
template <class Data>
int SslIo(int (*io)(SSL*, Data, int), SSL* ssl, Data data, size_t size) {
  ERR_clear_error();
  errno = 0;
  return io(ssl, data, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
}

// What a TLS connection reads from its socket at once.
constexpr size_t kTlsReadBufferBytes = 256 << 10;

// OpenSSL's queued errors as one line (and the queue cleared).
std::string OpenSslErrors() {
  std::vector<std::string> lines;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    lines.push_back(buf);
  }
  return lines.empty() ? "no detail" : absl::StrJoin(lines, "; ");
}

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     const char* what) {
  if (path.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: TLS: no ", what, " file given"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: TLS: cannot read the ", what, " ", path, ": ",
        std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

BioPtr MemoryBio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// All certificates in PEM `text`. Errors: InvalidArgument naming `path`.
absl::StatusOr<std::vector<X509Ptr>> ParseCerts(const std::string& text,
                                                const std::string& path,
                                                const char* what) {
  BioPtr bio = MemoryBio(text);
  std::vector<X509Ptr> certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(x);
  }
  ERR_clear_error();  // the end of the file reads as an error
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: TLS: the ", what, " ", path,
        " holds no PEM certificate"));
  }
  return certs;
}

// A socket BIO that sends with MSG_NOSIGNAL (OpenSSL's own writes with
// write(), which raises SIGPIPE when the peer has gone) and never blocks.
int SocketWrite(BIO* bio, const char* data, int size) {
  const int fd = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
  BIO_clear_retry_flags(bio);
  ssize_t n;
  do {
    n = ::send(fd, data, static_cast<size_t>(size),
               MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    BIO_set_retry_write(bio);
  }
  return static_cast<int>(n);
}

int SocketRead(BIO* bio, char* data, int size) {
  const int fd = static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(bio)));
  BIO_clear_retry_flags(bio);
  ssize_t n;
  do {
    n = ::recv(fd, data, static_cast<size_t>(size), MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    BIO_set_retry_read(bio);
  }
  return static_cast<int>(n);
}

long SocketCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int SocketCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

const BIO_METHOD* SocketMethod() {
  static const BIO_METHOD* method = [] {
    BIO_METHOD* m =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "weft-socket");
    BIO_meth_set_write(m, SocketWrite);
    BIO_meth_set_read(m, SocketRead);
    BIO_meth_set_ctrl(m, SocketCtrl);
    BIO_meth_set_create(m, SocketCreate);
    return m;
  }();
  return method;
}

// A readable reason for a failed handshake or read: what the peer most
// likely is, then OpenSSL's words.
std::string Explain(SSL* ssl, const std::string& detail) {
  std::string hint;
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    hint = absl::StrCat(
        "its certificate is not one of this cluster's (",
        X509_verify_cert_error_string(verify), ")");
  } else if (absl::StrContains(detail, "wrong version number") ||
             absl::StrContains(detail, "packet length too long") ||
             absl::StrContains(detail, "http request") ||
             absl::StrContains(detail, "record layer failure")) {
    hint = "it does not speak TLS (is it running without TLS?)";
  } else if (absl::StrContains(detail, "certificate required") ||
             absl::StrContains(detail, "peer did not return a certificate")) {
    hint = "a certificate is required and none was presented";
  } else if (absl::StrContains(detail, "unknown ca") ||
             absl::StrContains(detail, "bad certificate") ||
             absl::StrContains(detail, "certificate unknown")) {
    hint = "it does not accept this process's certificate (another CA?)";
  } else if (absl::StrContains(detail, "unexpected eof")) {
    hint =
        "it closed the connection during the TLS handshake (is it running "
        "without TLS, or does it refuse this process's certificate?)";
  }
  if (hint.empty()) return absl::StrCat("TLS: ", detail);
  return absl::StrCat(hint, " [TLS: ", detail, "]");
}

int PollMs(absl::Time deadline) {
  const absl::Duration left =
      std::min(deadline - absl::Now(), absl::Minutes(1));
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left) + 1);
}

// Random serial numbers, as RFC 5280 suggests.
bool SetSerial(X509* x) {
  OpenSslPtr<BIGNUM, BN_free> bn(BN_new());
  return bn != nullptr && BN_rand(bn.get(), 127, BN_RAND_TOP_ANY,
                                  BN_RAND_BOTTOM_ANY) == 1 &&
         BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) != nullptr;
}

bool AddExtension(X509* x, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool added = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return added;
}

// A certificate for `key` named `name`, signed by `issuer_key` (`issuer`
// null: self-signed, a CA).
absl::StatusOr<X509Ptr> MakeCertificate(EVP_PKEY* key, const std::string& name,
                                        X509* issuer, EVP_PKEY* issuer_key,
                                        const std::string& alt_names) {
  X509Ptr x(X509_new());
  const bool is_ca = issuer == nullptr;
  X509* signer = is_ca ? x.get() : issuer;
  constexpr long kTenYears = 10L * 366 * 24 * 3600;
  bool ok = x != nullptr && X509_set_version(x.get(), X509_VERSION_3) == 1 &&
            SetSerial(x.get()) &&
            X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(x.get()), kTenYears) != nullptr &&
            X509_set_pubkey(x.get(), key) == 1 &&
            X509_NAME_add_entry_by_txt(
                X509_get_subject_name(x.get()), "CN", MBSTRING_ASC,
                reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                0) == 1 &&
            X509_set_issuer_name(x.get(), X509_get_subject_name(signer)) == 1;
  if (ok && is_ca) {
    ok = AddExtension(x.get(), signer, NID_basic_constraints,
                      "critical,CA:TRUE") &&
         AddExtension(x.get(), signer, NID_key_usage,
                      "critical,keyCertSign,cRLSign") &&
         AddExtension(x.get(), signer, NID_subject_key_identifier, "hash");
  } else if (ok) {
    ok = AddExtension(x.get(), signer, NID_basic_constraints,
                      "critical,CA:FALSE") &&
         AddExtension(x.get(), signer, NID_key_usage,
                      "critical,digitalSignature,keyEncipherment") &&
         AddExtension(x.get(), signer, NID_ext_key_usage,
                      "serverAuth,clientAuth") &&
         AddExtension(x.get(), signer, NID_subject_alt_name,
                      alt_names.c_str()) &&
         AddExtension(x.get(), signer, NID_authority_key_identifier,
                      "keyid:always");
  }
  if (ok) ok = X509_sign(x.get(), issuer_key, EVP_sha256()) > 0;
  if (!ok) {
    return absl::InternalError(absl::StrCat(
        "weft: TLS: cannot make a certificate for ", name, ": ",
        OpenSslErrors()));
  }
  return x;
}

// Writes `text` to a new file `path` with `mode`. Errors: Internal naming
// it (AlreadyExists if it exists).
absl::Status WriteNewFile(const std::string& path, const std::string& text,
                          mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        mode);
  if (fd < 0) {
    const std::string why = std::strerror(errno);
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("weft: TLS: ", path, " exists already"));
    }
    return absl::InternalError(
        absl::StrCat("weft: TLS: cannot write ", path, ": ", why));
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return absl::InternalError(
          absl::StrCat("weft: TLS: cannot write ", path, ": ", why));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return absl::OkStatus();
}

std::string CertPem(X509* x) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                           nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

TlsFiles TlsFilesInDirectory(const std::string& dir, const std::string& name) {
  return TlsFiles{absl::StrCat(dir, "/", name, ".pem"),
                  absl::StrCat(dir, "/", name, ".key"),
                  absl::StrCat(dir, "/ca.pem")};
}

absl::StatusOr<TlsFiles> TlsFilesFromEnvironment() {
  TlsFiles files;
  std::vector<std::string> missing;
  const auto get = [&](const char* name, std::string& out) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') {
      out = value;
    } else {
      missing.push_back(name);
    }
  };
  get(kTlsCertEnv, files.cert);
  get(kTlsKeyEnv, files.key);
  get(kTlsCaEnv, files.ca);
  if (!missing.empty() && missing.size() < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: TLS needs ", kTlsCertEnv, ", ", kTlsKeyEnv, " and ", kTlsCaEnv,
        " together; ", absl::StrJoin(missing, " and "), " not set"));
  }
  return files;
}

absl::Status MakeTlsDirectory(const std::string& dir,
                              const std::string& name) {
  if (name.empty() || name == "ca" ||
      name.find_first_of("/ ,") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: TLS: \"", name,
        "\" cannot name a certificate (no '/', ',' or space, not \"ca\")"));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat(
        "weft: TLS: cannot create ", dir, ": ", std::strerror(errno)));
  }
  const TlsFiles files = TlsFilesInDirectory(dir, name);
  if (::access(files.cert.c_str(), F_OK) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("weft: TLS: ", files.cert, " exists already"));
  }
  const std::string ca_key_path = absl::StrCat(dir, "/ca.key");
  PkeyPtr ca_key;
  X509Ptr ca;
  if (::access(files.ca.c_str(), F_OK) == 0) {
    absl::StatusOr<std::string> ca_text = ReadFile(files.ca, "CA certificate");
    if (!ca_text.ok()) return ca_text.status();
    absl::StatusOr<std::string> key_text = ReadFile(ca_key_path, "CA key");
    if (!key_text.ok()) return key_text.status();
    absl::StatusOr<std::vector<X509Ptr>> certs =
        ParseCerts(*ca_text, files.ca, "CA certificate");
    if (!certs.ok()) return certs.status();
    ca = std::move(certs->front());
    BioPtr bio = MemoryBio(*key_text);
    ca_key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (ca_key == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weft: TLS: the CA key ", ca_key_path, " is not a PEM private key: ",
          OpenSslErrors()));
    }
  } else {
    ca_key.reset(EVP_EC_gen("P-256"));
    if (ca_key == nullptr) {
      return absl::InternalError(
          absl::StrCat("weft: TLS: cannot make a key: ", OpenSslErrors()));
    }
    absl::StatusOr<X509Ptr> made = MakeCertificate(
        ca_key.get(), "weft cluster CA", nullptr, ca_key.get(), "");
    if (!made.ok()) return made.status();
    ca = *std::move(made);
    if (absl::Status s = WriteNewFile(ca_key_path, KeyPem(ca_key.get()), 0600);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = WriteNewFile(files.ca, CertPem(ca.get()), 0644);
        !s.ok()) {
      return s;
    }
  }
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) {
    return absl::InternalError(
        absl::StrCat("weft: TLS: cannot make a key: ", OpenSslErrors()));
  }
  const std::string alt_names =
      name == kTlsClusterName
          ? absl::StrCat("DNS:", kTlsClusterName)
          : absl::StrCat("DNS:", name, ",DNS:", kTlsClusterName);
  absl::StatusOr<X509Ptr> cert =
      MakeCertificate(key.get(), name, ca.get(), ca_key.get(), alt_names);
  if (!cert.ok()) return cert.status();
  if (absl::Status s = WriteNewFile(files.key, KeyPem(key.get()), 0600);
      !s.ok()) {
    return s;
  }
  return WriteNewFile(files.cert, CertPem(cert->get()), 0644);
}

// TlsContext ------------------------------------------------------------------

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::Load(
    const TlsFiles& files) {
  std::shared_ptr<TlsContext> context(new TlsContext());
  context->files_ = files;
  {
    absl::StatusOr<std::string> text = ReadFile(files.cert, "certificate");
    if (!text.ok()) return text.status();
    context->cert_pem_ = *std::move(text);
    text = ReadFile(files.key, "key");
    if (!text.ok()) return text.status();
    context->key_pem_ = *std::move(text);
    text = ReadFile(files.ca, "CA certificate");
    if (!text.ok()) return text.status();
    context->ca_pem_ = *std::move(text);
  }
  absl::StatusOr<std::vector<X509Ptr>> chain =
      ParseCerts(context->cert_pem_, files.cert, "certificate");
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::vector<X509Ptr>> cas =
      ParseCerts(context->ca_pem_, files.ca, "CA certificate");
  if (!cas.ok()) return cas.status();
  X509* cert = chain->front().get();
  PkeyPtr key;
  {
    BioPtr bio = MemoryBio(context->key_pem_);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: TLS: the key ", files.key,
                     " is not a PEM private key: ", OpenSslErrors()));
  }
  if (X509_check_private_key(cert, key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("weft: TLS: the key ", files.key,
                     " does not match the certificate ", files.cert));
  }
  OpenSslPtr<X509_STORE, X509_STORE_free> store(X509_STORE_new());
  for (const X509Ptr& ca : *cas) X509_STORE_add_cert(store.get(), ca.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < chain->size(); ++i) {
    sk_X509_push(untrusted, (*chain)[i].get());
  }
  OpenSslPtr<X509_STORE_CTX, X509_STORE_CTX_free> verify(X509_STORE_CTX_new());
  X509_STORE_CTX_init(verify.get(), store.get(), cert, untrusted);
  const bool verified = X509_verify_cert(verify.get()) == 1;
  const int verify_error = X509_STORE_CTX_get_error(verify.get());
  sk_X509_free(untrusted);
  if (!verified) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: TLS: the certificate ", files.cert,
        " is not signed by the CA ", files.ca, ": ",
        X509_verify_cert_error_string(verify_error)));
  }
  if (X509_check_host(cert, kTlsClusterName, 0, 0, nullptr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weft: TLS: the certificate ", files.cert, " does not name ",
        kTlsClusterName, " (make certificates with `weft tls init`)"));
  }
  // The OpenSSL contexts of the frame and bulk connections.
  for (const bool server : {true, false}) {
    SSL_CTX* ctx =
        SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == nullptr) {
      return absl::InternalError(
          absl::StrCat("weft: TLS: SSL_CTX_new: ", OpenSslErrors()));
    }
    (server ? context->server_ctx_ : context->client_ctx_) = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    // A peer that closes without close_notify has ended the stream (weft's
    // frames and bulk transfers carry their own lengths).
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (server) SSL_CTX_set_num_tickets(ctx, 0);
    // Whole socket buffers per read, not a record header and then its
    // body: half the system calls, and bulk transfers at several times the
    // speed.
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, kTlsReadBufferBytes);
    bool ok = SSL_CTX_use_certificate(ctx, cert) == 1 &&
              SSL_CTX_use_PrivateKey(ctx, key.get()) == 1;
    for (size_t i = 1; ok && i < chain->size(); ++i) {
      ok = SSL_CTX_add1_chain_cert(ctx, (*chain)[i].get()) == 1;
    }
    X509_STORE* trusted = SSL_CTX_get_cert_store(ctx);
    for (const X509Ptr& ca : *cas) {
      ok = ok && X509_STORE_add_cert(trusted, ca.get()) == 1;
    }
    ok = ok && X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx),
                                           kTlsClusterName, 0) == 1;
    if (!ok) {
      return absl::InternalError(absl::StrCat(
          "weft: TLS: cannot set up with ", files.cert, ": ",
          OpenSslErrors()));
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       nullptr);
  }
  return std::shared_ptr<const TlsContext>(std::move(context));
}

TlsContext::~TlsContext() {
  SSL_CTX_free(server_ctx_);
  SSL_CTX_free(client_ctx_);
}

std::shared_ptr<grpc::ServerCredentials> TlsContext::GrpcServerCredentials()
    const {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = ca_pem_;
  options.pem_key_cert_pairs.push_back({key_pem_, cert_pem_});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> TlsContext::GrpcChannelCredentials()
    const {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ca_pem_;
  options.pem_private_key = key_pem_;
  options.pem_cert_chain = cert_pem_;
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::unique_ptr<TlsSession>> TlsContext::NewSession(
    int fd, bool server) const {
  SSL* ssl = SSL_new(server ? server_ctx_ : client_ctx_);
  BIO* bio = ssl == nullptr ? nullptr : BIO_new(SocketMethod());
  if (bio == nullptr) {
    SSL_free(ssl);
    return absl::InternalError(
        absl::StrCat("weft: TLS: SSL_new: ", OpenSslErrors()));
  }
  // Records are smaller than a loopback segment: with Nagle's algorithm a
  // record would wait for the ACK of the one before (a delayed ACK, up to
  // 40 ms), and a bulk transfer crawl.
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  SSL_set_bio(ssl, bio, bio);
  if (server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
  return std::make_unique<TlsSession>(ssl, fd);
}

// The process's TLS ----------------------------------------------------------

namespace {

struct ProcessTlsState {
  internal::Mutex mu;
  bool loaded ABSL_GUARDED_BY(mu) = false;
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls ABSL_GUARDED_BY(mu);
};

ProcessTlsState& State() {
  static ProcessTlsState* state = new ProcessTlsState();
  return *state;
}

}  // namespace

absl::Status ConfigureProcessTls(const TlsFiles& files) {
  std::shared_ptr<const TlsContext> tls;
  if (!files.empty()) {
    absl::StatusOr<std::shared_ptr<const TlsContext>> loaded =
        TlsContext::Load(files);
    if (!loaded.ok()) return loaded.status();
    tls = *std::move(loaded);
  }
  ProcessTlsState& state = State();
  internal::MutexLock lock(&state.mu);
  if (files.empty()) {
    ::unsetenv(kTlsCertEnv);
    ::unsetenv(kTlsKeyEnv);
    ::unsetenv(kTlsCaEnv);
  } else {
    ::setenv(kTlsCertEnv, files.cert.c_str(), 1);
    ::setenv(kTlsKeyEnv, files.key.c_str(), 1);
    ::setenv(kTlsCaEnv, files.ca.c_str(), 1);
  }
  state.tls = std::move(tls);
  state.loaded = true;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const TlsContext>> ProcessTls() {
  ProcessTlsState& state = State();
  internal::MutexLock lock(&state.mu);
  if (!state.loaded) {
    state.loaded = true;
    absl::StatusOr<TlsFiles> files = TlsFilesFromEnvironment();
    if (!files.ok()) {
      state.tls = files.status();
    } else if (files->empty()) {
      state.tls = std::shared_ptr<const TlsContext>();
    } else {
      state.tls = TlsContext::Load(*files);
    }
  }
  return state.tls;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
ProcessServerCredentials() {
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls = ProcessTls();
  if (!tls.ok()) return tls.status();
  if (*tls == nullptr) return grpc::InsecureServerCredentials();
  RouteGrpcLogs();  // each refused handshake would be a line of gRPC's
  return (*tls)->GrpcServerCredentials();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
ProcessChannelCredentials() {
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls = ProcessTls();
  if (!tls.ok()) return tls.status();
  if (*tls == nullptr) return grpc::InsecureChannelCredentials();
  RouteGrpcLogs();
  return (*tls)->GrpcChannelCredentials();
}

void AddTlsChannelArgs(grpc::ChannelArguments& args) {
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls = ProcessTls();
  if (tls.ok() && *tls != nullptr) {
    args.SetSslTargetNameOverride(kTlsClusterName);
  }
}

// TlsSession -----------------------------------------------------------------

TlsSession::~TlsSession() { SSL_free(ssl_); }

ssize_t TlsSession::Outcome(int rc) {
  const int error = SSL_get_error(ssl_, rc);
  wants_write_ = false;
  switch (error) {
    case SSL_ERROR_WANT_READ:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      wants_write_ = true;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;  // the peer's close_notify
    case SSL_ERROR_SYSCALL: {
      const int system_error = errno;
      std::string detail = OpenSslErrors();
      if (detail == "no detail") {
        detail = system_error == 0 ? "unexpected eof"
                                   : std::strerror(system_error);
      }
      error_ = Explain(ssl_, detail);
      errno = EIO;
      return -1;
    }
    default:
      error_ = Explain(ssl_, OpenSslErrors());
      errno = EIO;
      return -1;
  }
}

TlsSession::Step TlsSession::Handshake() {
  ERR_clear_error();
  errno = 0;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) return Step::kDone;
  if (Outcome(rc) < 0 && errno == EAGAIN) {
    return wants_write_ ? Step::kWantWrite : Step::kWantRead;
  }
  if (error_.empty()) error_ = Explain(ssl_, "unexpected eof");
  return Step::kFailed;
}

absl::Status TlsSession::HandshakeBy(absl::Time deadline,
                                     const std::string& peer, int stop_fd) {
  while (true) {
    const Step step = Handshake();
    if (step == Step::kDone) return absl::OkStatus();
    if (step == Step::kFailed) {
      return absl::UnavailableError(absl::StrCat(
          "weft: TLS with ", peer, " failed: ", error_));
    }
    pollfd fds[2] = {{fd_, static_cast<short>(step == Step::kWantWrite
                                                 ? POLLOUT
                                                 : POLLIN),
                      0},
                     {stop_fd, POLLIN, 0}};
    const int n = ::poll(fds, stop_fd >= 0 ? 2 : 1, PollMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (stop_fd >= 0 && (fds[1].revents & POLLIN)) {
      return absl::CancelledError("weft: TLS handshake stopped");
    }
    if (n == 0 && absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "weft: TLS with ", peer,
          " failed: no handshake in time (is it running without TLS?)"));
    }
  }
}

ssize_t TlsSession::Recv(void* data, size_t size) {
  const int rc = SslIo(SSL_read, ssl_, data, size);
  return rc > 0 ? rc : Outcome(rc);
}

ssize_t TlsSession::Send(const void* data, size_t size) {
  const int rc = SslIo(SSL_write, ssl_, data, size);
  return rc > 0 ? rc : Outcome(rc);
}

bool TlsSession::HasPending() const { return SSL_has_pending(ssl_) == 1; }

}  // namespace weft::rpc
