// Copyright 2026 The weft Authors.
//
// FramePeerStream: a PeerStream (rpc/peer_stream.h) on a FrameStream. The
// normal transport between processes: sends on the caller's thread, reads
// on the event loop.

#ifndef WEFT_RPC_FRAME_PEER_STREAM_H_
#define WEFT_RPC_FRAME_PEER_STREAM_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "rpc/frame_stream.h"
#include "rpc/peer_stream.h"

namespace weft::rpc {

template <class Out, class In>
class FramePeerStream final : public PeerStream<Out, In> {
 public:
  using typename PeerStream<Out, In>::MessagesHandler;
  using typename PeerStream<Out, In>::ClosedHandler;

  // Takes a frame stream that is not reading yet.
  explicit FramePeerStream(std::shared_ptr<FrameStream> frames)
      : frames_(std::move(frames)), bad_frame_(std::make_shared<BadFrame>()) {}
  // Ends the stream; a serving stream's handlers still get their close.
  ~FramePeerStream() override { frames_->Shutdown(); }

  bool Send(const Out& message) override { return frames_->Send(message); }

  bool Read(In& message, absl::Time deadline) override {
    return frames_->Read(message, deadline);
  }

  // Parses each frame into an arena, reset after each call of
  // `on_messages`; a frame that is not a valid `In` ends the stream with
  // DataLoss naming the peer. The handlers hold what they use, so they may
  // outlive this object.
  void Serve(MessagesHandler on_messages, ClosedHandler on_closed) override {
    std::weak_ptr<FrameStream> weak = frames_;
    frames_->StartReading(
        [weak, bad = bad_frame_, on_messages = std::move(on_messages),
         arena = std::make_unique<google::protobuf::Arena>(ParseArenaOptions()),
         parsed = std::vector<const In*>()](
            absl::Span<const std::string_view> frames) mutable -> size_t {
          // Parsing into an arena spares a malloc and a free for each
          // submessage and string: Clear() would delete a reused message's
          // singular submessages (an Assignment's task) every time.
          absl::Cleanup reset_after = [&] {
            parsed.clear();
            arena->Reset();  // keeps no block: an idle stream holds none
          };
          for (const std::string_view frame : frames) {
            In* message =
                google::protobuf::Arena::CreateMessage<In>(arena.get());
            if (!message->ParseFromArray(frame.data(),
                                         static_cast<int>(frame.size()))) {
              // What came before still counts.
              if (!parsed.empty()) on_messages(absl::MakeConstSpan(parsed));
              if (std::shared_ptr<FrameStream> stream = weak.lock()) {
                bad->Set(absl::DataLossError(absl::StrCat(
                    "weft: ", stream->peer(),
                    " sent a frame that is not a valid ", In().GetTypeName())));
                stream->Shutdown();
              }
              return frames.size();
            }
            parsed.push_back(message);
          }
          on_messages(absl::MakeConstSpan(parsed));
          return frames.size();
        },
        [bad = bad_frame_,
         on_closed = std::move(on_closed)](const absl::Status& why) mutable {
          const absl::Status bad_frame = bad->Get();
          on_closed(bad_frame.ok() ? why : bad_frame);
        });
  }

  void Close(absl::Duration drain) override { frames_->Shutdown(drain); }
  absl::Status status() const override {
    const absl::Status bad_frame = bad_frame_->Get();
    return bad_frame.ok() ? frames_->status() : bad_frame;
  }
  bool closed_by_peer() const override { return frames_->closed_by_peer(); }
  size_t UnreadBytes() const override { return frames_->UnreadBytes(); }
  bool delivers_on_caller() const override { return true; }
  const char* transport() const override { return "frames"; }
  std::string peer() const override { return frames_->peer(); }

 private:
  // Why the stream was cut for a frame that did not parse (set on the
  // loop, read anywhere).
  class BadFrame {
   public:
    void Set(absl::Status status) {
      internal::MutexLock lock(&mu_);
      status_ = std::move(status);
    }
    absl::Status Get() const {
      internal::MutexLock lock(&mu_);
      return status_;
    }

   private:
    mutable internal::Mutex mu_;
    absl::Status status_ ABSL_GUARDED_BY(mu_);
  };

  // The parse arena's blocks: a few KiB covers a typical batch in one
  // block; a large submission takes blocks of up to 1 MiB.
  static google::protobuf::ArenaOptions ParseArenaOptions() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = size_t{4} << 10;
    options.max_block_size = size_t{1} << 20;
    return options;
  }

  const std::shared_ptr<FrameStream> frames_;
  const std::shared_ptr<BadFrame> bad_frame_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_FRAME_PEER_STREAM_H_
