// Copyright 2026 The weft Authors.
//
// The symmetric start under SLURM: `srun ./my_program --weft-slurm` runs the
// same program as every task of a step. weft::Init makes task 0
// (SLURM_PROCID=0) the cluster's head: it starts a scheduler process and a
// worker for its own CPUs, connects, waits for every task's worker and
// returns to main(); every other task becomes a worker and never returns.
// The scheduler's address and token pass through the step's directory on
// the shared file system (rpc/cluster_files.h: the state directory's
// step-STEPID/). See docs/deploy.md.

#ifndef WEFT_CORE_SLURM_START_H_
#define WEFT_CORE_SLURM_START_H_

namespace weft::internal {

// If the process was started with --weft-slurm (or WEFT_SLURM=1 in its
// environment), takes the role its SLURM task has: on task 0 returns once
// the cluster is up, with its client the default (Client::Current()) and
// WEFT_SCHEDULER and WEFT_TOKEN set so that Client::Connect() with no
// arguments reaches it too; on
// the other tasks runs a worker until the scheduler stops it and exits
// with its status. Also runs the scheduler process that task 0 starts
// (the hidden --weft-slurm-scheduler), which exits when task 0 does.
// Removes these flags and --weft-slurm-timeout=SECONDS (how long task 0
// waits for the workers and the workers for the scheduler; 60 s unless
// given) from argv. Does nothing without them. Exits with status 2 and a
// message if the process is not a task of a SLURM step, and with status 1
// and a message if the cluster does not come up in time.
void StartSlurmStepIfAsked(int& argc, char** argv);

}  // namespace weft::internal

#endif  // WEFT_CORE_SLURM_START_H_
