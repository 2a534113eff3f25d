// Copyright 2026 The weft Authors.

#include "rpc/tls_probe.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "rpc/tcp_socket.h"
#include "rpc/tls.h"

namespace weft::rpc {
namespace {

// Waits up to `wait` for `fd` to be readable.
bool Readable(int fd, absl::Duration wait) {
  pollfd p{fd, POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(
                                 std::max(wait, absl::ZeroDuration()))))) < 0 &&
         errno == EINTR) {
  }
  return n > 0;
}

}  // namespace

std::string DiagnoseTls(const std::string& address, absl::Time deadline) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return "";
  }
  const std::string host = address.substr(0, colon);
  const absl::Time until = std::min(
      std::max(deadline, absl::Now() + absl::Seconds(1)),
      absl::Now() + absl::Seconds(3));
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls = ProcessTls();
  if (!tls.ok()) return absl::StrCat(" (", tls.status().message(), ")");
  absl::StatusOr<int> fd = ConnectTcp(host, port, until);
  if (!fd.ok()) return "";
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{*fd};
  if (*tls == nullptr) {
    // Speak first, as a gRPC client does; a TLS server answers with a TLS
    // alert (0x15) or closes the connection without a word.
    static constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    ::send(*fd, kPreface, sizeof(kPreface) - 1, MSG_NOSIGNAL);
    if (!Readable(*fd, until - absl::Now())) return "";
    unsigned char first = 0;
    const ssize_t n = ::recv(*fd, &first, 1, MSG_DONTWAIT);
    if ((n == 1 && (first == 0x15 || first == 0x16)) || n == 0 ||
        (n < 0 && errno == ECONNRESET)) {
      return absl::StrCat(" (", address,
                          " closed the connection at once: it probably "
                          "requires TLS, and this process has none; set ",
                          kTlsCertEnv, ", ", kTlsKeyEnv, " and ", kTlsCaEnv,
                          ")");
    }
    return "";
  }
  absl::StatusOr<std::unique_ptr<TlsSession>> session =
      (*tls)->NewSession(*fd, /*server=*/false);
  if (!session.ok()) return "";
  if (absl::Status s = (*session)->HandshakeBy(until, address); !s.ok()) {
    return absl::StrCat(" (", absl::StripPrefix(s.message(), "weft: "), ")");
  }
  // In TLS 1.3 the server refuses a client's certificate after the
  // client's handshake is done: its alert is the first thing to read.
  if (!Readable(*fd, std::min(until - absl::Now(), absl::Seconds(1)))) {
    return "";
  }
  char byte;
  const ssize_t n = (*session)->Recv(&byte, 1);
  if (n < 0 && errno != EAGAIN) {
    return absl::StrCat(" (TLS with ", address, " failed: ",
                        (*session)->error(), ")");
  }
  return "";
}

}  // namespace weft::rpc
