// Copyright 2026 The weft Authors.

#include "scheduler/slot_set.h"

#include <algorithm>

namespace weft::scheduler::internal {

bool SlotSet::Contains(uint32_t slot) const {
  const size_t c = slot >> kChunkShift;
  if (c >= chunks_.size() || chunks_[c] == nullptr) return false;
  const Chunk& chunk = *chunks_[c];
  const uint32_t offset = slot & kChunkMask;
  if (chunk.bits != nullptr) {
    return (chunk.bits[offset >> 6] >> (offset & 63)) & 1;
  }
  return std::find(chunk.offsets.begin(), chunk.offsets.end(), offset) !=
         chunk.offsets.end();
}

bool SlotSet::Insert(uint32_t slot) {
  const size_t c = slot >> kChunkShift;
  if (c >= chunks_.size()) chunks_.resize(c + 1);
  if (chunks_[c] == nullptr) chunks_[c] = std::make_unique<Chunk>();
  Chunk& chunk = *chunks_[c];
  const uint32_t offset = slot & kChunkMask;
  if (chunk.bits == nullptr) {
    if (std::find(chunk.offsets.begin(), chunk.offsets.end(), offset) !=
        chunk.offsets.end()) {
      return false;
    }
    if (chunk.count < kSparseMax) {
      chunk.offsets.push_back(static_cast<uint16_t>(offset));
      ++chunk.count;
      ++size_;
      return true;
    }
    MakeDense(chunk);
  }
  uint64_t& word = chunk.bits[offset >> 6];
  const uint64_t bit = uint64_t{1} << (offset & 63);
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
  const uint32_t offset = slot & kChunkMask;
  if (chunk.bits != nullptr) {
    uint64_t& word = chunk.bits[offset >> 6];
    const uint64_t bit = uint64_t{1} << (offset & 63);
    if (!(word & bit)) return false;
    word &= ~bit;
    --chunk.count;
    if (chunk.count > 0 && chunk.count <= kSparseMax / 2) MakeSparse(chunk);
  } else {
    auto it = std::find(chunk.offsets.begin(), chunk.offsets.end(), offset);
    if (it == chunk.offsets.end()) return false;
    *it = chunk.offsets.back();  // unordered: swap-remove
    chunk.offsets.pop_back();
    --chunk.count;
  }
  --size_;
  if (chunk.count == 0) chunks_[c].reset();
  return true;
}

void SlotSet::MakeDense(Chunk& chunk) {
  chunk.bits = std::make_unique<uint64_t[]>(kWords);  // zeroed
  for (uint16_t offset : chunk.offsets) {
    chunk.bits[offset >> 6] |= uint64_t{1} << (offset & 63);
  }
  std::vector<uint16_t>().swap(chunk.offsets);
}

void SlotSet::MakeSparse(Chunk& chunk) {
  chunk.offsets.reserve(chunk.count);
  ForEachBit(chunk, [&](uint32_t offset) {
    chunk.offsets.push_back(static_cast<uint16_t>(offset));
  });
  chunk.bits.reset();
}

void SlotSet::Clear() {
  std::vector<std::unique_ptr<Chunk>>().swap(chunks_);
  size_ = 0;
}

std::vector<uint32_t> SlotSet::ToVector() const {
  std::vector<uint32_t> out;
  out.reserve(size_);
  for (size_t c = 0; c < chunks_.size(); ++c) {
    const Chunk* chunk = chunks_[c].get();
    if (chunk == nullptr) continue;
    const uint32_t base = static_cast<uint32_t>(c << kChunkShift);
    if (chunk->bits != nullptr) {
      ForEachBit(*chunk,
                 [&](uint32_t offset) { out.push_back(base + offset); });
    } else {
      const size_t first = out.size();
      for (uint16_t offset : chunk->offsets) out.push_back(base + offset);
      std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
    }
  }
  return out;
}

size_t SlotSet::HeapBytes() const {
  size_t bytes = chunks_.capacity() * sizeof(chunks_[0]);
  for (const auto& chunk : chunks_) {
    if (chunk == nullptr) continue;
    bytes += sizeof(Chunk) + chunk->offsets.capacity() * sizeof(uint16_t);
    if (chunk->bits != nullptr) bytes += kWords * sizeof(uint64_t);
  }
  return bytes;
}

}  // namespace weft::scheduler::internal
