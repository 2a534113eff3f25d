// Copyright 2026 The weft Authors.

#include "scheduler/memory_trim.h"

#include <malloc.h>

#include <cstddef>

// jemalloc's control call, when jemalloc is the allocator (opt builds).
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp,
                       void* newp, size_t newlen) __attribute__((weak));

namespace weft::scheduler {

void ReturnFreedMemory() {
  if (mallctl != nullptr) {
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);  // all arenas
  } else {
    ::malloc_trim(0);
  }
}

}  // namespace weft::scheduler
