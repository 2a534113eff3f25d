// Copyright 2026 The weft Authors.

#include "rpc/bulk_transfer.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rpc/tcp_socket.h"
#include "rpc/tls.h"
#include "weft/internal/status_macros.h"

namespace weft::rpc {
namespace {

// Waits until `fd` is ready for `events`, `stop_fd` (if >= 0) is readable,
// or `deadline` passes. Returns 1 when ready, 0 on the deadline, -1 when
// stopped (or poll failed).
int WaitFor(int fd, short events, int stop_fd, absl::Time deadline) {
  while (true) {
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    const int n = ::poll(fds, stop_fd >= 0 ? 2 : 1, PollTimeoutMs(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (stop_fd >= 0 && (fds[1].revents & POLLIN)) return -1;
    if (fds[0].revents != 0) return 1;
    if (absl::Now() >= deadline) return 0;
  }
}

// Which way to wait after a read or write would block: a TLS session may
// want the other direction.
short WaitEvents(TlsSession* tls, short plain) {
  if (tls == nullptr) return plain;
  return tls->wants_write() ? POLLOUT : POLLIN;
}

// Writes all of `data` to non-blocking `fd` (through `tls` if not null).
// A transfer that makes no progress for `stall` fails. Returns false on an
// error, a stall or a stop.
bool SendAll(int fd, TlsSession* tls, const char* data, size_t size,
             int stop_fd, absl::Duration stall) {
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n =
        tls != nullptr ? tls->Send(data + sent, size - sent)
                       : ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, WaitEvents(tls, POLLOUT), stop_fd,
                  absl::Now() + stall) != 1) {
        return false;
      }
      continue;
    }
    return false;
  }
  return true;
}

// Writes bytes [offset, offset + size) of `file` to non-blocking socket
// `fd` with sendfile: the kernel hands the file's pages to the socket, so
// the bytes are not copied on this side. Stops and stalls as SendAll.
// Returns kUnsupported, having sent nothing, when the kernel cannot send
// from this file (the caller then writes from memory).
enum class FileSend { kDone, kFailed, kUnsupported };
FileSend SendFileAll(int fd, int file, uint64_t offset, size_t size,
                     int stop_fd, absl::Duration stall) {
  off_t at = static_cast<off_t>(offset);
  size_t sent = 0;
  while (sent < size) {
    const ssize_t n = ::sendfile(fd, file, &at, size - sent);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, POLLOUT, stop_fd, absl::Now() + stall) != 1) {
        return FileSend::kFailed;
      }
      continue;
    }
    if (sent == 0 && n < 0 && (errno == EINVAL || errno == ENOSYS)) {
      return FileSend::kUnsupported;
    }
    return FileSend::kFailed;  // an error, or the file ended early
  }
  return FileSend::kDone;
}

// Writes bytes [begin, begin + size) of `bytes` as SendAll does; from a
// sealed shared region (immutable) without TLS, with sendfile instead of
// copying them into the socket. Between two test hosts of one machine
// this took the holder's copy (a fifth of a transfer's CPU) away, and
// on a host with a network card it leaves the holder's cores to tasks.
// Sets *from_file when sendfile carried them.
bool SendBytes(int fd, TlsSession* tls, const Buffer& bytes, uint64_t begin,
               size_t size, int stop_fd, absl::Duration stall,
               bool* from_file) {
  if (tls == nullptr && bytes.region() != nullptr) {
    const FileSend sent =
        SendFileAll(fd, bytes.region()->fd(), begin, size, stop_fd, stall);
    if (sent != FileSend::kUnsupported) {
      *from_file = true;
      return sent == FileSend::kDone;
    }
  }
  *from_file = false;
  return SendAll(fd, tls, bytes.data() + begin, size, stop_fd, stall);
}

// A bulk reader asks to be woken when this many bytes have arrived
// (SO_RCVLOWAT), not at every packet: 12 of 16 alternated bulk_bench runs
// between two test hosts were faster with it (medians 2,314 -> 2,501 and
// 2,438 -> 2,684 MB/s, 100 MB in 4 stripes).
constexpr size_t kBulkRecvLowWater = size_t{1} << 20;

// Reads exactly `size` bytes into `out` from non-blocking `fd` by
// `deadline`. Errors: DeadlineExceeded, DataLoss (the peer closed first),
// Unavailable (a socket error).
absl::Status RecvAll(int fd, TlsSession* tls, char* out, size_t size,
                     absl::Time deadline, const std::string& peer) {
  size_t got = 0;
  int low_water = 1;  // the socket's SO_RCVLOWAT: the kernel's default
  while (got < size) {
    const ssize_t n = tls != nullptr ? tls->Recv(out + got, size - got)
                                     : ::recv(fd, out + got, size - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      return absl::DataLossError(absl::StrCat(
          "weft: ", peer, " closed the bulk transfer after ", got, " of ",
          size, " bytes"));
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::UnavailableError(
          absl::StrCat("weft: reading from ", peer, ": ",
                       tls != nullptr ? tls->error() : ErrnoText(errno)));
    }
    if (tls == nullptr) {
      // Wake when a useful amount has arrived, not at every packet: poll()
      // reports the socket readable once kBulkRecvLowWater bytes (or the
      // rest, at the end) are queued. The kernel grows the receive buffer
      // to hold that much (tcp_set_rcvlowat).
      const int want =
          static_cast<int>(std::min<size_t>(size - got, kBulkRecvLowWater));
      if (want != low_water &&
          ::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want)) == 0) {
        low_water = want;
      }
    }
    if (WaitFor(fd, WaitEvents(tls, POLLIN), -1, deadline) != 1) {
      return absl::DeadlineExceededError(absl::StrCat(
          "weft: bulk transfer from ", peer, " stalled at ", got, " of ",
          size, " bytes"));
    }
  }
  return absl::OkStatus();
}

std::string NewTicket() {
  std::string ticket(kBulkTicketBytes, '\0');
  size_t filled = 0;
  while (filled < ticket.size()) {
    const ssize_t n =
        ::getrandom(ticket.data() + filled, ticket.size() - filled, 0);
    if (n > 0) filled += static_cast<size_t>(n);
  }
  return ticket;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BulkServer>> BulkServer::Start(
    const std::string& host, int port, Options options) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const TlsContext> tls, ProcessTls());
  WEFT_ASSIGN_OR_RETURN(TcpListener listener, ListenTcp(host, port));
  std::unique_ptr<BulkServer> server(new BulkServer(
      listener.fd, listener.port, std::move(options), std::move(tls)));
  if (::pipe2(server->stop_pipe_, O_CLOEXEC) != 0) {
    return absl::InternalError("weft: pipe2 failed");
  }
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

BulkServer::BulkServer(int fd, int port, Options options,
                       std::shared_ptr<const TlsContext> tls)
    : options_(std::move(options)),
      tls_(std::move(tls)),
      listen_fd_(fd),
      port_(port) {}

BulkServer::~BulkServer() {
  {
    internal::MutexLock lock(&mu_);
    stopping_ = true;
  }
  const char stop = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_pipe_[1], &stop, 1);
  if (acceptor_.joinable()) acceptor_.join();
  {
    internal::UniqueLock lock(mu_);
    for (const Waiting& w : waiting_) ::close(w.fd);
    waiting_.clear();
    while (active_ > 0) idle_.wait(lock);
  }
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

std::string BulkServer::Offer(Buffer bytes) {
  std::string ticket = NewTicket();
  const absl::Time now = absl::Now();
  internal::MutexLock lock(&mu_);
  for (auto it = offers_.begin(); it != offers_.end();) {
    if (it->second.expires < now) {
      offers_.erase(it++);
    } else {
      ++it;
    }
  }
  offers_[ticket] = Offered{std::move(bytes), now + options_.ticket_ttl};
  return ticket;
}

size_t BulkServer::pending_offers() const {
  internal::MutexLock lock(&mu_);
  return offers_.size();
}

uint64_t BulkServer::transfers_served() const {
  internal::MutexLock lock(&mu_);
  return served_;
}

uint64_t BulkServer::transfers_served_from_file() const {
  internal::MutexLock lock(&mu_);
  return served_from_file_;
}

int BulkStripesFor(uint64_t size) {
  constexpr uint64_t kStripeBytes = uint64_t{16} << 20;
  return static_cast<int>(std::clamp<uint64_t>(size / kStripeBytes, 1, 4));
}

std::optional<Buffer> BulkServer::Take(std::string_view ticket, int index,
                                       int count) {
  internal::MutexLock lock(&mu_);
  auto it = offers_.find(std::string(ticket));
  if (it == offers_.end()) return std::nullopt;
  Offered& offer = it->second;
  if (offer.expires < absl::Now() || count < 1 || count > kBulkMaxStripes ||
      index < 0 || index >= count ||
      (offer.stripes != 0 && offer.stripes != count) ||
      (offer.served & (uint32_t{1} << index)) != 0) {
    // Expired, malformed or a replay: the offer is spent.
    offers_.erase(it);
    return std::nullopt;
  }
  offer.stripes = count;
  offer.served |= uint32_t{1} << index;
  Buffer bytes = offer.bytes;
  if (offer.served == (uint32_t{1} << count) - 1) offers_.erase(it);
  return bytes;
}

void BulkServer::AcceptLoop() {
  while (true) {
    if (WaitFor(listen_fd_, POLLIN, stop_pipe_[0], absl::InfiniteFuture()) !=
        1) {
      return;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr,
                             SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // the peer left, or no descriptors for now
    internal::MutexLock lock(&mu_);
    if (stopping_) {
      ::close(fd);
    } else if (active_ < options_.max_transfers) {
      ++active_;
      std::thread([this, fd] { ServeConnections(fd); }).detach();
    } else if (waiting_.size() < static_cast<size_t>(options_.max_waiting)) {
      waiting_.push_back(Waiting{fd, absl::Now()});
    } else {
      ::close(fd);  // the requester falls back to the gRPC stream
    }
  }
}

void BulkServer::ServeConnections(int fd) {
  while (fd >= 0) {
    Serve(fd);
    fd = NextWaiting();
  }
}

int BulkServer::NextWaiting() {
  internal::MutexLock lock(&mu_);
  while (!waiting_.empty()) {
    const Waiting next = waiting_.front();
    waiting_.pop_front();
    if (stopping_ || absl::Now() - next.since > options_.slot_wait) {
      ::close(next.fd);  // the requester falls back to the gRPC stream
      continue;
    }
    return next.fd;
  }
  if (--active_ == 0) idle_.notify_all();
  return -1;
}

void BulkServer::Serve(int fd) {
  char ticket[kBulkTicketBytes + 2];  // the ticket, stripe index and count
  size_t got = 0;
  const absl::Time deadline = absl::Now() + options_.ticket_read_timeout;
  bool ok = true;
  // With TLS, nothing is read from a peer before its certificate is
  // verified (within the ticket's time).
  std::unique_ptr<TlsSession> tls;
  if (tls_ != nullptr) {
    absl::StatusOr<std::unique_ptr<TlsSession>> session =
        tls_->NewSession(fd, /*server=*/true);
    ok = session.ok() &&
         (*session)->HandshakeBy(deadline, "a bulk requester", stop_pipe_[0])
             .ok();
    if (ok) tls = *std::move(session);
  }
  while (ok && got < sizeof(ticket)) {
    const ssize_t n =
        tls != nullptr ? tls->Recv(ticket + got, sizeof(ticket) - got)
                       : ::recv(fd, ticket + got, sizeof(ticket) - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, WaitEvents(tls.get(), POLLIN), stop_pipe_[0],
                  deadline) != 1) {
        ok = false;
        break;
      }
    } else {
      ok = false;
      break;
    }
  }
  std::optional<Buffer> bytes;
  const int index = static_cast<uint8_t>(ticket[kBulkTicketBytes]);
  const int count = static_cast<uint8_t>(ticket[kBulkTicketBytes + 1]);
  if (ok) {
    bytes = Take(std::string_view(ticket, kBulkTicketBytes), index, count);
  }
  if (bytes.has_value()) {
    const uint64_t size = bytes->size();
    const uint64_t begin = size * index / count;
    const uint64_t end = size * (index + 1) / count;
    char header[8];
    for (int i = 0; i < 8; ++i) header[i] = static_cast<char>(size >> (8 * i));
    constexpr absl::Duration kStall = absl::Seconds(60);
    bool from_file = false;
    if (SendAll(fd, tls.get(), header, sizeof(header), stop_pipe_[0], kStall) &&
        SendBytes(fd, tls.get(), *bytes, begin, end - begin, stop_pipe_[0],
                  kStall, &from_file)) {
      internal::MutexLock lock(&mu_);
      ++served_;
      if (from_file) ++served_from_file_;
    }
  }
  tls.reset();
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

namespace {

// Reads stripe `index` of `count` of the object under `ticket` (`size`
// bytes in all) from `peer` into `room`, which holds the whole object.
// Errors: as BulkFetch.
absl::Status ReadStripe(const TlsContext* tls, const std::string& host,
                        int port, std::string_view ticket, uint64_t size,
                        int index, int count, char* room,
                        absl::Time deadline) {
  const std::string peer = absl::StrCat(host, ":", port);
  // Connecting must be quick (a firewall that drops the port would
  // otherwise hold the caller until its deadline).
  absl::StatusOr<int> connected =
      ConnectTcp(host, port, std::min(deadline, absl::Now() + absl::Seconds(5)));
  if (!connected.ok()) return connected.status();
  const int fd = *connected;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  // (Declared after the closer: the session goes before the socket.)
  std::unique_ptr<TlsSession> session;
  if (tls != nullptr) {
    WEFT_ASSIGN_OR_RETURN(session, tls->NewSession(fd, /*server=*/false));
    WEFT_RETURN_IF_ERROR(session->HandshakeBy(
        std::min(deadline, absl::Now() + absl::Seconds(5)), peer));
  }
  std::string request(ticket);
  request.push_back(static_cast<char>(index));
  request.push_back(static_cast<char>(count));
  if (!SendAll(fd, session.get(), request.data(), request.size(), -1,
               absl::Seconds(5))) {
    return absl::UnavailableError(
        absl::StrCat("weft: cannot send the ticket to ", peer));
  }
  char header[8];
  if (absl::Status s =
          RecvAll(fd, session.get(), header, sizeof(header), deadline, peer);
      !s.ok()) {
    if (absl::IsDataLoss(s)) {
      return absl::NotFoundError(absl::StrCat(
          "weft: ", peer, " has no bulk transfer for this ticket (expired?)"));
    }
    return s;
  }
  uint64_t announced = 0;
  for (int i = 0; i < 8; ++i) {
    announced |= uint64_t{static_cast<uint8_t>(header[i])} << (8 * i);
  }
  if (announced != size) {
    return absl::DataLossError(absl::StrCat("weft: ", peer, " announced ",
                                            announced, " bytes, expected ",
                                            size));
  }
  const uint64_t begin = size * index / count;
  const uint64_t end = size * (index + 1) / count;
  return RecvAll(fd, session.get(), room + begin, end - begin, deadline,
                 peer);
}

}  // namespace

absl::StatusOr<Buffer> BulkFetch(const std::string& host, int port,
                                 std::string_view ticket, uint64_t size,
                                 absl::Time deadline) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const TlsContext> tls, ProcessTls());
  std::optional<BufferBuilder> room;
  try {
    // Not cleared: every stripe must arrive whole, or the room is dropped.
    room.emplace(BufferBuilder::AllocateForOverwrite(size));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "weft: no memory for ", size, " bytes from ", host, ":", port));
  }
  const int count = BulkStripesFor(size);
  std::vector<absl::Status> done(static_cast<size_t>(count));
  std::vector<std::thread> others;
  others.reserve(static_cast<size_t>(count - 1));
  for (int index = 1; index < count; ++index) {
    others.emplace_back([&, index] {
      done[static_cast<size_t>(index)] =
          ReadStripe(tls.get(), host, port, ticket, size, index, count,
                     room->data(), deadline);
    });
  }
  done[0] = ReadStripe(tls.get(), host, port, ticket, size, 0, count,
                       room->data(), deadline);
  for (std::thread& t : others) t.join();
  for (const absl::Status& s : done) {
    if (!s.ok()) return s;
  }
  return std::move(*room).Finish();
}

}  // namespace weft::rpc
