// Copyright 2026 The weft Authors.

#include "scheduler/slot_set.h"

namespace weft::scheduler::internal {

bool SlotSet::Insert(uint32_t slot) {
  const size_t c = slot >> kChunkShift;
  if (c >= chunks_.size()) chunks_.resize(c + 1);
  if (chunks_[c] == nullptr) chunks_[c] = std::make_unique<Chunk>();
  Chunk& chunk = *chunks_[c];
  uint64_t& word = chunk.words[(slot & kChunkMask) >> 6];
  const uint64_t bit = uint64_t{1} << (slot & 63);
  if (word & bit) return false;
  word |= bit;
  ++chunk.count;
  ++size_;
  return true;
}

bool SlotSet::Erase(uint32_t slot) {
  const size_t c = slot >> kChunkShift;
  if (c >= chunks_.size() || chunks_[c] == nullptr) return false;
  Chunk& chunk = *chunks_[c];
  uint64_t& word = chunk.words[(slot & kChunkMask) >> 6];
  const uint64_t bit = uint64_t{1} << (slot & 63);
  if (!(word & bit)) return false;
  word &= ~bit;
  --size_;
  if (--chunk.count == 0) chunks_[c].reset();
  return true;
}

void SlotSet::Clear() {
  std::vector<std::unique_ptr<Chunk>>().swap(chunks_);
  size_ = 0;
}

std::vector<uint32_t> SlotSet::ToVector() const {
  std::vector<uint32_t> out;
  out.reserve(size_);
  ForEach([&](uint32_t s) { out.push_back(s); });
  return out;
}

}  // namespace weft::scheduler::internal
