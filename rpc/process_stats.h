// Copyright 2026 The weft Authors.
//
// This process's resource use, for heartbeats, /metrics and benchmarks: CPU
// time and resident memory, read from the kernel (getrusage,
// /proc/PID/statm). Heap figures are in rpc/heap.h.

#ifndef WEFT_RPC_PROCESS_STATS_H_
#define WEFT_RPC_PROCESS_STATS_H_

#include <sys/types.h>

#include <cstdint>

namespace weft::rpc {

// CPU time this process has used so far (user + system, all threads), in
// seconds. Thread-safe.
double ProcessCpuSeconds();

// This process's resident memory in bytes; 0 if /proc cannot say.
// Thread-safe.
uint64_t ProcessRssBytes();

// The resident memory of process `pid` (another one of this machine, such
// as a child a benchmark measures), in bytes; 0 if /proc cannot say (no
// such process, or not allowed to read it). Thread-safe.
uint64_t ProcessRssBytes(pid_t pid);

}  // namespace weft::rpc

#endif  // WEFT_RPC_PROCESS_STATS_H_
