// Copyright 2026 The weft Authors.
//
// FrameStream: protobuf messages over a connected TCP socket, each one
// preceded by its length (rpc/frame_codec.h).
//
// It carries the scheduler<->worker and scheduler<->client streams once a
// peer has registered over gRPC (rpc/peer_stream.h). gRPC's synchronous
// streams hand every message between threads: a writer thread, a poller
// thread that happens to be in the process's epoll set, the reader. On a
// 2-vCPU guest each hand-off is a wake-up of another vCPU, and they were
// most of a task's cost (bench/history.md). Here the thread that has a
// message writes it to the socket itself, and the event-loop thread the
// kernel wakes for the socket reads it and runs the handler.
//
// Sends never block: what the socket does not take at once is written by
// the event loop (rpc/event_loop.h) as the peer reads. Reads are either
// blocking (Read(), for a handshake before anything else) or, after
// StartReading(), delivered to a handler on the event loop in batches: a
// stream costs no thread of its own, so a scheduler serves a thousand
// workers on a handful of threads.
//
// TLS: with this process's TLS on (rpc/tls.h), ConnectFrameStream() and
// FrameListener complete a mutual TLS handshake before a stream exists, and
// the stream encrypts through its TlsSession; without it the bytes go to
// the socket as they are, with no extra copy or hop.
//
// Lifetime: a FrameStream is shared (the event loop holds a reference while
// a read or write is pending). Shutdown() ends both directions and lets the
// loop's references go; call it before dropping the last reference of a
// stream that is reading, or the stream lives until its peer closes.

#ifndef WEFT_RPC_FRAME_STREAM_H_
#define WEFT_RPC_FRAME_STREAM_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "google/protobuf/message_lite.h"
#include "rpc/event_loop.h"
#include "rpc/frame_codec.h"
#include "rpc/tls.h"
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

class FrameStream : public std::enable_shared_from_this<FrameStream> {
 public:
  // Called on an event-loop thread with whole frames (each a serialized
  // message), in order; the views are valid during the call. Returns how
  // many it consumed: fewer than given pauses reading, and the rest are
  // offered again to the handler Resume() installs. Never called
  // concurrently for one stream.
  using FramesHandler =
      absl::AnyInvocable<size_t(absl::Span<const std::string_view> frames)>;
  // Called once, on an event-loop thread, when a reading stream ends: the
  // peer closed it (Unavailable, closed_by_peer()), an error, a frame over
  // the read limit (InvalidArgument), or Shutdown() (Cancelled).
  using ClosedHandler = absl::AnyInvocable<void(const absl::Status& why)>;

  // Takes ownership of `fd`, a connected stream socket. `loop` finishes the
  // sends the socket does not take at once and, after StartReading(), does
  // the reading; it must outlive the stream. `max_frame_bytes` bounds both
  // directions (reads until set_read_limit() says otherwise). `tls`, if
  // given, is a session on `fd` whose handshake is complete: every byte
  // goes through it.
  static std::shared_ptr<FrameStream> Make(
      int fd, EventLoop& loop, size_t max_frame_bytes = kMaxFrameBytes,
      std::unique_ptr<TlsSession> tls = nullptr);
  // Closes the socket.
  ~FrameStream();

  FrameStream(const FrameStream&) = delete;
  FrameStream& operator=(const FrameStream&) = delete;

  // Queues `message` and writes what the socket takes now without blocking;
  // the event loop writes the rest. Messages arrive in the order of their
  // Send() calls. Returns false (and sends nothing) once the stream is shut
  // down or broken, or if the message is larger than the frame limit;
  // status() says why. Thread-safe.
  bool Send(const google::protobuf::MessageLite& message);

  // Reads the next message into `message`, blocking until it is whole or
  // `deadline` passes. Returns false at the end of the stream, on an error,
  // a frame over the limit, bytes that do not parse as `message`, shutdown
  // or the deadline; status() says which (a deadline leaves the stream
  // usable). REQUIRES: StartReading() was not called; one reader.
  bool Read(google::protobuf::MessageLite& message,
            absl::Time deadline = absl::InfiniteFuture());

  // Hands reading to the event loop: frames (including any already
  // buffered) go to `on_frames`, the end to `on_closed`. REQUIRES: called
  // once, not concurrently with Read().
  void StartReading(FramesHandler on_frames, ClosedHandler on_closed);
  // Continues reading after `on_frames` paused it, with a new handler (the
  // unconsumed frames first). If the stream ended meanwhile, the closed
  // handler is called instead. REQUIRES: reading is paused.
  void Resume(FramesHandler on_frames);
  // Called from inside the frames handler: pauses reading after this call
  // even if the handler consumes every frame it was given (e.g. a
  // handshake's handler, which hands the stream on after its first frame).
  void PauseAfterThisBatch() { pause_requested_ = true; }

  // The largest frame accepted from now on (e.g. a small one until an
  // unknown peer has identified itself). REQUIRES: called by the reader
  // (before StartReading(), or from the frames handler).
  void set_read_limit(size_t bytes) { read_limit_ = bytes; }

  // Waits up to `drain` for queued messages to reach the socket, then
  // stops both directions: a blocked Read() returns false, a reading
  // stream's closed handler runs, later Sends fail. Thread-safe and
  // idempotent; REQUIRES: with a nonzero `drain`, not called on an
  // event-loop thread (the loop does the draining).
  void Shutdown(absl::Duration drain = absl::ZeroDuration());

  // True once the peer has ended the stream (not an error, not this side's
  // Shutdown()). Thread-safe.
  bool closed_by_peer() const { return closed_by_peer_.load(); }

  // OK while the stream works; otherwise why it stopped. A clean end of
  // stream from the peer is UNAVAILABLE "closed by the peer". Any failure
  // (including a refused send) shuts the socket down, so the reader and the
  // peer both see the end. Thread-safe.
  absl::Status status() const;

  // Bytes that have arrived and not been handed to a handler yet: in the
  // kernel's buffer (a busy loop has not read them) plus, while not
  // reading, whole frames buffered here. Thread-safe. For liveness checks:
  // a peer whose bytes wait here has not gone silent.
  size_t UnreadBytes() const;

  // "host:port" of the other end, for messages.
  const std::string& peer() const { return peer_; }

 private:
  struct Io;  // the socket as the event loop sees it, and its strand

  FrameStream(int fd, EventLoop& loop, size_t max_frame_bytes,
              std::unique_ptr<TlsSession> tls);

  // recv() and send() on the socket, or through the TLS session: > 0
  // bytes, 0 the peer closed (RecvSome), -1 with errno (EAGAIN: would
  // block). On another error `error` says why.
  ssize_t RecvSome(char* data, size_t size, std::string& error);
  ssize_t SendSome(const char* data, size_t size, std::string& error);
  // Returns `n`, what the TLS session's Recv or Send returned; when it
  // failed for a reason other than EAGAIN, says why in `error`.
  ssize_t TlsResult(ssize_t n, std::string& error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(tls_mu_);
  // Whether the TLS session holds bytes the socket no longer shows.
  bool TlsPending();
  // Writes queued bytes until none are left (returns true) or the socket
  // would block or fails (false).
  bool WriteQueuedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Has the event loop write the queue as the socket drains.
  void FlushOnLoop();
  void FailLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Fail(absl::Status status);
  // Reads what the socket has now into the decoder, waiting (blocking) up
  // to `deadline` for the first byte; with `deadline` in the past, only
  // what is there. Stops at a short read of a plain socket (without the
  // recv() that would say EAGAIN). Returns false at the end of the stream
  // or on an error (status() says) or if nothing came by the deadline.
  bool Fill(absl::Time deadline);
  // The event loop's read cycle: waits for bytes, delivers whole frames.
  void WaitForBytes();
  void OnReadable();
  // Delivers buffered frames to the handler; false if reading paused.
  bool Deliver();
  void Close(const absl::Status& why);

  // Constant after construction.
  const int fd_;
  const size_t max_frame_bytes_;
  const std::string peer_;
  std::unique_ptr<Io> io_;  // (the destructor resets it before closing fd_)
  // The TLS session (null: plaintext). The writer (under mu_) and the
  // reader use it, one at a time: tls_mu_ (after mu_, never before).
  internal::Mutex tls_mu_ ABSL_ACQUIRED_AFTER(mu_);
  const std::unique_ptr<TlsSession> tls_ ABSL_PT_GUARDED_BY(tls_mu_);

  mutable internal::Mutex mu_;
  std::condition_variable_any cv_;  // the queue drained, or a failure
  std::string out_ ABSL_GUARDED_BY(mu_);  // queued bytes from out_sent_ on
  size_t out_sent_ ABSL_GUARDED_BY(mu_) = 0;
  bool flushing_ ABSL_GUARDED_BY(mu_) = false;  // the loop owns the rest
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> closed_by_peer_{false};

  // The reader's own (the blocking reader, then the loop's strand).
  FrameDecoder in_;
  size_t read_limit_;
  FramesHandler on_frames_;
  ClosedHandler on_closed_;
  bool paused_ = false;
  bool pause_requested_ = false;  // by the frames handler
  bool closed_ = false;  // on_closed_ was called
  // Whole frames buffered while paused, for UnreadBytes().
  std::atomic<size_t> buffered_{0};
};

// Connects to host:port (a name, an IPv4 address or an IPv6 address, with
// or without brackets), for a stream served by `loop`; with this process's
// TLS on (rpc/tls.h), completes the handshake within `timeout` too. Errors:
// UNAVAILABLE naming the address if it cannot connect within `timeout` or
// the TLS handshake fails (naming why: e.g. a certificate from another CA,
// a peer without TLS), DEADLINE_EXCEEDED if the handshake does not finish,
// INVALID_ARGUMENT if this process's TLS files are broken.
absl::StatusOr<std::shared_ptr<FrameStream>> ConnectFrameStream(
    const std::string& host, int port, absl::Duration timeout,
    EventLoop& loop = EventLoop::Shared());

// The host part of "host:port" or "[v6]:port" (brackets removed).
std::string HostOfAddress(const std::string& address);

// Takes a scheduler's offer of a frame stream: connects to `port` on the
// host of `scheduler_address` and presents `key` (a FrameHello). Errors:
// UNAVAILABLE naming the address if it cannot within `timeout`.
absl::StatusOr<std::shared_ptr<FrameStream>> ConnectWithKey(
    const std::string& scheduler_address, int port, const std::string& key,
    absl::Duration timeout = kFrameConnectTimeout,
    EventLoop& loop = EventLoop::Shared());

// Whether this process takes a scheduler's offer of a frame stream
// (WEFT_FRAME_STREAM=0 in the environment: no, stay on gRPC).
bool FrameStreamsWanted();

// A listening TCP socket whose connections become FrameStreams, accepted
// by an event loop.
class FrameListener {
 public:
  // Called on an event-loop thread with each new connection (not reading
  // yet).
  using AcceptHandler =
      absl::AnyInvocable<void(std::shared_ptr<FrameStream> stream)>;

  // Listens on host:port (port 0: any free port). With this process's TLS
  // on (rpc/tls.h, read now), each connection completes a TLS handshake
  // with a certificate from the cluster's CA within kTlsHandshakeTimeout
  // before it is accepted; one that does not is closed before a byte of it
  // reaches the handler (the error handler hears why). Errors: UNAVAILABLE
  // if it cannot bind, INVALID_ARGUMENT if the TLS files are broken.
  static absl::StatusOr<std::unique_ptr<FrameListener>> Listen(
      const std::string& host, int port, EventLoop& loop);
  // Stops accepting (a call of the handler already running goes on) and
  // closes the socket.
  ~FrameListener();

  FrameListener(const FrameListener&) = delete;
  FrameListener& operator=(const FrameListener&) = delete;

  int port() const { return port_; }

  // Accepts connections on the event loop until destroyed, handing each to
  // `on_accept`. A failing accept (e.g. out of descriptors) is retried
  // after a pause; `on_error` hears of it. REQUIRES: called once.
  void StartAccepting(AcceptHandler on_accept,
                      absl::AnyInvocable<void(const absl::Status&)> on_error);

 private:
  struct Io;
  FrameListener(int fd, int port, EventLoop& loop,
                std::shared_ptr<const TlsContext> tls);

  const int port_;
  EventLoop& loop_;
  std::shared_ptr<Io> io_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_FRAME_STREAM_H_
