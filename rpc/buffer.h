// Copyright 2026 The weft Authors.
//
// Buffer: an object's serialized bytes, immutable and shared by reference,
// in ordinary memory (the heap, or a PageBlock when large) or in a
// SharedRegion; and BufferBuilder, the room they are written into first.
//
//   BufferBuilder room = BufferBuilder::Allocate(size, /*shared=*/true);
//   std::memcpy(room.data(), bytes, size);      // or serialize in place
//   Buffer buffer = std::move(room).Finish();    // sealed, read-only
//   std::string_view view = buffer.view();       // valid while `buffer` is
//
// Bytes that arrive from a peer go into room reserved for them, which
// takes memory only as they come (Reserve, Append).

#ifndef WEFT_RPC_BUFFER_H_
#define WEFT_RPC_BUFFER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rpc/page_block.h"
#include "rpc/shared_region.h"

namespace weft::rpc {

// Copies share the bytes (a reference count); the bytes live as long as any
// copy, so a reader keeps what it holds even after the object is released.
// Const methods are thread-safe; a Buffer object itself is a value like
// std::shared_ptr.
class Buffer {
 public:
  // Empty.
  Buffer() = default;
  // Takes `bytes` into ordinary memory.
  explicit Buffer(std::string bytes);
  // The bytes of a sealed or opened region, which the buffer keeps mapped.
  // REQUIRES: region != nullptr && !region->writable().
  explicit Buffer(std::unique_ptr<SharedRegion> region);
  // The bytes of `block`, which the buffer keeps. REQUIRES: block != nullptr.
  explicit Buffer(std::unique_ptr<PageBlock> block);

  Buffer(const Buffer&) = default;
  Buffer& operator=(const Buffer&) = default;
  // Leaves `other` empty.
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&& other) noexcept;

  const char* data() const { return view_.data(); }
  size_t size() const { return view_.size(); }
  bool empty() const { return view_.empty(); }
  std::string_view view() const { return view_; }

  // The shared-memory region holding the bytes, or nullptr when they are
  // in ordinary memory. Valid as long as this buffer.
  const SharedRegion* region() const { return region_; }

 private:
  std::shared_ptr<const void> owner_;  // keeps view_ (and region_) alive
  std::string_view view_;
  const SharedRegion* region_ = nullptr;
};

// `size` writable bytes that become a Buffer. Move-only; not thread-safe.
class BufferBuilder {
 public:
  // Room for `size` bytes: in a new shared region when `shared` and size is
  // at least kSharedMinBytes and a region can be made (any failure, such as
  // no memory or descriptors left, falls back quietly), otherwise in
  // ordinary memory: a PageBlock when at least kPageBlockMinBytes, else the
  // heap. Zero-filled. May throw std::bad_alloc.
  static BufferBuilder Allocate(size_t size, bool shared);
  // Room for `size` bytes in ordinary memory, as Allocate(size, false), but
  // a large one's bytes are not cleared first: their values are
  // unspecified (PageBlock::CreateForOverwrite). May throw std::bad_alloc.
  // REQUIRES: every byte is written before Finish() or TakeString().
  static BufferBuilder AllocateForOverwrite(size_t size);
  // Room for `size` bytes that arrive in pieces from a peer (a fetch, a
  // store), written with Append: memory is committed as they come, never
  // for more than about twice the bytes appended (kSharedMinBytes at
  // least), so a peer that announces a terabyte and sends nothing costs
  // address space, not memory. In a shared region when `shared` (as
  // Allocate), else in ordinary memory. Errors: ResourceExhausted (no
  // address space for `size`, or over the process's limits), never an
  // exception.
  static absl::StatusOr<BufferBuilder> Reserve(size_t size, bool shared);

  BufferBuilder(BufferBuilder&&) = default;
  BufferBuilder& operator=(BufferBuilder&&) = default;

  // Copies `bytes` after those appended so far, committing memory for them
  // first. Errors: OutOfRange (more than size() bytes in all; nothing is
  // written), ResourceExhausted (no memory for them).
  absl::Status Append(std::string_view bytes);
  // The bytes appended so far.
  size_t filled() const { return filled_; }

  char* data();
  size_t size() const;
  bool in_shared_memory() const { return region_ != nullptr; }

  // The bytes, now immutable. A region the kernel refuses to seal is copied
  // into ordinary memory instead. REQUIRES: for a builder made by Reserve,
  // filled() == size().
  Buffer Finish() &&;
  // The bytes as a string (one copy when in shared memory).
  std::string TakeString() &&;

 private:
  // How a new builder's room is taken: zero-filled (Allocate), left as it
  // is (AllocateForOverwrite), or reserved and committed as bytes are
  // appended (Reserve).
  enum class Room { kCleared, kForOverwrite, kReserved };

  BufferBuilder() = default;
  // The one place the kind of memory is chosen, for the three makers above.
  // Errors: ResourceExhausted (no memory or address space for `size`).
  static absl::StatusOr<BufferBuilder> Make(size_t size, bool shared,
                                            Room room);

  std::unique_ptr<SharedRegion> region_;  // set when in shared memory
  std::unique_ptr<PageBlock> block_;      // set when large and private
  std::string string_;                    // otherwise
  size_t filled_ = 0;                     // see filled()
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_BUFFER_H_
