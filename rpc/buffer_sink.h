// Copyright 2026 The weft Authors.
//
// BufferSink: a ResultSink that encodes a value straight into a Buffer's
// room, in shared memory when it is large (so a same-host peer maps it and
// nothing is copied on the way), else in ordinary memory.

#ifndef WEFT_RPC_BUFFER_SINK_H_
#define WEFT_RPC_BUFFER_SINK_H_

#include <optional>
#include <utility>

#include "rpc/buffer.h"
#include "weft/internal/wire.h"

namespace weft::rpc {

// Not thread-safe; one value per sink.
class BufferSink final : public internal::ResultSink {
 public:
  // `shared_memory`: large values go to a shared region (see
  // BufferBuilder::Allocate).
  explicit BufferSink(bool shared_memory) : shared_memory_(shared_memory) {}

  char* Allocate(size_t size) override {
    room_.emplace(BufferBuilder::Allocate(size, shared_memory_));
    return room_->data();
  }

  // The encoded value, immutable from now on (empty if none was written).
  Buffer Finish() {
    if (!room_.has_value()) return Buffer();
    Buffer done = std::move(*room_).Finish();
    room_.reset();
    return done;
  }

 private:
  const bool shared_memory_;
  std::optional<BufferBuilder> room_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_BUFFER_SINK_H_
