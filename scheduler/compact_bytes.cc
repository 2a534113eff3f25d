// Copyright 2026 The weft Authors.

#include "scheduler/compact_bytes.h"

#include <cassert>
#include <cstdlib>
#include <new>

namespace weft::scheduler::internal {

CompactBytes::CompactBytes(std::string_view bytes) {
  assert(bytes.size() <= kMaxSize);
  if (bytes.size() <= kInline) {
    std::memcpy(bytes_, bytes.data(), bytes.size());
    SetInlineSize(bytes.size());
    return;
  }
  char* p = static_cast<char*>(std::malloc(bytes.size()));
  if (p == nullptr) throw std::bad_alloc();
  std::memcpy(p, bytes.data(), bytes.size());
  const uint32_t n = static_cast<uint32_t>(bytes.size());
  std::memcpy(bytes_, &p, sizeof(p));
  std::memcpy(bytes_ + 8, &n, sizeof(n));
  bytes_[kInline] = kHeap;
}

CompactBytes& CompactBytes::operator=(const CompactBytes& other) {
  if (this != &other) *this = CompactBytes(other);
  return *this;
}

CompactBytes::CompactBytes(CompactBytes&& other) noexcept {
  std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
  other.SetInlineSize(0);
}

CompactBytes& CompactBytes::operator=(CompactBytes&& other) noexcept {
  if (this != &other) {
    Free();
    std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
    other.SetInlineSize(0);
  }
  return *this;
}

void CompactBytes::Free() {
  if (on_heap()) {
    char* p;
    std::memcpy(&p, bytes_, sizeof(p));
    std::free(p);
  }
  SetInlineSize(0);
}

}  // namespace weft::scheduler::internal
