// Copyright 2026 The weft Authors.
//
// This process's heap as its allocator keeps it: jemalloc in the default
// build (//third_party:malloc), glibc's malloc under sanitizers and with
// --define=weft_malloc=system. jemalloc's control interface is looked up
// weakly, so code that links either allocator calls the same functions.

#ifndef WEFT_RPC_HEAP_H_
#define WEFT_RPC_HEAP_H_

#include <cstdint>

namespace weft::rpc {

// Bytes of the heap allocated and not yet freed (jemalloc's
// stats.allocated, refreshed), after the calling thread's cache of freed
// blocks is flushed so that they no longer count. Returns -1 when the
// allocator is not jemalloc: glibc's malloc has no such count that is
// cheap and exact. Thread-safe; costs microseconds and disturbs the calling
// thread's cache: for measurements, not for hot paths.
int64_t LiveHeapBytes();

// Gives the pages of freed memory back to the system: a purge of every
// jemalloc arena, or malloc_trim(0) under glibc's malloc. Without it the
// allocator keeps them resident for reuse, and a process that freed a large
// batch looks as big as at its peak. Thread-safe; costs a few milliseconds,
// so call it only after large frees.
void ReturnFreedMemory();

}  // namespace weft::rpc

#endif  // WEFT_RPC_HEAP_H_
