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
// Why blocks are kept: a fresh mapping is faulted in as it is first
// written, which for 100 MB took about 40 ms on this machine, while
// clearing the same bytes already mapped took 4. A block of at least
// kPageBlockKeepMinBytes given back is kept mapped (up to
// kPageBlockKeepMaxBlocks blocks and kPageBlockKeepMaxBytes in all, the
// kernel free to reclaim their pages under memory pressure: MADV_FREE), and
// the next block of between half and all of its size reuses it. A worker
// that receives objects of similar sizes over and over (a parameter sweep,
// a bootstrap) then pays the faults once. Clearing a kept block is itself a
// pass over its pages (6-9 ms per 100 MB here, after MADV_FREE), so a
// writer that fills every byte anyway, such as the cross-host fetch, asks
// for one not cleared (CreateForOverwrite).
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
// Blocks at least this large are kept for reuse when given back, at most
// kPageBlockKeepMaxBlocks of them and kPageBlockKeepMaxBytes in all.
inline constexpr size_t kPageBlockKeepMinBytes = size_t{8} << 20;
inline constexpr size_t kPageBlockKeepMaxBlocks = 4;
inline constexpr size_t kPageBlockKeepMaxBytes = size_t{256} << 20;

// One mapping. Not copyable; its bytes are thread-compatible (the writer
// must hand them over, for example by finishing a BufferBuilder, before
// others read).
class PageBlock {
 public:
  // `size` (> 0) zero-filled bytes: a kept block's mapping if one fits
  // (cleared here), else a new mapping whose pages are allocated as they
  // are first written. Errors: InvalidArgument (size 0), ResourceExhausted
  // (no address space, or over the process's limits). Thread-safe.
  static absl::StatusOr<std::unique_ptr<PageBlock>> Create(size_t size);
  // As Create, but a kept block is not cleared: the bytes' values are
  // unspecified (another block's old bytes, or zeros). For a writer that
  // fills every byte before anyone reads them, such as a fetch that fails
  // whole unless all bytes arrive: it saves the clearing pass (above)
  // before the first byte can land. Errors and thread-safety as Create's.
  // REQUIRES: every byte is written before the block is read or handed on.
  static absl::StatusOr<std::unique_ptr<PageBlock>> CreateForOverwrite(
      size_t size);
  // As CreateForOverwrite, but a new mapping reserves no memory (no swap
  // or commit charge: MAP_NORESERVE), for bytes that arrive over time from
  // a peer that may never send them all: a size larger than the machine's
  // memory is not refused here, and only the pages written cost memory.
  // Errors and thread-safety as Create's. REQUIRES as CreateForOverwrite's.
  static absl::StatusOr<std::unique_ptr<PageBlock>> Reserve(size_t size);

  PageBlock(const PageBlock&) = delete;
  PageBlock& operator=(const PageBlock&) = delete;
  // Keeps the block's mapping for reuse if it qualifies (above), else
  // unmaps it.
  ~PageBlock();

  // The bytes of the mappings kept now, in this process. Thread-safe.
  static size_t KeptBytes();
  // Unmaps every kept mapping now, for a process that wants the memory back
  // at once (and for tests, which each start from an empty cache).
  // Thread-safe.
  static void DropKept();

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  PageBlock(char* data, size_t size, size_t mapped)
      : data_(data), size_(size), mapped_(mapped) {}
  // Create (clear_kept), CreateForOverwrite and Reserve (no_reserve).
  static absl::StatusOr<std::unique_ptr<PageBlock>> Make(size_t size,
                                                         bool clear_kept,
                                                         bool no_reserve);

  char* const data_;
  const size_t size_;
  const size_t mapped_;  // the mapping's length, >= size_
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_PAGE_BLOCK_H_
