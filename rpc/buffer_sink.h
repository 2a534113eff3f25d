// Copyright 2026 The weft Authors.
//
// BufferSink: a ResultSink that encodes a value straight into a Buffer's
// room, in shared memory when it is large (so a same-host peer maps it and
// nothing is copied on the way), else in ordinary memory.

#ifndef WEFT_RPC_BUFFER_SINK_H_
#define WEFT_RPC_BUFFER_SINK_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "rpc/buffer.h"
#include "weft/internal/wire.h"

namespace weft::rpc {

// Not thread-safe; one value per sink.
class BufferSink final : public internal::ResultSink,
                         private internal::RefCollector {
 public:
  // Called once the value is written, with the ids of the objects it
  // references (ObjectRefs inside it), while the value still holds them.
  using OnWritten = absl::AnyInvocable<void(const std::vector<uint64_t>&)>;

  // `shared_memory`: large values go to a shared region (see
  // BufferBuilder::Allocate). `on_written`, if set, is called only when the
  // value holds references.
  explicit BufferSink(bool shared_memory, OnWritten on_written = nullptr)
      : shared_memory_(shared_memory), on_written_(std::move(on_written)) {}

  char* Allocate(size_t size) override {
    room_.emplace(BufferBuilder::Allocate(size, shared_memory_));
    return room_->data();
  }
  internal::RefCollector* refs() override { return this; }
  void Written() override {
    if (!contained_.empty() && on_written_) on_written_(contained_);
  }

  // The encoded value, immutable from now on (empty if none was written).
  Buffer Finish() {
    if (!room_.has_value()) return Buffer();
    Buffer done = std::move(*room_).Finish();
    room_.reset();
    return done;
  }

  // The objects the value references, in the order written (may repeat).
  const std::vector<uint64_t>& contained() const { return contained_; }

 private:
  void Add(uint64_t id) override { contained_.push_back(id); }

  const bool shared_memory_;
  OnWritten on_written_;
  std::optional<BufferBuilder> room_;
  std::vector<uint64_t> contained_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_BUFFER_SINK_H_
