// Copyright 2026 The weft Authors.
//
// `weft cluster start` and `weft cluster stop`: a scheduler on this
// machine and workers here or, with --hosts / --hostfile, on other
// machines over ssh (ipcluster's ssh launcher, dask-ssh).

#ifndef WEFT_TOOLS_CLUSTER_COMMAND_H_
#define WEFT_TOOLS_CLUSTER_COMMAND_H_

#include "tools/cli.h"

namespace weft::cli {

// weft cluster start [-n N] [--port=P] [--host=H] [--nthreads=T]
//                    [--load=LIB]... [--hosts=H1,H2,... | --hostfile=F]
//                    [--ssh=COMMAND] [--ssh-timeout=SECONDS]
//                    [--remote-weft=PATH]
// Starts the scheduler in the background, then N workers: here, or spread
// over the hosts in turn, each started with `ssh HOST` as a detached
// process. Returns 0 once they are started (saying if they did not all
// join within 30 s); 2 with a message naming the host and the reason if
// any host cannot be reached or lacks the weft program or a library, after
// stopping whatever it had started.
int ClusterStart(const Args& args);
// Its flags and --help.
extern const Verb kClusterStartVerb;

// weft cluster stop [--ssh=COMMAND] [--ssh-timeout=SECONDS]: stops the
// workers (SIGTERM, which makes them retire; SIGKILL after 10 s), over
// ssh for remote ones, then the scheduler, and only processes that carry
// this cluster's mark (WEFT_CLUSTER=ID in their environment).
int ClusterStop(const Args& args);
extern const Verb kClusterStopVerb;

}  // namespace weft::cli

#endif  // WEFT_TOOLS_CLUSTER_COMMAND_H_
