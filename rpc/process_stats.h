// Copyright 2026 The weft Authors.
//
// This process's resource use, for heartbeats and /metrics: CPU time and
// resident memory, read from the kernel (getrusage, /proc/self/statm).

#ifndef WEFT_RPC_PROCESS_STATS_H_
#define WEFT_RPC_PROCESS_STATS_H_

#include <cstdint>

namespace weft::rpc {

// CPU time this process has used so far (user + system, all threads), in
// seconds. Thread-safe.
double ProcessCpuSeconds();

// This process's resident memory in bytes; 0 if /proc cannot say.
// Thread-safe.
uint64_t ProcessRssBytes();

}  // namespace weft::rpc

#endif  // WEFT_RPC_PROCESS_STATS_H_
