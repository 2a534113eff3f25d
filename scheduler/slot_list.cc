// Copyright 2026 The weft Authors.

#include "scheduler/slot_list.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <iterator>
#include <new>
#include <utility>

namespace weft::scheduler::internal {
namespace {

// A heap block: its capacity, then the values.
uint32_t* NewBlock(uint32_t capacity) {
  void* p = std::malloc(sizeof(uint32_t) * (capacity + 1));
  if (p == nullptr) throw std::bad_alloc();
  uint32_t* block = static_cast<uint32_t*>(p);
  block[0] = capacity;
  return block;
}

}  // namespace

SlotList::SlotList(const SlotList& other) {
  Clear();
  *this = other;
}

SlotList& SlotList::operator=(const SlotList& other) {
  if (this == &other) return *this;
  clear();
  if (!other.on_heap()) {
    std::copy(std::begin(other.words_), std::end(other.words_), words_);
    return *this;
  }
  const uint32_t n = other.words_[1];
  if (n <= kInline) {
    std::copy(other.begin(), other.end(), words_);
    return *this;
  }
  uint32_t* block = NewBlock(n);
  std::copy(other.begin(), other.end(), block + 1);
  words_[0] = kHeap;
  words_[1] = n;
  set_block(block);
  return *this;
}

SlotList::SlotList(SlotList&& other) noexcept {
  std::copy(std::begin(other.words_), std::end(other.words_), words_);
  other.Clear();
}

SlotList& SlotList::operator=(SlotList&& other) noexcept {
  if (this != &other) {
    clear();
    std::copy(std::begin(other.words_), std::end(other.words_), words_);
    other.Clear();
  }
  return *this;
}

SlotList::~SlotList() { clear(); }

void SlotList::push_back(uint32_t value) {
  assert(value <= kMaxValue);
  if (!on_heap()) {
    const size_t n = size();
    if (n < kInline) {
      words_[n] = value;
      return;
    }
    // Move the four inline values to a block with room to grow.
    uint32_t* block = NewBlock(2 * kInline);
    std::copy(words_, words_ + kInline, block + 1);
    block[1 + kInline] = value;
    words_[0] = kHeap;
    words_[1] = kInline + 1;
    set_block(block);
    return;
  }
  uint32_t* block = this->block();
  const uint32_t n = words_[1];
  if (n == block[0]) {
    uint32_t* bigger = NewBlock(2 * block[0]);
    std::copy(block + 1, block + 1 + n, bigger + 1);
    std::free(block);
    set_block(bigger);
    block = bigger;
  }
  block[1 + n] = value;
  words_[1] = n + 1;
}

void SlotList::pop_back() {
  if (on_heap()) {
    --words_[1];
  } else {
    words_[size() - 1] = kEmpty;
  }
}

void SlotList::erase(uint32_t* it) {
  uint32_t* last = end();
  std::move(it + 1, last, it);
  pop_back();
}

void SlotList::clear() {
  if (on_heap()) std::free(block());
  Clear();
}

}  // namespace weft::scheduler::internal
