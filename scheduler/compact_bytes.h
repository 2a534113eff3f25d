// Copyright 2026 The weft Authors.
//
// CompactBytes: an immutable byte string in 16 bytes. The scheduler keeps
// every task's serialized arguments for as long as the task may have to be
// rerun; a std::string spends 32 bytes on the same job.

#ifndef WEFT_SCHEDULER_COMPACT_BYTES_H_
#define WEFT_SCHEDULER_COMPACT_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace weft::scheduler::internal {

// Up to 15 bytes are stored inline; longer strings in one heap block of
// exactly their size. Not thread-safe to assign; const access is.
class CompactBytes {
 public:
  static constexpr size_t kInline = 15;
  // Longer strings are not supported (the scheduler's messages are far
  // smaller).
  static constexpr size_t kMaxSize = 0xffffffffu;

  CompactBytes() { SetInlineSize(0); }
  // REQUIRES: bytes.size() <= kMaxSize.
  explicit CompactBytes(std::string_view bytes);
  CompactBytes(const CompactBytes& other) : CompactBytes(other.view()) {}
  CompactBytes& operator=(const CompactBytes& other);
  CompactBytes(CompactBytes&& other) noexcept;
  CompactBytes& operator=(CompactBytes&& other) noexcept;
  ~CompactBytes() { Free(); }

  std::string_view view() const {
    if (on_heap()) {
      const char* p;
      uint32_t n;
      std::memcpy(&p, bytes_, sizeof(p));
      std::memcpy(&n, bytes_ + 8, sizeof(n));
      return {p, n};
    }
    return {bytes_, static_cast<size_t>(bytes_[kInline])};
  }
  std::string str() const { return std::string(view()); }
  size_t size() const { return view().size(); }
  bool empty() const { return size() == 0; }

 private:
  static constexpr char kHeap = static_cast<char>(0xff);  // bytes_[15]

  bool on_heap() const { return bytes_[kInline] == kHeap; }
  void SetInlineSize(size_t n) { bytes_[kInline] = static_cast<char>(n); }
  void Free();

  // Inline: the bytes, then (last byte) their count. Heap: a pointer, a
  // 32-bit size, and kHeap in the last byte.
  alignas(8) char bytes_[16];
};

}  // namespace weft::scheduler::internal

#endif  // WEFT_SCHEDULER_COMPACT_BYTES_H_
