// Copyright 2026 The weft Authors.
//
// What LocalCluster and SlurmCluster share: a client of a scheduler that
// runs in this process.

#ifndef WEFT_CORE_CLUSTER_INTERNAL_H_
#define WEFT_CORE_CLUSTER_INTERNAL_H_

#include <string>

#include "scheduler/scheduler_service.h"
#include "weft/client.h"

namespace weft::internal {

// A client of `server` (in this process) that reaches it by function call
// (rpc/local_link.h), presenting `token`; made the default client. Throws
// UsageError if it cannot register.
Client ConnectInProcess(scheduler::SchedulerServer& server,
                        const std::string& token);

}  // namespace weft::internal

#endif  // WEFT_CORE_CLUSTER_INTERNAL_H_
