// Copyright 2026 The weft Authors.
//
// SlotSet: a set of record slots, kept per range of 32,768 slots (a chunk)
// as a short list of offsets while the chunk holds few of the set, and as
// a 4 KiB bitmap once it holds many. The scheduler keeps one per client:
// the records it holds references to.
//
// Why not absl::flat_hash_set<uint32_t>: a client usually holds most of
// the records it submitted, so its set is as large as the graph, and every
// task's result asks each holding client's set whether it holds the task.
// In a hash set of half a million slots each such question is a cache miss
// into a table of several megabytes; here, for such a client, it is one
// bit of a bitmap that takes 1 bit per slot of its chunks (64 KiB for half
// a million), and insert, erase and contains compute an address instead
// of probing. A client holding few references (each worker's nested client,
// usually) keeps a list of 2-byte offsets per chunk instead, so that a
// reference scattered into a chunk does not cost that chunk's whole bitmap.
//
// Memory: a chunk holding at most kSparseMax slots of the set takes about
// 48 bytes plus 2 bytes a slot; one holding more takes 4 KiB plus those 48
// (it goes back to offsets when it drops to kSparseMax / 2), so never more
// than about 66 bytes a slot held. Plus 8 bytes per chunk of the table up
// to the highest slot the set held (10 million records: 2.4 KB). Chunks
// that empty are freed; Clear() frees all.
//
// Iteration is in ascending slot order.

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
  // A chunk holding more slots of the set than this is a bitmap.
  static constexpr uint32_t kSparseMax = 64;

  SlotSet() = default;
  SlotSet(SlotSet&&) noexcept = default;
  SlotSet& operator=(SlotSet&&) noexcept = default;
  SlotSet(const SlotSet&) = delete;
  SlotSet& operator=(const SlotSet&) = delete;

  // Adds `slot`. Returns whether it was not in the set already.
  bool Insert(uint32_t slot);
  // Removes `slot`. Returns whether it was in the set.
  bool Erase(uint32_t slot);
  bool Contains(uint32_t slot) const;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Removes every slot and frees all memory.
  void Clear();

  // The slots in ascending order.
  std::vector<uint32_t> ToVector() const;

  // Bytes this set holds on the heap (chunks and directory), for tests and
  // accounting.
  size_t HeapBytes() const;

 private:
  static constexpr int kChunkShift = 15;  // 32,768 slots a chunk
  static constexpr uint32_t kChunkMask = (uint32_t{1} << kChunkShift) - 1;
  static constexpr size_t kWords = (size_t{1} << kChunkShift) / 64;

  struct Chunk {
    uint32_t count = 0;                // slots of the set in this chunk
    std::vector<uint16_t> offsets;     // while sparse: unordered
    std::unique_ptr<uint64_t[]> bits;  // once dense: kWords words
  };

  static void MakeDense(Chunk& chunk);
  static void MakeSparse(Chunk& chunk);
  // Calls f(offset) for each bit set in a dense chunk, in ascending order.
  template <class F>
  static void ForEachBit(const Chunk& chunk, F&& f) {
    for (size_t w = 0; w < kWords; ++w) {
      for (uint64_t bits = chunk.bits[w]; bits != 0; bits &= bits - 1) {
        f(static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits)));
      }
    }
  }

  std::vector<std::unique_ptr<Chunk>> chunks_;
  size_t size_ = 0;
};

}  // namespace weft::scheduler::internal

#endif  // WEFT_SCHEDULER_SLOT_SET_H_
