// Copyright 2026 The weft Authors.
//
// SlotList: a short list of record or worker slots in 16 bytes, the first
// four inline. The scheduler keeps three per task (inputs, dependents,
// holders); absl::InlinedVector<uint32_t, 4> takes 24 bytes for the same
// four inline values, because it stores its size in a separate word.

#ifndef WEFT_SCHEDULER_SLOT_LIST_H_
#define WEFT_SCHEDULER_SLOT_LIST_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace weft::scheduler::internal {

// A vector of uint32_t values below kMaxValue (slots: the top values are
// used as markers). Up to four live inline; more move to the heap. Order is
// kept. Not thread-safe.
class SlotList {
 public:
  using value_type = uint32_t;
  using iterator = uint32_t*;
  using const_iterator = const uint32_t*;
  static constexpr uint32_t kMaxValue = 0x7fffffffu;
  static constexpr size_t kInline = 4;

  SlotList() { Clear(); }
  SlotList(const SlotList& other);
  SlotList& operator=(const SlotList& other);
  SlotList(SlotList&& other) noexcept;
  SlotList& operator=(SlotList&& other) noexcept;
  ~SlotList();

  size_t size() const {
    if (on_heap()) return words_[1];
    size_t n = 0;
    while (n < kInline && words_[n] != kEmpty) ++n;
    return n;
  }
  bool empty() const {
    return on_heap() ? words_[1] == 0 : words_[0] == kEmpty;
  }

  uint32_t* begin() { return data(); }
  uint32_t* end() { return data() + size(); }
  const uint32_t* begin() const { return data(); }
  const uint32_t* end() const { return data() + size(); }
  uint32_t& operator[](size_t i) { return data()[i]; }
  uint32_t operator[](size_t i) const { return data()[i]; }
  uint32_t back() const { return data()[size() - 1]; }

  // REQUIRES: value <= kMaxValue.
  void push_back(uint32_t value);
  // REQUIRES: !empty().
  void pop_back();
  // Removes the element at `it`, keeping the order of the rest.
  void erase(uint32_t* it);
  void clear();

 private:
  static constexpr uint32_t kEmpty = 0xffffffffu;  // an unused inline word
  static constexpr uint32_t kHeap = 0xfffffffeu;   // words_[0] when on heap

  // Heap mode: words_ = {kHeap, size, pointer (two words)}; the block holds
  // its capacity, then the values.
  bool on_heap() const { return words_[0] == kHeap; }
  uint32_t* block() const {
    uint32_t* p;
    std::memcpy(&p, &words_[2], sizeof(p));
    return p;
  }
  void set_block(uint32_t* p) { std::memcpy(&words_[2], &p, sizeof(p)); }
  uint32_t* data() { return on_heap() ? block() + 1 : words_; }
  const uint32_t* data() const { return on_heap() ? block() + 1 : words_; }
  void Clear() {
    for (uint32_t& w : words_) w = kEmpty;
  }

  alignas(8) uint32_t words_[4];
};

}  // namespace weft::scheduler::internal

#endif  // WEFT_SCHEDULER_SLOT_LIST_H_
