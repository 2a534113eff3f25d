// Copyright 2026 The weft Authors.
//
// Bounds on the sizes and counts a worker (or client) reports about itself
// and its objects. The scheduler trusts token holders to be weft, not to
// be right: a report outside these bounds is a bug or a corruption, and is
// clamped or refused (scheduler/report_bounds.h says which) with a line
// naming the reporter, instead of skewing placement or overflowing a sum.
// A worker refuses to start with more threads than the scheduler takes.

#ifndef WEFT_RPC_REPORT_LIMITS_H_
#define WEFT_RPC_REPORT_LIMITS_H_

#include <cstdint>

namespace weft::rpc {

// The most task threads a worker may have (--weft-nthreads, and what it
// registers with): far above the cores of any one machine.
inline constexpr int kMaxWorkerThreads = 4096;

// The largest object a result or a put may announce, and a fetch accepts
// (rpc/data_client.cc: a larger announced size is a corrupt reply, not an
// allocation to attempt): 1 TiB.
inline constexpr uint64_t kMaxObjectBytes = uint64_t{1} << 40;

// The most memory a worker may report using (heartbeats): 1 PiB.
inline constexpr uint64_t kMaxReportedMemoryBytes = uint64_t{1} << 50;

}  // namespace weft::rpc

#endif  // WEFT_RPC_REPORT_LIMITS_H_
