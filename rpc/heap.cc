// Copyright 2026 The weft Authors.

#include "rpc/heap.h"

#include <malloc.h>

#include <cstddef>
#include <cstdint>

// jemalloc's control call, present when jemalloc is the allocator.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp,
                       void* newp, size_t newlen) __attribute__((weak));

namespace weft::rpc {

int64_t LiveHeapBytes() {
  if (mallctl == nullptr) return -1;
  mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
  uint64_t epoch = 1;  // statistics are cached until the epoch advances
  size_t len = sizeof(epoch);
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return -1;
  size_t allocated = 0;
  len = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0) {
    return -1;
  }
  return static_cast<int64_t>(allocated);
}

void ReturnFreedMemory() {
  if (mallctl != nullptr) {
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);  // all arenas
  } else {
    ::malloc_trim(0);
  }
}

}  // namespace weft::rpc
