// Copyright 2026 The weft Authors.

#include "rpc/frame_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/bind_executor.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/posix/stream_descriptor.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "rpc/tcp_socket.h"
#include "rpc/weft.pb.h"
#include "weft/internal/status_macros.h"

namespace weft::rpc {
namespace {

using internal::MutexLock;

// Queued bytes beyond this mean the peer has stopped reading.
constexpr size_t kMaxQueuedBytes = size_t{1} << 30;
// Frames handed to a handler at once (one lock of the scheduler's for
// many messages that have already arrived).
constexpr size_t kMaxFramesPerBatch = 64;
// Bytes read in one go before the frames in them are handled.
constexpr size_t kMaxReadPerTurn = size_t{4} << 20;

// Returns `n`, what a non-blocking recv() or send() returned. When it
// failed, `error` names the failure unless the call would only have blocked
// or was interrupted; errno is kept for the caller.
ssize_t SocketResult(ssize_t n, std::string& error) {
  if (n >= 0) return n;
  const int e = errno;
  if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR) error = ErrnoText(e);
  errno = e;
  return n;
}

std::string PeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "?";
  }
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return absl::StrCat("[", host, "]:", ntohs(in6->sin6_port));
  }
  return "local";
}

void SetNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

// The socket as the event loop sees it. Every wait on it is started and
// completed in `strand`, so the descriptor (not thread-safe) is used by one
// thread at a time, and a stream's handlers never run concurrently.
struct FrameStream::Io {
  Io(EventLoop& loop, int fd)
      : descriptor(loop.context(), fd),
        strand(boost::asio::make_strand(loop.context())) {}
  // The stream closes the descriptor itself.
  ~Io() { descriptor.release(); }

  boost::asio::posix::stream_descriptor descriptor;
  boost::asio::strand<boost::asio::io_context::executor_type> strand;
};

std::shared_ptr<FrameStream> FrameStream::Make(
    int fd, EventLoop& loop, size_t max_frame_bytes,
    std::unique_ptr<TlsSession> tls) {
  return std::shared_ptr<FrameStream>(
      new FrameStream(fd, loop, max_frame_bytes, std::move(tls)));
}

FrameStream::FrameStream(int fd, EventLoop& loop, size_t max_frame_bytes,
                         std::unique_ptr<TlsSession> tls)
    : fd_(fd),
      max_frame_bytes_(max_frame_bytes),
      peer_(PeerName(fd)),
      io_(std::make_unique<Io>(loop, fd)),
      tls_(std::move(tls)),
      read_limit_(max_frame_bytes) {
  SetNoDelay(fd_);
}

ssize_t FrameStream::RecvSome(char* data, size_t size, std::string& error) {
  if (tls_ == nullptr) {
    return SocketResult(::recv(fd_, data, size, MSG_DONTWAIT), error);
  }
  MutexLock lock(&tls_mu_);
  return TlsResult(tls_->Recv(data, size), error);
}

ssize_t FrameStream::SendSome(const char* data, size_t size,
                              std::string& error) {
  if (tls_ == nullptr) {
    return SocketResult(::send(fd_, data, size, MSG_DONTWAIT | MSG_NOSIGNAL),
                        error);
  }
  MutexLock lock(&tls_mu_);
  return TlsResult(tls_->Send(data, size), error);
}

ssize_t FrameStream::TlsResult(ssize_t n, std::string& error) {
  if (n < 0 && errno != EAGAIN) error = tls_->error();
  return n;
}

bool FrameStream::TlsPending() {
  if (tls_ == nullptr) return false;
  MutexLock lock(&tls_mu_);
  return tls_->HasPending();
}

FrameStream::~FrameStream() {
  // Leave the loop's epoll set while fd_ is still open. Once it is closed,
  // its number may at once name another thread's new socket, and a late
  // removal by that number would remove the new socket's registration: its
  // stream would never hear of its bytes (a hang).
  io_.reset();
  ::close(fd_);
}

bool FrameStream::Send(const google::protobuf::MessageLite& message) {
  const size_t size = message.ByteSizeLong();
  MutexLock lock(&mu_);
  if (!status_.ok()) return false;
  if (size > max_frame_bytes_) {
    FailLocked(absl::ResourceExhaustedError(absl::StrCat(
        "weft: a message of ", size, " bytes exceeds the frame limit of ",
        max_frame_bytes_, " bytes")));
    return false;
  }
  if (out_.size() - out_sent_ + size > kMaxQueuedBytes) {
    FailLocked(absl::ResourceExhaustedError(absl::StrCat(
        "weft: ", peer_, " stopped reading (", out_.size() - out_sent_,
        " bytes queued)")));
    return false;
  }
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  }
  AppendFrame(message, size, out_);
  if (!flushing_ && !WriteQueuedLocked() && status_.ok()) {
    flushing_ = true;  // the loop writes the rest as the peer reads
    FlushOnLoop();
  }
  return status_.ok();
}

bool FrameStream::WriteQueuedLocked() {
  std::string error;
  while (out_sent_ < out_.size()) {
    const ssize_t n =
        SendSome(out_.data() + out_sent_, out_.size() - out_sent_, error);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return false;
    } else {
      FailLocked(absl::UnavailableError(
          absl::StrCat("weft: writing to ", peer_, ": ", error)));
      return false;
    }
  }
  // Everything went: let a large buffer's memory go.
  if (out_.capacity() > (size_t{1} << 20)) std::string().swap(out_);
  out_.clear();
  out_sent_ = 0;
  return true;
}

void FrameStream::FlushOnLoop() {
  boost::asio::post(io_->strand, [self = shared_from_this()] {
    self->io_->descriptor.async_wait(
        boost::asio::posix::stream_descriptor::wait_write,
        boost::asio::bind_executor(
            self->io_->strand, [self](const boost::system::error_code&) {
              MutexLock lock(&self->mu_);
              // While flushing_ is set Send() only queues, so the order
              // holds.
              if (self->shut_down_ || !self->status_.ok() ||
                  self->WriteQueuedLocked()) {
                self->flushing_ = false;
                self->cv_.notify_all();  // Shutdown() may be draining
              } else {
                self->FlushOnLoop();
              }
            }));
  });
}

void FrameStream::FailLocked(absl::Status status) {
  if (status_.ok()) {
    status_ = std::move(status);
    // A stream that dropped a message must not carry on as if it had not:
    // the reader and the peer see the end, and the peer is dropped.
    ::shutdown(fd_, SHUT_RDWR);
  }
  cv_.notify_all();
}

void FrameStream::Fail(absl::Status status) {
  MutexLock lock(&mu_);
  FailLocked(std::move(status));
}

void FrameStream::Shutdown(absl::Duration drain) {
  internal::UniqueLock lock(mu_);
  if (shut_down_) return;
  const absl::Time until = absl::Now() + drain;
  while (status_.ok() && out_sent_ < out_.size() && absl::Now() < until) {
    cv_.wait_for(lock, absl::ToChronoMicroseconds(until - absl::Now()));
  }
  shut_down_ = true;
  FailLocked(absl::CancelledError(
      absl::StrCat("weft: the stream to ", peer_, " was shut down")));
  ::shutdown(fd_, SHUT_RDWR);  // wakes a reader, blocked or on the loop
}

absl::Status FrameStream::status() const {
  MutexLock lock(&mu_);
  return status_;
}

size_t FrameStream::UnreadBytes() const {
  int pending = 0;
  if (::ioctl(fd_, FIONREAD, &pending) != 0) pending = 0;
  return static_cast<size_t>(std::max(pending, 0)) + buffered_.load();
}

bool FrameStream::Fill(absl::Time deadline) {
  size_t got = 0;
  std::string error;
  while (got < kMaxReadPerTurn) {
    if (got == 0 && deadline != absl::InfinitePast() && !TlsPending()) {
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, PollTimeoutMs(deadline));
      if (ready == 0 && absl::Now() >= deadline) {
        return false;  // the stream stays usable
      }
      if (ready == 0) continue;  // a wait of at most a minute ended
      if (ready < 0 && errno == EINTR) continue;
    }
    absl::Span<char> room = in_.Room();
    const ssize_t n = RecvSome(room.data(), room.size(), error);
    if (n > 0) {
      in_.Commit(static_cast<size_t>(n));
      got += static_cast<size_t>(n);
      // A plain socket that gave less than the room had no more: asking
      // again would only get EAGAIN, a system call per message. (Whatever
      // arrives meanwhile is not missed: the loop's wait re-arms the
      // descriptor, which checks readiness, and a blocking read polls.)
      // A TLS session's short read is a record's end, not the socket's.
      if (tls_ == nullptr && static_cast<size_t>(n) < room.size()) {
        return true;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (got > 0 || deadline == absl::InfinitePast()) return got > 0;
      continue;  // a spurious wake-up: poll again
    }
    if (n == 0) {
      if (status().ok()) closed_by_peer_ = true;
      Fail(absl::UnavailableError(
          absl::StrCat("weft: the stream was closed by the peer ", peer_)));
    } else {
      Fail(absl::UnavailableError(
          absl::StrCat("weft: reading from ", peer_, ": ", error)));
    }
    // What arrived before the end is still read.
    return got > 0;
  }
  return true;
}

bool FrameStream::Read(google::protobuf::MessageLite& message,
                       absl::Time deadline) {
  while (true) {
    std::string_view frame;
    size_t next = 0;
    const FrameDecoder::Result result =
        in_.Peek(0, read_limit_, &frame, &next);
    // Frames that arrived before a failure are still read; then the end.
    if (result != FrameDecoder::Result::kFrame && !status().ok()) return false;
    switch (result) {
      case FrameDecoder::Result::kTooLarge: {
        size_t size = 0;
        in_.NextSize(&size);
        Fail(absl::InvalidArgumentError(
            absl::StrCat("weft: ", peer_, " sent a frame of ", size,
                         " bytes, over the limit of ", read_limit_)));
        return false;
      }
      case FrameDecoder::Result::kFrame: {
        const bool parsed =
            message.ParseFromArray(frame.data(), static_cast<int>(frame.size()));
        in_.Consume(next);
        in_.Release();
        if (!parsed) {
          Fail(absl::DataLossError(absl::StrCat(
              "weft: ", peer_, " sent a frame that is not a valid ",
              message.GetTypeName())));
          return false;
        }
        return true;
      }
      case FrameDecoder::Result::kNeedMore:
        // False: the stream failed (status() says why) or the deadline
        // passed.
        if (!Fill(deadline)) return false;
        break;
    }
  }
}

void FrameStream::StartReading(FramesHandler on_frames,
                               ClosedHandler on_closed) {
  boost::asio::post(
      io_->strand, [self = shared_from_this(), on_frames = std::move(on_frames),
                    on_closed = std::move(on_closed)]() mutable {
        self->on_frames_ = std::move(on_frames);
        self->on_closed_ = std::move(on_closed);
        if (!self->Deliver()) return;  // paused at once
        if (!self->status().ok()) {
          self->Close(self->status());
          return;
        }
        self->WaitForBytes();
      });
}

void FrameStream::Resume(FramesHandler on_frames) {
  boost::asio::post(io_->strand, [self = shared_from_this(),
                                  on_frames = std::move(on_frames)]() mutable {
    self->paused_ = false;
    self->buffered_ = 0;
    self->on_frames_ = std::move(on_frames);
    if (!self->Deliver()) return;
    if (!self->status().ok()) {
      self->Close(self->status());
      return;
    }
    self->WaitForBytes();
  });
}

void FrameStream::WaitForBytes() {
  if (TlsPending()) {
    // The TLS session holds bytes the socket will not announce again.
    boost::asio::post(io_->strand,
                      [self = shared_from_this()] { self->OnReadable(); });
    return;
  }
  io_->descriptor.async_wait(
      boost::asio::posix::stream_descriptor::wait_read,
      boost::asio::bind_executor(
          io_->strand, [self = shared_from_this()](
                           const boost::system::error_code&) {
            self->OnReadable();
          }));
}

void FrameStream::OnReadable() {
  if (closed_) return;
  if (status().ok()) Fill(absl::InfinitePast());
  // Frames that arrived before an end are still delivered.
  if (!Deliver()) return;
  if (!status().ok()) {
    Close(status());
    return;
  }
  WaitForBytes();
}

bool FrameStream::Deliver() {
  std::vector<std::string_view> batch;
  while (!closed_) {
    batch.clear();
    size_t offset = 0;
    std::vector<size_t> ends;
    FrameDecoder::Result result = FrameDecoder::Result::kNeedMore;
    while (batch.size() < kMaxFramesPerBatch) {
      std::string_view frame;
      size_t next = 0;
      result = in_.Peek(offset, read_limit_, &frame, &next);
      if (result != FrameDecoder::Result::kFrame) break;
      batch.push_back(frame);
      ends.push_back(next);
      offset = next;
    }
    if (batch.empty()) {
      if (result == FrameDecoder::Result::kTooLarge) {
        size_t size = 0;
        in_.NextSize(&size);
        // Said even if the peer closed right after the header: the frame
        // over the limit is what went wrong.
        const absl::Status too_large = absl::InvalidArgumentError(
            absl::StrCat("weft: ", peer_, " sent a frame of ", size,
                         " bytes, over the limit of ", read_limit_));
        Fail(too_large);
        Close(too_large);
        return false;
      }
      in_.Release();
      return true;
    }
    const size_t consumed = std::min(on_frames_(batch), batch.size());
    if (consumed > 0) in_.Consume(ends[consumed - 1]);
    if (consumed < batch.size() || pause_requested_) {
      pause_requested_ = false;
      paused_ = true;
      buffered_ = in_.buffered();
      return false;
    }
  }
  return false;
}

void FrameStream::Close(const absl::Status& why) {
  if (closed_) return;
  closed_ = true;
  on_frames_ = nullptr;  // lets go of what it captured
  if (on_closed_) {
    ClosedHandler on_closed = std::move(on_closed_);
    on_closed(why);
  }
}

// Connecting and listening ---------------------------------------------------

absl::StatusOr<std::shared_ptr<FrameStream>> ConnectFrameStream(
    const std::string& host, int port, absl::Duration timeout,
    EventLoop& loop) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const TlsContext> tls, ProcessTls());
  const absl::Time deadline = absl::Now() + timeout;
  WEFT_ASSIGN_OR_RETURN(int fd, ConnectTcp(host, port, deadline));
  if (tls == nullptr) {
    // Blocking mode does not matter: every recv and send says MSG_DONTWAIT,
    // and waits are poll()s or the event loop's.
    return FrameStream::Make(fd, loop);
  }
  // (The socket is non-blocking, as the TLS session needs.)
  absl::StatusOr<std::unique_ptr<TlsSession>> session =
      tls->NewSession(fd, /*server=*/false);
  absl::Status shaken = session.ok()
                            ? (*session)->HandshakeBy(
                                  deadline, absl::StrCat(host, ":", port))
                            : session.status();
  if (!shaken.ok()) {
    ::close(fd);
    return shaken;
  }
  return FrameStream::Make(fd, loop, kMaxFrameBytes, *std::move(session));
}

absl::StatusOr<std::shared_ptr<FrameStream>> ConnectWithKey(
    const std::string& scheduler_address, int port, const std::string& key,
    absl::Duration timeout, EventLoop& loop) {
  absl::StatusOr<std::shared_ptr<FrameStream>> frames = ConnectFrameStream(
      HostOfAddress(scheduler_address), port, timeout, loop);
  if (!frames.ok()) return frames.status();
  FrameHello hello;
  hello.set_key(key);
  if (!(*frames)->Send(hello)) return (*frames)->status();
  return frames;
}

bool FrameStreamsWanted() {
  const char* env = std::getenv("WEFT_FRAME_STREAM");
  return env == nullptr || std::string_view(env) != "0";
}

std::string HostOfAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return address;
  return StripBrackets(address.substr(0, colon));
}

namespace {

// TLS handshakes under way at once on a listener; connections beyond are
// closed (a flood of strangers must not hold descriptors).
constexpr int kMaxHandshakes = 256;

}  // namespace

// The listening socket as the event loop sees it.
struct FrameListener::Io : std::enable_shared_from_this<FrameListener::Io> {
  // An accepted connection in its TLS handshake, on the listener's strand.
  struct Handshake {
    Handshake(Io& io, int fd, std::unique_ptr<TlsSession> session)
        : fd(fd),
          session(std::move(session)),
          descriptor(io.loop.context(), fd),
          timer(io.loop.context()) {}
    ~Handshake() {
      descriptor.release();
      if (fd >= 0) ::close(fd);
    }
    int fd;  // -1 once handed to a stream
    std::unique_ptr<TlsSession> session;
    boost::asio::posix::stream_descriptor descriptor;
    boost::asio::steady_timer timer;
    bool done = false;
  };

  Io(EventLoop& loop, int listen_fd, std::shared_ptr<const TlsContext> tls)
      : fd(listen_fd),
        tls(std::move(tls)),
        loop(loop),
        descriptor(loop.context(), listen_fd),
        strand(boost::asio::make_strand(loop.context())),
        retry(loop.context()) {}
  ~Io() {
    descriptor.release();
    ::close(fd);
  }

  void Wait() {
    descriptor.async_wait(
        boost::asio::posix::stream_descriptor::wait_read,
        boost::asio::bind_executor(
            strand, [self = shared_from_this()](
                        const boost::system::error_code& error) {
              if (error || self->stopped) return;
              self->AcceptAll();
            }));
  }

  void AcceptAll() {
    while (!stopped) {
      const int fd = ::accept4(this->fd, nullptr, nullptr,
                               SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd >= 0) {
        if (tls == nullptr) {
          on_accept(FrameStream::Make(fd, loop));
        } else {
          StartHandshake(fd);
        }
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      // Out of descriptors or memory: say so, and try again in a moment
      // (the connection waits in the backlog meanwhile).
      on_error(absl::UnavailableError(
          absl::StrCat("weft: accepting a connection: ", ErrnoText(errno))));
      retry.expires_after(std::chrono::milliseconds(100));
      retry.async_wait(boost::asio::bind_executor(
          strand, [self = shared_from_this()](
                      const boost::system::error_code& error) {
            if (!error && !self->stopped) self->Wait();
          }));
      return;
    }
    if (!stopped) Wait();
  }

  // Shakes hands with a new connection; only then is it accepted. Every
  // step runs in `strand`.
  void StartHandshake(int connection) {
    absl::StatusOr<std::unique_ptr<TlsSession>> session =
        handshakes < kMaxHandshakes
            ? tls->NewSession(connection, /*server=*/true)
            : absl::ResourceExhaustedError(absl::StrCat(
                  "more than ", kMaxHandshakes, " TLS handshakes at once"));
    if (!session.ok()) {
      ::close(connection);
      on_error(absl::UnavailableError(absl::StrCat(
          "weft: refused a connection: ", session.status().message())));
      return;
    }
    ++handshakes;
    auto h = std::make_shared<Handshake>(*this, connection, *std::move(session));
    h->timer.expires_after(
        std::chrono::microseconds(absl::ToInt64Microseconds(kTlsHandshakeTimeout)));
    h->timer.async_wait(boost::asio::bind_executor(
        strand, [self = shared_from_this(), h](const boost::system::error_code& error) {
          if (error || h->done) return;
          self->EndHandshake(*h, absl::StrCat(
              "no TLS handshake within ", absl::FormatDuration(kTlsHandshakeTimeout)));
          h->descriptor.cancel();
        }));
    StepHandshake(h);
  }

  void StepHandshake(const std::shared_ptr<Handshake>& h) {
    if (h->done) return;
    if (stopped) {
      EndHandshake(*h, "");
      return;
    }
    const TlsSession::Step step = h->session->Handshake();
    switch (step) {
      case TlsSession::Step::kDone: {
        h->done = true;
        --handshakes;
        h->timer.cancel();
        const int connection = h->fd;
        h->fd = -1;
        h->descriptor.release();
        on_accept(FrameStream::Make(connection, loop, kMaxFrameBytes,
                                    std::move(h->session)));
        return;
      }
      case TlsSession::Step::kWantRead:
      case TlsSession::Step::kWantWrite:
        h->descriptor.async_wait(
            step == TlsSession::Step::kWantRead
                ? boost::asio::posix::stream_descriptor::wait_read
                : boost::asio::posix::stream_descriptor::wait_write,
            boost::asio::bind_executor(
                strand, [self = shared_from_this(),
                         h](const boost::system::error_code&) {
                  self->StepHandshake(h);
                }));
        return;
      case TlsSession::Step::kFailed:
        EndHandshake(*h, h->session->error());
        return;
    }
  }

  // Drops a connection whose handshake failed (`why`; empty: say nothing).
  void EndHandshake(Handshake& h, const std::string& why) {
    h.done = true;
    --handshakes;
    h.timer.cancel();
    if (!why.empty()) {
      on_error(absl::UnavailableError(absl::StrCat(
          "weft: refused a connection from ", PeerName(h.fd), ": ", why)));
    }
    ::shutdown(h.fd, SHUT_RDWR);
  }

  const int fd;
  const std::shared_ptr<const TlsContext> tls;  // null: plaintext
  EventLoop& loop;
  boost::asio::posix::stream_descriptor descriptor;
  boost::asio::strand<boost::asio::io_context::executor_type> strand;
  boost::asio::steady_timer retry;
  AcceptHandler on_accept;
  absl::AnyInvocable<void(const absl::Status&)> on_error;
  bool stopped = false;  // only touched in `strand`
  int handshakes = 0;    // under way; only touched in `strand`
};

absl::StatusOr<std::unique_ptr<FrameListener>> FrameListener::Listen(
    const std::string& host, int port, EventLoop& loop) {
  WEFT_ASSIGN_OR_RETURN(std::shared_ptr<const TlsContext> tls, ProcessTls());
  WEFT_ASSIGN_OR_RETURN(TcpListener listener, ListenTcp(host, port));
  return std::unique_ptr<FrameListener>(
      new FrameListener(listener.fd, listener.port, loop, std::move(tls)));
}

FrameListener::FrameListener(int fd, int port, EventLoop& loop,
                             std::shared_ptr<const TlsContext> tls)
    : port_(port),
      loop_(loop),
      io_(std::make_shared<Io>(loop, fd, std::move(tls))) {}

FrameListener::~FrameListener() {
  // Stop in the strand, so that no accept runs after this returns... but
  // a destructor on a loop thread cannot wait for the strand; it only
  // stops future accepts then.
  std::shared_ptr<Io> io = io_;
  if (loop_.OnLoopThread()) {
    boost::asio::post(io->strand, [io] {
      io->stopped = true;
      io->descriptor.cancel();
    });
    return;
  }
  struct Stopped {
    internal::Mutex mu;
    std::condition_variable_any cv;
    bool done ABSL_GUARDED_BY(mu) = false;
  } stopped;
  boost::asio::post(io->strand, [io, &stopped] {
    io->stopped = true;
    io->descriptor.cancel();
    io->retry.cancel();
    MutexLock lock(&stopped.mu);
    stopped.done = true;
    stopped.cv.notify_all();
  });
  internal::UniqueLock lock(stopped.mu);
  while (!stopped.done) stopped.cv.wait(lock);
}

void FrameListener::StartAccepting(
    AcceptHandler on_accept,
    absl::AnyInvocable<void(const absl::Status&)> on_error) {
  std::shared_ptr<Io> io = io_;
  boost::asio::post(io->strand, [io, on_accept = std::move(on_accept),
                                 on_error = std::move(on_error)]() mutable {
    io->on_accept = std::move(on_accept);
    io->on_error = std::move(on_error);
    io->Wait();
  });
}

}  // namespace weft::rpc
