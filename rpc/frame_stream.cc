// Copyright 2026 The weft Authors.

#include "rpc/frame_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rpc/weft.pb.h"

namespace weft::rpc {
namespace {

using internal::MutexLock;

constexpr size_t kHeaderBytes = 4;
// Queued bytes beyond this mean the peer has stopped reading.
constexpr size_t kMaxQueuedBytes = size_t{1} << 30;
constexpr size_t kMinReadBytes = 64 * 1024;
// A read buffer grown past this for a large frame is let go once empty.
constexpr size_t kKeepReadBytes = size_t{1} << 20;

std::string ErrnoText(int error) { return std::strerror(error); }

// Read buffers past kKeepReadBytes are mapped pages, so that freeing one
// gives its memory back at once (an allocator would keep the pages
// resident for reuse, and a 100 MB frame would leave 100 MB behind).
char* AllocateBuffer(size_t capacity) {
  if (capacity <= kKeepReadBytes) return new char[capacity];
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(p);
}

void FreeBuffer(char* p, size_t capacity) {
  if (p == nullptr) return;
  if (capacity <= kKeepReadBytes) {
    delete[] p;
  } else {
    ::munmap(p, capacity);
  }
}

// Milliseconds for poll() until `deadline` (-1: forever), at least 0.
int PollTimeout(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 1 << 30));
}

std::string PeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "?";
  }
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    return absl::StrCat(host, ":", port);
  }
  if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    return absl::StrCat("[", host, "]:", port);
  }
  return "?";
}

void SetNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

std::string StripBrackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

FrameStream::FrameStream(int fd, size_t max_frame_bytes)
    : fd_(fd),
      max_frame_bytes_(max_frame_bytes),
      peer_(PeerName(fd)),
      read_limit_(max_frame_bytes) {
  SetNoDelay(fd_);
  flusher_ = std::thread([this] { FlusherLoop(); });
}

FrameStream::~FrameStream() {
  Shutdown();
  flusher_.join();
  ::close(fd_);
  FreeBuffer(in_, in_capacity_);
}

void FrameStream::Resize(size_t capacity) {
  char* bigger = capacity > 0 ? AllocateBuffer(capacity) : nullptr;
  if (Buffered() > 0) std::memcpy(bigger, in_ + in_begin_, Buffered());
  FreeBuffer(in_, in_capacity_);
  in_end_ = Buffered();
  in_begin_ = 0;
  in_ = bigger;
  in_capacity_ = capacity;
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
  const size_t at = out_.size();
  out_.resize(at + kHeaderBytes + size);
  auto* p = reinterpret_cast<uint8_t*>(out_.data() + at);
  for (size_t i = 0; i < kHeaderBytes; ++i) {
    p[i] = static_cast<uint8_t>(size >> (8 * i));
  }
  message.SerializeWithCachedSizesToArray(p + kHeaderBytes);
  if (!flushing_ && !WriteQueuedLocked() && status_.ok()) {
    flushing_ = true;  // the flusher writes the rest as the peer reads
    cv_.notify_all();
  }
  return status_.ok();
}

bool FrameStream::WriteQueuedLocked() {
  while (out_sent_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_sent_,
                             out_.size() - out_sent_,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return false;
    } else {
      FailLocked(absl::UnavailableError(
          absl::StrCat("weft: writing to ", peer_, ": ", ErrnoText(errno))));
      return false;
    }
  }
  // Everything went: let a large buffer's memory go.
  if (out_.capacity() > (size_t{1} << 20)) std::string().swap(out_);
  out_.clear();
  out_sent_ = 0;
  return true;
}

void FrameStream::FlusherLoop() {
  internal::UniqueLock lock(mu_);
  while (true) {
    while (!flushing_ && !shut_down_) cv_.wait(lock);
    if (shut_down_) return;
    lock.unlock();
    pollfd p{fd_, POLLOUT, 0};
    ::poll(&p, 1, /*timeout_ms=*/100);
    lock.lock();
    if (shut_down_) return;
    // While flushing_ is set Send() only queues, so the order holds.
    if (WriteQueuedLocked() || !status_.ok()) {
      flushing_ = false;
      cv_.notify_all();  // Shutdown() may be draining
    }
  }
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
  ::shutdown(fd_, SHUT_RDWR);  // wakes a blocked reader
}

absl::Status FrameStream::status() const {
  MutexLock lock(&mu_);
  return status_;
}

bool FrameStream::Fill(absl::Time deadline) {
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
  } else if (in_begin_ > 0 && in_capacity_ - in_end_ < kMinReadBytes) {
    std::memmove(in_, in_ + in_begin_, Buffered());
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  // Room for a whole pending frame, and at least kMinReadBytes.
  size_t want = kMinReadBytes;
  if (Buffered() >= kHeaderBytes) {
    const auto* p = reinterpret_cast<const uint8_t*>(in_ + in_begin_);
    size_t size = 0;
    for (size_t i = 0; i < kHeaderBytes; ++i) size |= size_t{p[i]} << (8 * i);
    want = std::max(want, kHeaderBytes + size - Buffered());
  }
  if (in_capacity_ - in_end_ < want) {
    Resize(std::max(in_capacity_ * 2, Buffered() + want));
  }
  while (true) {
    if (deadline != absl::InfiniteFuture()) {
      pollfd p{fd_, POLLIN, 0};
      const int ready = ::poll(&p, 1, PollTimeout(deadline));
      if (ready == 0) {
        // The stream stays usable; only this read gave up.
        return false;
      }
      if (ready < 0 && errno == EINTR) continue;
    }
    const ssize_t n =
        ::recv(fd_, in_ + in_end_, in_capacity_ - in_end_, 0);
    if (n > 0) {
      in_end_ += static_cast<size_t>(n);
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      closed_by_peer_ = true;
      Fail(absl::UnavailableError(
          absl::StrCat("weft: the stream was closed by the peer ", peer_)));
    } else {
      Fail(absl::UnavailableError(absl::StrCat(
          "weft: reading from ", peer_, ": ", ErrnoText(errno))));
    }
    return false;
  }
}

bool FrameStream::HasBufferedFrame() const {
  if (Buffered() < kHeaderBytes) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(in_ + in_begin_);
  size_t size = 0;
  for (size_t i = 0; i < kHeaderBytes; ++i) size |= size_t{p[i]} << (8 * i);
  return Buffered() - kHeaderBytes >= size;
}

bool FrameStream::Read(google::protobuf::MessageLite& message,
                       absl::Time deadline) {
  while (true) {
    {
      MutexLock lock(&mu_);
      if (!status_.ok()) return false;  // failed, or shut down
    }
    if (Buffered() >= kHeaderBytes) {
      const auto* p = reinterpret_cast<const uint8_t*>(in_ + in_begin_);
      size_t size = 0;
      for (size_t i = 0; i < kHeaderBytes; ++i) {
        size |= size_t{p[i]} << (8 * i);
      }
      if (size > read_limit_) {
        Fail(absl::InvalidArgumentError(absl::StrCat(
            "weft: ", peer_, " sent a frame of ", size,
            " bytes, over the limit of ", read_limit_)));
        return false;
      }
      if (Buffered() - kHeaderBytes >= size) {
        const bool parsed = message.ParseFromArray(
            in_ + in_begin_ + kHeaderBytes, static_cast<int>(size));
        in_begin_ += kHeaderBytes + size;
        if (in_begin_ == in_end_ && in_capacity_ > kKeepReadBytes) {
          Resize(0);  // a large frame's pages go back now
        }
        if (!parsed) {
          Fail(absl::DataLossError(absl::StrCat(
              "weft: ", peer_, " sent a frame that is not a valid ",
              message.GetTypeName())));
          return false;
        }
        return true;
      }
    }
    // False: the stream failed (status() says why) or the deadline passed.
    if (!Fill(deadline)) return false;
  }
}

absl::StatusOr<std::unique_ptr<FrameStream>> ConnectFrameStream(
    const std::string& host, int port, absl::Duration timeout) {
  const std::string name = StripBrackets(host);
  const std::string where = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = absl::StrCat(port);
  if (int rc = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        "weft: cannot resolve ", where, ": ", ::gai_strerror(rc)));
  }
  const absl::Time deadline = absl::Now() + timeout;
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC |
                                              SOCK_NONBLOCK,
                            a->ai_protocol);
    if (fd < 0) {
      last_error = ErrnoText(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      while ((rc = ::poll(&p, 1, PollTimeout(deadline))) < 0 &&
             errno == EINTR) {
      }
      if (rc == 0) {
        last_error = "timed out";
        ::close(fd);
        continue;
      }
      int error = 0;
      socklen_t len = sizeof(error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      rc = error == 0 ? 0 : -1;
      errno = error;
    }
    if (rc != 0) {
      last_error = ErrnoText(errno);
      ::close(fd);
      continue;
    }
    // Blocking from here: reads block in recv(), sends use MSG_DONTWAIT.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    ::freeaddrinfo(found);
    return std::make_unique<FrameStream>(fd);
  }
  ::freeaddrinfo(found);
  return absl::UnavailableError(
      absl::StrCat("weft: cannot connect to ", where, ": ", last_error));
}

absl::StatusOr<std::unique_ptr<FrameStream>> ConnectWithKey(
    const std::string& scheduler_address, int port, const std::string& key,
    absl::Duration timeout) {
  absl::StatusOr<std::unique_ptr<FrameStream>> frames =
      ConnectFrameStream(HostOfAddress(scheduler_address), port, timeout);
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

absl::StatusOr<std::unique_ptr<FrameListener>> FrameListener::Listen(
    const std::string& host, int port) {
  const std::string name = StripBrackets(host);
  const std::string where = absl::StrCat(host, ":", port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = absl::StrCat(port);
  if (int rc = ::getaddrinfo(name.empty() ? nullptr : name.c_str(),
                             service.c_str(), &hints, &found);
      rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        "weft: cannot resolve ", where, ": ", ::gai_strerror(rc)));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd =
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = ErrnoText(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
      last_error = ErrnoText(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    const int bound_port =
        bound.ss_family == AF_INET6
            ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
            : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    ::freeaddrinfo(found);
    return std::unique_ptr<FrameListener>(new FrameListener(fd, bound_port));
  }
  ::freeaddrinfo(found);
  return absl::UnavailableError(
      absl::StrCat("weft: cannot listen on ", where, ": ", last_error));
}

FrameListener::~FrameListener() { ::close(fd_); }

absl::StatusOr<std::unique_ptr<FrameStream>> FrameListener::Accept(
    absl::Duration timeout) {
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, PollTimeout(absl::Now() + timeout));
  if (ready == 0 || (ready < 0 && errno == EINTR)) return nullptr;
  if (ready < 0) {
    return absl::UnavailableError(
        absl::StrCat("weft: waiting for connections: ", ErrnoText(errno)));
  }
  const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
      return nullptr;
    }
    return absl::UnavailableError(
        absl::StrCat("weft: accepting a connection: ", ErrnoText(errno)));
  }
  return std::make_unique<FrameStream>(fd);
}

}  // namespace weft::rpc
