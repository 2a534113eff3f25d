// Copyright 2026 The weft Authors.

#include "fuzz/alloc_meter.h"

#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(WEFT_SANITIZER)
// The sanitizers' allocator interface (clang's
// <sanitizer/allocator_interface.h>; gcc ships no such header, but its
// runtimes export the same functions).
extern "C" {
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void*, size_t),
    void (*free_hook)(const volatile void*));
size_t __sanitizer_get_allocated_size(const volatile void* p);
}
#endif

namespace weft::fuzz {
namespace {

struct Counts {
  bool on;
  int64_t live;
  int64_t peak;
  uint64_t total;
};
// Plain data: usable from allocation hooks before any constructor runs.
__attribute__((tls_model("initial-exec"))) thread_local Counts counts;

void Allocated(size_t n) {
  if (!counts.on) return;
  counts.live += static_cast<int64_t>(n);
  counts.total += n;
  if (counts.live > counts.peak) counts.peak = counts.live;
}

void Freed(size_t n) {
  if (counts.on) counts.live -= static_cast<int64_t>(n);
}

#if defined(WEFT_SANITIZER)
void OnMalloc(const volatile void*, size_t size) { Allocated(size); }
void OnFree(const volatile void* p) {
  if (counts.on && p != nullptr) {
    Freed(__sanitizer_get_allocated_size(p));
  }
}

[[maybe_unused]] const int installed =
    __sanitizer_install_malloc_and_free_hooks(OnMalloc, OnFree);
#endif

}  // namespace

AllocMeter::AllocMeter() { counts = Counts{true, 0, 0, 0}; }
AllocMeter::~AllocMeter() { counts.on = false; }
size_t AllocMeter::peak_bytes() const {
  return static_cast<size_t>(counts.peak);
}
size_t AllocMeter::total_bytes() const { return counts.total; }

}  // namespace weft::fuzz

#if !defined(WEFT_SANITIZER)
// Without a sanitizer's hooks: every global operator new and delete,
// counting the usable size of each block.
namespace {

void* Allocate(size_t n, size_t align, bool nothrow) {
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(n)
                : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) {
    if (nothrow) return nullptr;
    throw std::bad_alloc();
  }
  weft::fuzz::Allocated(malloc_usable_size(p));
  return p;
}

void Release(void* p) noexcept {
  if (p == nullptr) return;
  weft::fuzz::Freed(malloc_usable_size(p));
  std::free(p);
}

constexpr size_t kPlain = alignof(std::max_align_t);

}  // namespace

void* operator new(size_t n) { return Allocate(n, kPlain, false); }
void* operator new[](size_t n) { return Allocate(n, kPlain, false); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return Allocate(n, kPlain, true);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return Allocate(n, kPlain, true);
}
void* operator new(size_t n, std::align_val_t a) {
  return Allocate(n, static_cast<size_t>(a), false);
}
void* operator new[](size_t n, std::align_val_t a) {
  return Allocate(n, static_cast<size_t>(a), false);
}
void* operator new(size_t n, std::align_val_t a,
                   const std::nothrow_t&) noexcept {
  return Allocate(n, static_cast<size_t>(a), true);
}
void* operator new[](size_t n, std::align_val_t a,
                     const std::nothrow_t&) noexcept {
  return Allocate(n, static_cast<size_t>(a), true);
}
void operator delete(void* p) noexcept { Release(p); }
void operator delete[](void* p) noexcept { Release(p); }
void operator delete(void* p, size_t) noexcept { Release(p); }
void operator delete[](void* p, size_t) noexcept { Release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { Release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  Release(p);
}
void operator delete(void* p, std::align_val_t) noexcept { Release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { Release(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept {
  Release(p);
}
void operator delete[](void* p, size_t, std::align_val_t) noexcept {
  Release(p);
}
void operator delete(void* p, std::align_val_t,
                     const std::nothrow_t&) noexcept {
  Release(p);
}
void operator delete[](void* p, std::align_val_t,
                       const std::nothrow_t&) noexcept {
  Release(p);
}
#endif
