// Copyright 2026 The weft Authors.
//
// PageBlock: a large block of private, writable memory for one object's
// bytes, mapped straight from the kernel with transparent huge pages asked
// for.
//
// Why not std::string or new char[]: both fault the memory in 4 KiB at a
// time while it is first written (std::string also zero-fills it first).
// For 100 MB that is about 24,000 page faults; on a virtual machine each
// costs microseconds, which made a fresh buffer slower to fill than the
// bytes were to receive from another host. A block asks for 2 MiB pages
// (MADV_HUGEPAGE, honoured when /sys/kernel/mm/transparent_hugepage/enabled
// is "always" or "madvise"): 50 faults per 100 MB, each clearing its page
// while the writer would otherwise wait for the network. Measured on this
// project's 2-vCPU machine, receiving 100 MB over TCP between two network
// namespaces: 88 ms into 4 KiB pages, 54 ms into a block; filling a shared
// region (memfd, whose pages are 4 KiB) first cost 55-120 ms more
// (BENCHMARKS.md, "Cross-host"). The first large block of a process may
// wait while the kernel compacts memory for huge pages.
//
// Used by BufferBuilder (rpc/buffer.h) for large objects that stay in this
// process, such as a worker's copy of an object received from another host.
// Objects that same-host peers map live in a SharedRegion instead.

#ifndef WEFT_RPC_PAGE_BLOCK_H_
#define WEFT_RPC_PAGE_BLOCK_H_

#include <cstddef>
#include <memory>

#include "absl/status/statusor.h"

namespace weft::rpc {

// Objects at least this large get a block of their own; smaller ones are
// cheaper in the heap.
inline constexpr size_t kPageBlockMinBytes = size_t{1} << 20;

// One mapping. Not copyable; its bytes are thread-compatible (the writer
// must hand them over, for example by finishing a BufferBuilder, before
// others read).
class PageBlock {
 public:
  // `size` (> 0) zero-filled bytes. Pages are allocated as they are first
  // written, as for any heap memory. Errors: InvalidArgument (size 0),
  // ResourceExhausted (no address space, or over the process's limits).
  static absl::StatusOr<std::unique_ptr<PageBlock>> Create(size_t size);

  PageBlock(const PageBlock&) = delete;
  PageBlock& operator=(const PageBlock&) = delete;
  // Unmaps the block.
  ~PageBlock();

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  PageBlock(char* data, size_t size) : data_(data), size_(size) {}

  char* const data_;
  const size_t size_;
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_PAGE_BLOCK_H_
