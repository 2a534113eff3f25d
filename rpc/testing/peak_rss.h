// Copyright 2026 The weft Authors.
//
// The peak of this process's resident memory, for tests that show what a
// step costs in memory (not how fast it is):
//
//   ASSERT_TRUE(ResetPeakRss());
//   ... the step ...
//   EXPECT_LT(PeakRssBytes() - before, kBound);
//
// Linux only: /proc/self/status's VmHWM, reset by writing 5 to
// /proc/self/clear_refs (Linux 4.0 and later). Resident memory counts the
// pages of private and shared mappings this process has touched or
// populated, including shared memory (memfd) mapped here.

#ifndef WEFT_RPC_TESTING_PEAK_RSS_H_
#define WEFT_RPC_TESTING_PEAK_RSS_H_

#include <cstdint>
#include <fstream>
#include <string>

namespace weft::rpc::testing {

// Makes the peak the current resident size. Returns false if the kernel
// does not allow it (the caller should skip, saying so).
inline bool ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

// A size field of /proc/self/status ("VmHWM:"), in bytes; 0 if /proc
// cannot say. (The resident size now is rpc::ProcessRssBytes(), in
// rpc/process_stats.h.)
inline uint64_t StatusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == field) {
      uint64_t kib = 0;
      status >> kib;
      return kib * 1024;
    }
    std::getline(status, key);
  }
  return 0;
}

// The peak resident size since the process started or ResetPeakRss(), in
// bytes; 0 if /proc cannot say.
inline uint64_t PeakRssBytes() { return StatusBytes("VmHWM:"); }

}  // namespace weft::rpc::testing

#endif  // WEFT_RPC_TESTING_PEAK_RSS_H_
