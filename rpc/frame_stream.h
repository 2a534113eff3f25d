// Copyright 2026 The weft Authors.
//
// FrameStream: protobuf messages over a connected TCP socket, each one
// preceded by its length (4 bytes, little-endian).
//
// It carries the scheduler<->worker task stream (assignments out, results
// back) once a worker has registered over gRPC (scheduler_service.cc,
// worker.cc). gRPC's synchronous streams hand every message between
// threads: a writer thread, a poller thread that happens to be in the
// process's epoll set, the thread blocked in Read(). On a 2-vCPU guest each
// hand-off is a wake-up of another vCPU, and they were most of a task's
// cost (bench/history.md). Here the thread that has a message writes it to
// the socket itself, and the thread blocked in Read() is the one the kernel
// wakes.
//
// Sends never block: what the socket does not take at once is written by
// the stream's own flusher thread as the peer reads.

#ifndef WEFT_RPC_FRAME_STREAM_H_
#define WEFT_RPC_FRAME_STREAM_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message_lite.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {

// The largest message a FrameStream sends or accepts by default. (The
// length prefix could say 4 GiB; a read buffer is allocated for what a
// header announces, but its pages only as bytes arrive.)
inline constexpr size_t kMaxFrameBytes = size_t{1} << 30;

// How long a peer taking a scheduler's offer may take to connect, and then
// to hear the scheduler's first message on the new stream.
inline constexpr absl::Duration kFrameConnectTimeout = absl::Seconds(5);
inline constexpr absl::Duration kFrameFirstMessageTimeout = absl::Seconds(30);

class FrameStream {
 public:
  // Takes ownership of `fd`, a connected stream socket, and starts the
  // flusher thread. `max_frame_bytes` bounds both directions (reads until
  // set_read_limit says otherwise).
  explicit FrameStream(int fd, size_t max_frame_bytes = kMaxFrameBytes);
  // Shuts down (dropping what is unsent), joins the flusher, closes `fd`.
  ~FrameStream();

  FrameStream(const FrameStream&) = delete;
  FrameStream& operator=(const FrameStream&) = delete;

  // Queues `message` and writes what the socket takes now without blocking;
  // the flusher writes the rest. Messages arrive in the order of their
  // Send() calls. Returns false (and sends nothing) once the stream is shut
  // down or broken, or if the message is larger than the frame limit;
  // status() says why. Thread-safe.
  bool Send(const google::protobuf::MessageLite& message);

  // Reads the next message into `message`, blocking until it is whole or
  // `deadline` passes. Returns false at the end of the stream, on an error,
  // a frame over the limit, bytes that do not parse as `message`, shutdown
  // or the deadline; status() says which (a deadline leaves the stream
  // usable). REQUIRES: one reader at a time.
  bool Read(google::protobuf::MessageLite& message,
            absl::Time deadline = absl::InfiniteFuture());

  // True if a whole frame is already buffered, so Read() will not block.
  // REQUIRES: called by the reader.
  bool HasBufferedFrame() const;

  // The largest frame Read() accepts from now on (e.g. a small one until an
  // unknown peer has identified itself). REQUIRES: called by the reader.
  void set_read_limit(size_t bytes) { read_limit_ = bytes; }

  // Waits up to `drain` for queued messages to reach the socket, then
  // stops both directions: a blocked Read() returns false and later Sends
  // fail. Thread-safe and idempotent.
  void Shutdown(absl::Duration drain = absl::ZeroDuration());

  // True once Read() has met the end of the stream sent by the peer (not
  // an error, not this side's Shutdown()). REQUIRES: called by the reader.
  bool closed_by_peer() const { return closed_by_peer_; }

  // OK while the stream works; otherwise why it stopped. A clean end of
  // stream from the peer is UNAVAILABLE "closed by the peer". Any failure
  // (including a refused send) shuts the socket down, so the reader and the
  // peer both see the end.
  absl::Status status() const;

  // "host:port" of the other end, for messages.
  const std::string& peer() const { return peer_; }

 private:
  void FlusherLoop();
  // Writes queued bytes until none are left (returns true) or the socket
  // would block or fails (false).
  bool WriteQueuedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FailLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fail(absl::Status status);
  // Reads what the socket has (at least one byte) into the read buffer.
  bool Fill(absl::Time deadline);
  size_t Buffered() const { return in_end_ - in_begin_; }

  // Constant after construction.
  const int fd_;
  const size_t max_frame_bytes_;
  const std::string peer_;

  mutable internal::Mutex mu_;
  std::condition_variable_any cv_;
  std::string out_ ABSL_GUARDED_BY(mu_);  // queued bytes from out_sent_ on
  size_t out_sent_ ABSL_GUARDED_BY(mu_) = 0;
  bool flushing_ ABSL_GUARDED_BY(mu_) = false;  // the flusher owns the rest
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);

  // Gives the read buffer `capacity` bytes, keeping the unread ones.
  void Resize(size_t capacity);

  // The reader's own: bytes [in_begin_, in_end_) of in_ are unread. A
  // buffer of more than 1 MiB (a large frame) is mapped pages of its own,
  // returned to the system as soon as it is empty.
  char* in_ = nullptr;
  size_t in_capacity_ = 0;
  size_t read_limit_;
  bool closed_by_peer_ = false;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;

  std::thread flusher_;
};

// Connects to host:port (a name, an IPv4 address or an IPv6 address, with
// or without brackets). Errors: UNAVAILABLE naming the address if it
// cannot connect within `timeout`.
absl::StatusOr<std::unique_ptr<FrameStream>> ConnectFrameStream(
    const std::string& host, int port, absl::Duration timeout);

// The host part of "host:port" or "[v6]:port" (brackets removed).
std::string HostOfAddress(const std::string& address);

// Takes a scheduler's offer of a frame stream: connects to `port` on the
// host of `scheduler_address` and presents `key` (a FrameHello). Errors:
// UNAVAILABLE naming the address if it cannot within `timeout`.
absl::StatusOr<std::unique_ptr<FrameStream>> ConnectWithKey(
    const std::string& scheduler_address, int port, const std::string& key,
    absl::Duration timeout = kFrameConnectTimeout);

// Whether this process takes a scheduler's offer of a frame stream
// (WEFT_FRAME_STREAM=0 in the environment: no, stay on gRPC).
bool FrameStreamsWanted();

// A listening TCP socket whose connections become FrameStreams.
class FrameListener {
 public:
  // Listens on host:port (port 0: any free port). Errors: UNAVAILABLE if it
  // cannot bind.
  static absl::StatusOr<std::unique_ptr<FrameListener>> Listen(
      const std::string& host, int port);
  ~FrameListener();

  FrameListener(const FrameListener&) = delete;
  FrameListener& operator=(const FrameListener&) = delete;

  int port() const { return port_; }

  // Waits up to `timeout` for a connection. Returns nullptr if none came.
  // Errors: UNAVAILABLE if the listening socket failed. Thread-compatible.
  absl::StatusOr<std::unique_ptr<FrameStream>> Accept(absl::Duration timeout);

 private:
  FrameListener(int fd, int port) : fd_(fd), port_(port) {}

  const int fd_;
  const int port_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_FRAME_STREAM_H_
