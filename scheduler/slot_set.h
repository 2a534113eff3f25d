// Copyright 2026 The weft Authors.
//
// SlotSet: a set of record slots as a bitmap in 4 KiB chunks, made when a
// slot in their range is added and freed when their last one goes. The
// scheduler keeps one per client: the records it holds references to.
//
// Why not absl::flat_hash_set<uint32_t>: a client usually holds most of
// the records it submitted, so its set is as large as the graph, and every
// task's result asks each holding client's set whether it holds the task.
// In a hash set of half a million slots each such question is a cache miss
// into a table of several megabytes; here it is one bit of a bitmap that
// takes 1 bit per slot of the chunks in use (64 KiB for half a million),
// and insert, erase and contains compute an address instead of probing.
// Iteration is in ascending slot order.
//
// Memory: 4 KiB per chunk of 32,768 slots with at least one slot in the
// set, plus 8 bytes per chunk up to the highest slot ever added (the
// directory; Clear() frees it). So a set of one slot costs about 4 KiB, and
// a set holding one slot in every chunk of a 10-million-record table about
// 1.3 MB: never more than 1 bit per record of the table plus the directory.

#ifndef WEFT_SCHEDULER_SLOT_SET_H_
#define WEFT_SCHEDULER_SLOT_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace weft::scheduler::internal {

// A set of uint32_t slots. Not thread-safe.
class SlotSet {
 public:
  SlotSet() = default;
  SlotSet(SlotSet&&) noexcept = default;
  SlotSet& operator=(SlotSet&&) noexcept = default;
  SlotSet(const SlotSet&) = delete;
  SlotSet& operator=(const SlotSet&) = delete;

  // Adds `slot`. Returns whether it was not in the set already.
  bool Insert(uint32_t slot);
  // Removes `slot`. Returns whether it was in the set.
  bool Erase(uint32_t slot);
  bool Contains(uint32_t slot) const {
    const size_t c = slot >> kChunkShift;
    if (c >= chunks_.size() || chunks_[c] == nullptr) return false;
    return (chunks_[c]->words[(slot & kChunkMask) >> 6] >> (slot & 63)) & 1;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Removes every slot and frees all memory.
  void Clear();

  // Calls f(slot) for each slot in ascending order. REQUIRES: f does not
  // change this set.
  template <class F>
  void ForEach(F&& f) const {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const Chunk* chunk = chunks_[c].get();
      if (chunk == nullptr) continue;
      for (size_t w = 0; w < kWordsPerChunk; ++w) {
        for (uint64_t bits = chunk->words[w]; bits != 0; bits &= bits - 1) {
          f(static_cast<uint32_t>((c << kChunkShift) + w * 64 +
                                  __builtin_ctzll(bits)));
        }
      }
    }
  }
  // The slots in ascending order.
  std::vector<uint32_t> ToVector() const;

 private:
  static constexpr int kChunkShift = 15;  // 32,768 slots, 4 KiB a chunk
  static constexpr uint32_t kChunkMask = (uint32_t{1} << kChunkShift) - 1;
  static constexpr size_t kWordsPerChunk = (size_t{1} << kChunkShift) / 64;

  struct Chunk {
    uint64_t words[kWordsPerChunk] = {};
    uint32_t count = 0;  // slots set in this chunk
  };

  std::vector<std::unique_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace weft::scheduler::internal

#endif  // WEFT_SCHEDULER_SLOT_SET_H_
