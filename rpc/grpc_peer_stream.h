// Copyright 2026 The weft Authors.
//
// PeerStreams (rpc/peer_stream.h) on gRPC's synchronous bidirectional
// streams: the fallback transport when a peer cannot reach the scheduler's
// frame port, and the stream every peer registers on. A gRPC Write blocks,
// so one BatchWriter thread sends (MakeBatchWriter arranges it); reading
// blocks a thread too: the server handler's own, or a client-side reader.

#ifndef WEFT_RPC_GRPC_PEER_STREAM_H_
#define WEFT_RPC_GRPC_PEER_STREAM_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/sync_stream.h"
#include "rpc/peer_stream.h"
#include "rpc/status.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {

// The scheduler's side of a peer's gRPC stream. Serve() reads on the gRPC
// handler's thread that made it, and the handler must close the stream's
// BatchWriter before returning. Close() may come from any thread at any
// time, also after the handler returned (then it does nothing: the call and
// its context are gone).
template <class Out, class In>
class GrpcServerPeerStream final : public PeerStream<Out, In> {
 public:
  using typename PeerStream<Out, In>::MessagesHandler;
  using typename PeerStream<Out, In>::ClosedHandler;

  // Neither is owned; both outlive this object (the handler's frame).
  GrpcServerPeerStream(grpc::ServerContext* context,
                       grpc::ServerReaderWriter<Out, In>* stream)
      : context_(context), stream_(stream), peer_(context->peer()) {}

  bool Send(const Out& message) override { return stream_->Write(message); }

  // gRPC's synchronous Read cannot give up early: `deadline` is not used
  // (the peer's own deadline, or a Close(), ends it).
  bool Read(In& message, absl::Time) override { return stream_->Read(&message); }

  void Serve(MessagesHandler on_messages, ClosedHandler on_closed) override {
    In message;
    while (stream_->Read(&message)) {
      this->DeliverOne(on_messages, message);
      message.Clear();
    }
    {
      internal::MutexLock lock(&mu_);
      ended_ = true;  // from here on the handler may return
    }
    on_closed(status());
  }

  void Close(absl::Duration) override {
    internal::MutexLock lock(&mu_);
    closing_ = true;
    if (!ended_) context_->TryCancel();  // the handler still runs
  }

  absl::Status status() const override {
    if (!ended_) return absl::OkStatus();
    if (closing_) {
      return absl::CancelledError(
          absl::StrCat("weft: the stream to ", peer_, " was closed"));
    }
    return absl::UnavailableError(
        absl::StrCat("weft: the stream was closed by the peer ", peer_));
  }
  bool closed_by_peer() const override { return ended_ && !closing_; }
  bool delivers_on_caller() const override { return false; }
  const char* transport() const override { return "grpc"; }
  std::string peer() const override { return peer_; }

 private:
  grpc::ServerContext* const context_;
  grpc::ServerReaderWriter<Out, In>* const stream_;
  const std::string peer_;
  // Serve() ends under mu_, so a Close() that sees !ended_ cancels a call
  // whose handler has not returned yet.
  internal::Mutex mu_;
  std::atomic<bool> ended_{false};
  std::atomic<bool> closing_{false};
};

// A client's or worker's side of its gRPC stream to the scheduler. Owns the
// call. Serve() reads on a thread of its own.
template <class Out, class In>
class GrpcClientPeerStream final : public PeerStream<Out, In> {
 public:
  using typename PeerStream<Out, In>::MessagesHandler;
  using typename PeerStream<Out, In>::ClosedHandler;
  using Call = grpc::ClientReaderWriter<Out, In>;

  // Takes the call's context and stream (and keeps `channel` alive).
  GrpcClientPeerStream(std::shared_ptr<grpc::Channel> channel,
                       std::unique_ptr<grpc::ClientContext> context,
                       std::unique_ptr<Call> stream, std::string peer)
      : channel_(std::move(channel)),
        context_(std::move(context)),
        stream_(std::move(stream)),
        peer_(std::move(peer)) {}

  // Cancels the call, joins the reader (unless it is this thread) and
  // finishes the call.
  ~GrpcClientPeerStream() override {
    Close(absl::ZeroDuration());
    if (reader_.joinable()) {
      if (reader_.get_id() == std::this_thread::get_id()) {
        reader_.detach();
      } else {
        reader_.join();
      }
    }
    (void)Finish();
  }

  bool Send(const Out& message) override { return stream_->Write(message); }

  // As GrpcServerPeerStream::Read: `deadline` is not used.
  bool Read(In& message, absl::Time) override { return stream_->Read(&message); }

  void Serve(MessagesHandler on_messages, ClosedHandler on_closed) override {
    reader_ = std::thread([this, on_messages = std::move(on_messages),
                           on_closed = std::move(on_closed)]() mutable {
      In message;
      while (stream_->Read(&message)) {
        this->DeliverOne(on_messages, message);
        message.Clear();
      }
      (void)Finish();
      on_closed(status());
    });
  }

  void Close(absl::Duration) override {
    closing_ = true;
    context_->TryCancel();
  }

  // The call's end, as the scheduler gave it (OK until it ended).
  absl::Status status() const override {
    internal::MutexLock lock(&mu_);
    return status_;
  }
  bool closed_by_peer() const override {
    internal::MutexLock lock(&mu_);
    return closed_by_peer_;
  }
  bool delivers_on_caller() const override { return false; }
  const char* transport() const override { return "grpc"; }
  std::string peer() const override { return peer_; }

  // Finishes the call (once) and returns how it ended: the scheduler's
  // status, e.g. UNAUTHENTICATED for a refused token. REQUIRES: nothing
  // reads meanwhile.
  absl::Status Finish() {
    internal::MutexLock lock(&mu_);
    if (!finished_) {
      finished_ = true;
      const absl::Status status = FromGrpc(stream_->Finish());
      closed_by_peer_ = status.ok() && !closing_;
      status_ = !status.ok() ? status
                : closing_   ? absl::CancelledError(absl::StrCat(
                                   "weft: the stream to ", peer_,
                                   " was closed"))
                             : absl::UnavailableError(absl::StrCat(
                                   "weft: the stream was closed by the "
                                   "peer ",
                                   peer_));
    }
    return status_;
  }

 private:
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<grpc::ClientContext> context_;
  const std::unique_ptr<Call> stream_;
  const std::string peer_;
  std::atomic<bool> closing_{false};
  mutable internal::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_by_peer_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread reader_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_GRPC_PEER_STREAM_H_
