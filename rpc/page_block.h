// Copyright 2026 The weft Authors.
//
// PageBlock: a large block of private, writable memory for one object's
// bytes, mapped straight from the kernel.
//
// Why not std::string: it zero-fills the whole buffer before the first byte
// can be written, an extra pass over 100 MB; a block's pages are cleared by
// the kernel as the writer first touches them, while it would otherwise
// wait for the network. A shared region (memfd) costs more again: filling
// one first cost 55-120 ms per 100 MB on this project's 2-vCPU machine
// (BENCHMARKS.md, "Cross-host").
//
// Why no transparent huge pages (MADV_HUGEPAGE), which the block once asked
// for: with the kernel's default defrag setting ("madvise"), a fault in such
// a mapping compacts memory on the spot when no 2 MiB page is free, and on
// a machine that has run for a while that is most of them. Receiving 100 MB
// between two test hosts (bench/crosshost.sh, 30 fetches each, 5 December
// 2026) took 25-380 ms, median 87 and upper quartile 284, with the hint,
// and 47-64 ms, median 53, without it.
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
