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
// Huge pages, for kept blocks only, given off the writer's path. The
// kernel copies received bytes into a block a page at a time, and with
// 2 MiB pages instead of 4 KiB ones the cross-host fetch ran faster: 100 MB
// between two test hosts (bench/bulk_bench, 60 fetches a run, 6 runs of
// each alternated, 7 December 2026) moved 2,473-2,917 MB/s (run medians)
// before this scheme and 2,759-3,320 with it, 5 runs of 6 faster. But a new
// mapping does not ask for them (MADV_HUGEPAGE), as it once did: with the
// kernel's default defrag setting ("madvise") a fault in such a mapping
// compacts memory on the spot when no 2 MiB page is free, on the writer's
// thread. On a machine that had run for a while (5 December 2026) that made
// a 100 MB fetch take 25-380 ms, median 87, against 47-64 ms without. So a
// block gets its huge pages when it is given back and kept: a thread of its
// own (one per process) drops its pages, faults the range in again with
// huge pages wherever the kernel has them (MADV_POPULATE_WRITE: 11 ms per
// 100 MB here once warm, 55-190 ms the first time in a process), and takes
// the hint away again, so that a page reclaimed later comes back as an
// ordinary one. Meanwhile the block is not handed out; a block still
// waiting for its turn is, as it is. A block keeps its huge pages from one
// use to the next. Where transparent huge pages are off ("never") or the
// kernel predates MADV_POPULATE_WRITE (Linux 5.14), blocks keep ordinary
// pages.
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

  // The bytes of the mappings kept now, in this process, including those
  // being given huge pages. Thread-safe.
  static size_t KeptBytes();
  // Waits until every block kept so far is ready to be handed out (given
  // its huge pages, where they apply): for tests and benchmarks that need
  // a block given back to be reused at once. Thread-safe.
  static void AwaitKept();
  // Whether kept blocks get huge pages here (transparent huge pages not
  // off, and MADV_POPULATE_WRITE known to the kernel). Thread-safe.
  static bool KeptBlocksGetHugePages();
  // Unmaps every kept mapping now, for a process that wants the memory back
  // at once (and for tests, which each start from an empty cache); one
  // being given huge pages is unmapped when that is done, which this waits
  // for. Thread-safe.
  static void DropKept();

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  PageBlock(char* data, size_t size, size_t mapped, bool huge)
      : data_(data), size_(size), mapped_(mapped), huge_(huge) {}
  // Create (clear_kept), CreateForOverwrite and Reserve (no_reserve).
  static absl::StatusOr<std::unique_ptr<PageBlock>> Make(size_t size,
                                                         bool clear_kept,
                                                         bool no_reserve);

  char* const data_;
  const size_t size_;
  const size_t mapped_;  // the mapping's length, >= size_
  const bool huge_;      // given huge pages while kept (or not to be)
};

}  // namespace weft::rpc

#endif  // WEFT_RPC_PAGE_BLOCK_H_
