// Copyright 2026 The weft Authors.
//
// AllocMeter: how many heap bytes the calling thread holds at most while a
// meter is running, for fuzz targets that bound what decoding may cost.
// Counts operator new and malloc through the sanitizer's allocation hooks
// under a sanitizer (WEFT_SANITIZER), and through replaced global operator
// new/delete otherwise (malloc is then not counted; weft allocates through
// operator new).

#ifndef WEFT_FUZZ_ALLOC_METER_H_
#define WEFT_FUZZ_ALLOC_METER_H_

#include <cstddef>

namespace weft::fuzz {

// Counts from construction to destruction. Not nestable: one meter per
// thread at a time. Blocks freed during the measurement that were
// allocated before it lower the count (so the peak is never overstated).
class AllocMeter {
 public:
  AllocMeter();
  ~AllocMeter();
  AllocMeter(const AllocMeter&) = delete;
  AllocMeter& operator=(const AllocMeter&) = delete;

  // The most bytes allocated and not yet freed at any moment so far.
  size_t peak_bytes() const;
  // Bytes allocated in all (freed or not).
  size_t total_bytes() const;
};

}  // namespace weft::fuzz

#endif  // WEFT_FUZZ_ALLOC_METER_H_
