// Copyright 2026 The weft Authors.
//
// What SLURM tells a process about its job and task: the environment
// variables slurmd sets for a batch script and srun sets for each task of a
// step (sbatch(1) and srun(1), "OUTPUT ENVIRONMENT VARIABLES"). weft reads
// them to keep the files of different jobs apart (rpc/cluster_files.h), to
// give a worker the CPUs of its allocation, and to choose roles in a
// symmetric start (`srun ./my_program --weft-slurm`, docs/deploy.md).
//
//   absl::StatusOr<std::optional<SlurmTask>> task = CurrentSlurmTask();
//   if (task.ok() && task->has_value()) threads = (*task)->cpus;
//
// Thread-safety: the functions only read the environment (getenv), which
// is safe as long as no thread changes it at the same time.

#ifndef WEFT_DEPLOY_SLURM_ENV_H_
#define WEFT_DEPLOY_SLURM_ENV_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace weft::deploy {

// Environment variables by name (a test's stand-in for the process's own).
using EnvMap = std::map<std::string, std::string>;

// The job, and the task within it, that a process belongs to.
struct SlurmTask {
  // SLURM_JOB_ID: the job (digits).
  std::string job_id;
  // SLURM_STEP_ID: the step, for a task started by srun; nullopt in the
  // batch script itself (and in processes it starts without srun).
  std::optional<std::string> step_id;
  // SLURM_PROCID: the task's rank in its step, 0 ... ntasks - 1 (0 in the
  // batch script).
  int procid = 0;
  // Tasks in the step: SLURM_STEP_NUM_TASKS, else SLURM_NTASKS, else 1.
  int ntasks = 1;
  // SLURM_NODEID: the index of this task's node among the step's nodes.
  int nodeid = 0;
  // The CPUs this task may use (see TaskCpus), at least 1.
  int cpus = 1;
};

// The task described by `env`, or nullopt if it has no SLURM_JOB_ID (not
// inside a SLURM job). The CPUs are, in order of preference:
//   1. SLURM_CPUS_PER_TASK (sbatch/srun --cpus-per-task);
//   2. in a step, SLURM_CPUS_ON_NODE divided by the step's tasks on this
//      node (SLURM_STEP_TASKS_PER_NODE, e.g. "2(x3),1", at SLURM_NODEID);
//   3. in the batch script, SLURM_CPUS_ON_NODE (the whole allocation on
//      this node), else the entry of SLURM_JOB_CPUS_PER_NODE for this node;
//   4. 1.
// Errors: InvalidArgument naming the variable if one of these is present
// but malformed (a job id that is not digits, a count that is not a
// positive number, a task list without an entry for this node).
absl::StatusOr<std::optional<SlurmTask>> SlurmTaskFrom(const EnvMap& env);

// SlurmTaskFrom() of this process's environment.
absl::StatusOr<std::optional<SlurmTask>> CurrentSlurmTask();

// This process's SLURM_JOB_ID if it is a well-formed job id (digits), else
// nullopt. Never fails: callers that only key files by the job use it.
std::optional<std::string> CurrentSlurmJobId();

// The thread count for a worker that was not told one: the CPUs of its
// SLURM task when it runs inside a job, else 1. Errors: those of
// CurrentSlurmTask().
absl::StatusOr<int> DefaultWorkerThreads();

// Expands SLURM's compressed count lists: "2(x3),1" is {2, 2, 2, 1}.
// Errors: InvalidArgument if `list` is not of that form or a count is not
// positive.
absl::StatusOr<std::vector<int>> ExpandCountList(const std::string& list);

}  // namespace weft::deploy

#endif  // WEFT_DEPLOY_SLURM_ENV_H_
