// Copyright 2026 The weft Authors.
//
// The wire format of frame streams (rpc/frame_stream.h), apart from any
// socket: each frame is a 4-byte little-endian length, then that many bytes
// (a serialized protobuf message).
//
// FrameDecoder holds the bytes read so far and cuts whole frames out of
// them. It is what a FrameStream reads through, and what the frame fuzzer
// (fuzz/) drives with arbitrary input.

#ifndef WEFT_RPC_FRAME_CODEC_H_
#define WEFT_RPC_FRAME_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "google/protobuf/message_lite.h"

namespace weft::rpc {

inline constexpr size_t kFrameHeaderBytes = 4;

// Appends `message` as one frame to `out`. REQUIRES: its size fits the
// header (< 4 GiB); callers bound it with their frame limit first.
void AppendFrame(const google::protobuf::MessageLite& message,
                 size_t message_size, std::string& out);

// Not thread-safe: one reader.
class FrameDecoder {
 public:
  FrameDecoder() = default;
  ~FrameDecoder();
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Room for the next read: at least 64 KiB, and all a frame whose header
  // is already here still needs (so a large frame is read in one piece).
  // Valid until the next call of any method.
  absl::Span<char> Room();
  // `n` bytes were written at the start of Room().
  void Commit(size_t n);

  enum class Result {
    kFrame,      // *frame is a whole frame
    kNeedMore,   // no whole frame buffered there yet
    kTooLarge,   // the frame's header announces more than `limit`
  };
  // Looks at the frame starting `offset` bytes into the unconsumed bytes
  // (0: the next one) without consuming it, and sets `*next` to the offset
  // after it. A frame larger than `limit` is kTooLarge before its bytes
  // arrive (nothing is reserved for it). `*frame` stays valid until the
  // next Room() or Release(), so several frames can be looked at and then
  // used together.
  Result Peek(size_t offset, size_t limit, std::string_view* frame,
              size_t* next) const;
  // Consumes `bytes` (whole frames that Peek() walked over).
  void Consume(size_t bytes);
  // Gives a large buffer's pages back if everything was consumed (Room()
  // does so too).
  void Release();

  // The size the next frame's header announces; false if the header has
  // not arrived.
  bool NextSize(size_t* size) const;
  // Bytes buffered and not consumed.
  size_t buffered() const { return end_ - begin_; }

 private:
  // Gives the buffer `capacity` bytes, keeping the unconsumed ones.
  void Resize(size_t capacity);

  // Bytes [begin_, end_) of data_ are unconsumed. A buffer of more than
  // 1 MiB (a large frame) is mapped pages of its own, returned to the
  // system as soon as it is empty.
  char* data_ = nullptr;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_FRAME_CODEC_H_
