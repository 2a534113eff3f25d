// Copyright 2026 The weft Authors.
//
// PeerStream: one peer's two-way stream of protobuf messages, whatever
// carries it. Three transports implement it:
//
//   - a frame stream (rpc/frame_stream.h): length-prefixed messages on a
//     plain socket, written by the thread that has the message and read by
//     the event loop. The normal path between processes.
//   - a gRPC stream: the fallback when a peer cannot reach the frame port
//     (or WEFT_FRAME_STREAM=0). A writer thread sends; reading blocks a
//     thread.
//   - an in-process link (rpc/local_link.h): a LocalCluster's client and
//     its scheduler in one process, by function call.
//
// The scheduler service, the client runtime and the worker talk to a
// PeerStream only, so none of them tells transports apart: they Send(),
// Serve() (get messages until the end), and Close(). A BatchWriter over a
// stream (MakeBatchWriter) coalesces updates into messages.

#ifndef WEFT_RPC_PEER_STREAM_H_
#define WEFT_RPC_PEER_STREAM_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "rpc/batch_split.h"
#include "rpc/batch_writer.h"
#include "rpc/event_loop.h"

namespace weft::rpc {

// Out: the messages this side sends; In: the messages it receives.
// Thread-safety: Send() and the accessors are thread-safe; Read() and
// Serve() are for one thread (the reader).
template <class Out, class In>
class PeerStream {
 public:
  // Called with messages in arrival order, never concurrently, for one
  // stream; the messages are valid during the call only (a frame stream
  // parses them into an arena it resets after the call).
  using MessagesHandler =
      absl::AnyInvocable<void(absl::Span<const In* const> messages)>;
  // Calls `on_messages` with `message` alone.
  static void DeliverOne(MessagesHandler& on_messages, const In& message) {
    const In* one = &message;
    on_messages(absl::MakeConstSpan(&one, 1));
  }

  // Called once when the stream ends, with why (see status()).
  using ClosedHandler = absl::AnyInvocable<void(const absl::Status& why)>;

  virtual ~PeerStream() = default;

  // Sends `message`. On a frame stream or an in-process link it goes on the
  // calling thread without blocking; on gRPC it blocks until written, so a
  // gRPC stream is written by one BatchWriter thread (see
  // delivers_on_caller()). Returns false once the stream is broken.
  virtual bool Send(const Out& message) = 0;

  // Reads one message, blocking up to `deadline`: for a handshake, before
  // Serve(). Returns false at the end, on an error or at the deadline.
  // REQUIRES: Serve() not called yet.
  virtual bool Read(In& message, absl::Time deadline) = 0;

  // Delivers incoming messages to `on_messages` until the stream ends, then
  // calls `on_closed` once. A frame stream returns at once (its event loop
  // reads); a gRPC stream reads on the calling thread and returns after
  // `on_closed`; an in-process link returns at once (the peer delivers).
  // REQUIRES: called once.
  virtual void Serve(MessagesHandler on_messages, ClosedHandler on_closed) = 0;

  // Waits up to `drain` for what was sent to leave, then ends both
  // directions: a serving stream's `on_closed` follows. Idempotent.
  virtual void Close(absl::Duration drain = absl::ZeroDuration()) = 0;

  // OK while the stream works; otherwise why it ended.
  virtual absl::Status status() const = 0;
  // True once the peer ended the stream in order (not an error, not
  // Close()).
  virtual bool closed_by_peer() const = 0;
  // Bytes that have arrived and are not handled yet (0 where unknown): a
  // peer whose messages wait here has not gone silent.
  virtual size_t UnreadBytes() const { return 0; }
  // Whether Send() delivers on the calling thread (frame streams,
  // in-process links) rather than blocking for a write (gRPC).
  virtual bool delivers_on_caller() const = 0;
  // "frames", "grpc" or "in-process", for logs.
  virtual const char* transport() const = 0;
  // The other end ("host:port"), for logs.
  virtual std::string peer() const = 0;
};

// The batch writer for `stream`: on a stream that delivers on the caller
// (frame stream, in-process link), a Flush() writes on the flushing thread,
// and `lingering` lets AddLazy() updates wait on `loop`'s timer; on gRPC, a
// writer thread of its own. A batch of a type SendBatch splits goes as
// messages of at most kMaxBatchBytes. The writer shares ownership of the
// stream.
template <class Out, class In>
std::unique_ptr<BatchWriter<Out>> MakeBatchWriter(
    std::shared_ptr<PeerStream<Out, In>> stream, bool lingering,
    EventLoop& loop) {
  const Delivery delivery =
      !stream->delivers_on_caller() ? Delivery::kWriterThread
      : lingering                   ? Delivery::kOnFlushLingering
                                    : Delivery::kOnFlush;
  // A batch too large for one message goes as several (batch_split.h).
  return std::make_unique<BatchWriter<Out>>(
      [stream = std::move(stream)](const Out& m) {
        return SendBatch(
            m, [&stream](const Out& piece) { return stream->Send(piece); });
      },
      delivery, &loop);
}

}  // namespace weft::rpc

#endif  // WEFT_RPC_PEER_STREAM_H_
