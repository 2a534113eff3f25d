// Copyright 2026 The weft Authors.
//
// `weft slurm`: a scheduler here and its workers as SLURM jobs (dask-
// jobqueue's SLURMCluster, from the shell).

#ifndef WEFT_TOOLS_SLURM_COMMAND_H_
#define WEFT_TOOLS_SLURM_COMMAND_H_

#include "tools/cli.h"

namespace weft::cli {

// weft slurm [-n N | --adapt=MIN:MAX] [--cores=C] [--memory=M]
//            [--walltime=T] [--partition=P] [--account=A] [--job-name=J]
//            [--directive=OPTION]... [--prologue=LINE]... [--load=LIB]...
//            [--directory=D] [--poll=SECONDS] and `weft scheduler`'s
//            flags (--host defaults to every interface)
// Runs a scheduler (token and scheduler files as `weft scheduler` writes
// them), keeps N worker jobs (or between MIN and MAX, as the queue calls
// for), each `weft worker --load=...` with C threads, until SIGTERM or
// SIGINT; then cancels its jobs and stops. Returns 0; Die()s on bad flags
// or if the scheduler cannot start.
int SlurmCommand(const Args& args);
// Its flags and --help.
extern const Verb kSlurmVerb;

}  // namespace weft::cli

#endif  // WEFT_TOOLS_SLURM_COMMAND_H_
