// Copyright 2026 The weft Authors.
//
// A real SLURM cluster on test hosts (tests/testing/test_hosts.h): Debian's
// slurmctld in a controller host, one slurmd per compute host, and munged
// for their authentication, all configured by the test in a private
// directory and stopped with it. Tests drive it with the real client
// commands (sbatch, srun, squeue, scancel, sinfo, scontrol) run inside a
// host.
//
//   absl::Status available = weft::testing::SlurmCluster::Availability();
//   if (!available.ok()) GTEST_SKIP() << available.message();
//   auto network = weft::testing::TestNetwork::Create();       // StatusOr
//   auto slurm = weft::testing::SlurmCluster::Start(network->get(),
//                                                   {.nodes = 2});
//   // hosts "slurmctl" (10.77.0.1), "node1", "node2"; 4 CPUs per node
//   absl::StatusOr<int64_t> job = (*slurm)->Submit("#!/bin/sh\nhostname\n");
//   absl::StatusOr<SlurmJob> done =
//       (*slurm)->WaitForJob(*job, absl::Seconds(30));
//   // done->state == "COMPLETED", done->exit_code == 0
//   auto run = (*slurm)->Run((*slurm)->controller(), "srun -N2 hostname");
//
// What runs where. munged runs in the controller host; its UNIX socket is a
// file in the cluster's directory, which every host sees (hosts share the
// file system), so all daemons and clients of the cluster use that one
// munged (AuthInfo=socket=...). slurmctld runs in the controller host, and
// each compute host runs `slurmd -N <host name>`: each node is a host with
// its own address and host name, so srun's tasks on different nodes run in
// different hosts. Job processes run in their node's host (slurmstepd
// inherits slurmd's namespaces) as root: SlurmUser and SlurmdUser are root,
// and jobs run as whoever submits them, which is root in tests.
//
// Configuration. Start() writes slurm.conf, cgroup.conf and an empty
// plugstack.conf into the cluster's directory, never /etc/slurm; clients
// find it through SLURM_CONF (ClientEnv()). Nodes declare
// `cpus_per_node` CPUs whatever the machine has
// (SlurmdParameters=config_overrides; TaskPlugin=task/none, so nothing is
// bound to a CPU that does not exist). select/cons_tres with CR_CPU lets
// jobs share a node by CPUs. The ports are 6917 (slurmctld) and 6918
// (slurmd), not SLURM's defaults; each host has its own ports anyway, so
// neither a system slurmctld nor another test's cluster can collide. Job ids
// start at a value derived from the test process's pid, so concurrent test
// processes use different ids (cgroup paths carry node name and job id).
//
// Process tracking: ProctrackType proctrack/linuxproc (the default) or
// proctrack/cgroup (cgroup v1 hierarchies under /sys/fs/cgroup, which the
// hosts share with the machine; Availability(kCgroup) says whether it works
// here). slurmd in SLURM 22.05 initializes its cgroup plugin even with
// linuxproc, so it needs a mounted cgroup file system either way.
//
// Timing. Start() takes about half a second. srun steps start at once; a
// batch job starts within about a second of Submit() (slurmctld looks at
// pending batch jobs once a second).
//
// Environment. Client commands and daemons get the test process's
// environment plus ClientEnv(); under Bazel that has no SLURM_* variables
// (a SLURM_JOB_ID inherited from an outer SLURM job would confuse srun).
// Commands run by Run() start in the test's working directory, batch jobs
// in jobs_dir() (sbatch's --chdir changes that).
//
// Cleanup. Stop() (and the destructor) stops the daemons and kills every
// process left in the cluster's hosts, including job processes and anything
// else the test started there, then removes the cgroup directories of its
// jobs. The cluster's directory lives in the network's state directory and
// goes with the network.
//
// Requirements: those of TestNetwork, plus Debian's slurmctld, slurmd,
// slurm-client and munge packages (tools/setup.sh installs them) and a
// cluster directory on a file system that allows exec (slurmd runs batch
// scripts from its spool directory). Availability() checks all of it by
// starting a one-node cluster. See docs/testing.md.
//
// Thread-safety: a SlurmCluster is used from one thread at a time.

#ifndef WEFT_TESTS_TESTING_SLURM_CLUSTER_H_
#define WEFT_TESTS_TESTING_SLURM_CLUSTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/test_hosts.h"

namespace weft::testing {

// How slurmd tracks a job step's processes (slurm.conf's ProctrackType).
enum class SlurmProctrack {
  kLinuxProc,  // proctrack/linuxproc: by parent process, from /proc
  kCgroup,     // proctrack/cgroup: a freezer cgroup per step
};

// How Start() builds a cluster.
struct SlurmClusterOptions {
  // The hosts: `controller` and `node_hosts` if given (hosts of the network
  // passed to Start(), made by the caller), else hosts Start() adds to the
  // network: `controller_name` and `nodes` compute hosts named
  // `node_prefix` + 1, 2, ... The node names are the hosts' names.
  TestHost* controller = nullptr;
  std::vector<TestHost*> node_hosts = {};
  std::string controller_name = "slurmctl";
  int nodes = 2;
  std::string node_prefix = "node";

  // CPUs each node declares (any number >= 1, independent of the machine).
  int cpus_per_node = 4;
  SlurmProctrack proctrack = SlurmProctrack::kLinuxProc;
  // Seconds between SIGTERM and SIGKILL when a job is cancelled or runs out
  // of time (KillWait).
  int kill_wait_seconds = 5;
  // Lines appended to slurm.conf; SLURM takes the last value of a parameter
  // given twice.
  std::vector<std::string> extra_config = {};
  // How long Start() waits for each daemon to come up.
  absl::Duration start_timeout = absl::Seconds(30);
};

// A job as `scontrol show job` describes it.
struct SlurmJob {
  int64_t id = 0;
  // JobState: PENDING, RUNNING, COMPLETING, or a final state (COMPLETED,
  // FAILED, CANCELLED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, ...).
  std::string state;
  // ExitCode=N:S: the batch script's exit code N and the signal S that
  // killed it (0 if none).
  int exit_code = 0;
  int signal = 0;
  // Every Key=Value field scontrol printed (NodeList, BatchHost, Reason,
  // ...). A free-text value with " Word=" in it is split wrongly.
  std::map<std::string, std::string> fields;

  // True if `state` is final: the job ended and none of its processes runs.
  bool Finished() const;
};

// One line of squeue.
struct SlurmQueuedJob {
  int64_t id = 0;
  std::string state;  // PENDING, RUNNING, COMPLETING, ...
  std::string name;
  std::string nodes;  // the node list, or "" while pending
};

// A running SLURM cluster; see the top of this file. Not copyable.
class SlurmCluster {
 public:
  // SLURM's ports in every host of a cluster (SLURM's defaults are 6817
  // and 6818).
  static constexpr int kSlurmctldPort = 6917;
  static constexpr int kSlurmdPort = 6918;
  // The one partition, which holds every node and is the default.
  static constexpr char kPartition[] = "main";

  // OK if a cluster with `proctrack` can run here; otherwise why not, as a
  // sentence for GTEST_SKIP(): not root, a SLURM or munge program missing,
  // test hosts unavailable (TestNetwork::Availability()), or a one-node
  // probe cluster failing to start, to run a step with srun (for kCgroup:
  // in a job cgroup) or to stop (with the daemons' log tails). The probe runs
  // once per process and `proctrack`; later calls return its result.
  static absl::Status Availability(
      SlurmProctrack proctrack = SlurmProctrack::kLinuxProc);

  // Starts a cluster in `network` as `options` say and returns once every
  // node is idle. Errors: InvalidArgument (bad options, a host of another
  // network), the errors of TestNetwork::AddHost(), Internal (a file could
  // not be written), FailedPrecondition (the directory does not allow exec),
  // DeadlineExceeded or Internal if a daemon does not come up (the message
  // has the daemons' log tails). Whatever got started is stopped again on
  // error; hosts it added stay in the network.
  // REQUIRES: `network` outlives the cluster.
  static absl::StatusOr<std::unique_ptr<SlurmCluster>> Start(
      TestNetwork* network, SlurmClusterOptions options = {});

  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  // Stop(), reporting a failure on stderr.
  ~SlurmCluster();

  // Stops the daemons (SIGTERM, then SIGKILL after a grace period) and
  // kills every process left in the cluster's hosts (TestHost::KillAll()),
  // whoever started it; removes the cgroup directories of its jobs. The
  // cluster answers no command afterwards; its files stay until the
  // network goes. Idempotent. Errors: DeadlineExceeded if some process
  // survives SIGKILL or a job's cgroup stays busy.
  absl::Status Stop();

  // The controller host (slurmctld and munged) and the compute hosts, one
  // node each, in node order.
  TestHost* controller() const { return controller_; }
  const std::vector<TestHost*>& nodes() const { return nodes_; }

  // The cluster's directory (configuration, state, spool, logs, jobs/), and
  // its slurm.conf.
  const std::string& dir() const { return dir_; }
  const std::string& conf_path() const { return conf_path_; }

  // The working directory of Submit()'s sbatch, where a batch job's default
  // output file (slurm-ID.out) goes; free for the test's files too.
  const std::string& jobs_dir() const { return jobs_dir_; }

  // The environment a SLURM client command needs (SLURM_CONF), for
  // TestHost::Spawn() and Run() in any host of the network.
  EnvOverrides ClientEnv() const;

  // Runs `command` with /bin/sh -c in `host` with ClientEnv(), as
  // TestHost::Run() does: a non-zero exit is a result, not an error, and
  // the output has standard error in it (`srun --quiet` keeps srun's notes,
  // such as waiting for the previous job's nodes, out of it).
  absl::StatusOr<RunResult> Run(
      TestHost* host, std::string_view command,
      absl::Duration timeout = absl::Seconds(30)) const;

  // Writes `script` to a file in jobs_dir() and submits it with
  // `sbatch --parsable [sbatch_args] FILE` from the controller host, in
  // jobs_dir(); returns the job id. `sbatch_args` are passed to the shell
  // as they are. Errors: Internal with sbatch's output if it fails.
  absl::StatusOr<int64_t> Submit(std::string_view script,
                                 std::string_view sbatch_args = "");

  // The job as `scontrol show job` says now. Errors: NotFound if SLURM
  // does not know it (never submitted, or purged MinJobAge = 1 hour after
  // it ended), Internal if scontrol fails otherwise.
  absl::StatusOr<SlurmJob> Job(int64_t id) const;

  // Waits up to `timeout` for the job to finish (SlurmJob::Finished()) and
  // returns it. Errors: those of Job(); DeadlineExceeded (with its last
  // state) if it has not finished.
  absl::StatusOr<SlurmJob> WaitForJob(int64_t id, absl::Duration timeout) const;

  // `scancel ID`: SIGTERM to every step's processes, SIGKILL
  // kill_wait_seconds later. Returns once scancel has; WaitForJob() for the
  // end. Errors: Internal with scancel's output.
  absl::Status Cancel(int64_t id) const;

  // The jobs squeue lists (pending, running, completing), in its order.
  // Errors: Internal with squeue's output.
  absl::StatusOr<std::vector<SlurmQueuedJob>> Queue() const;

  // Each node's state as sinfo says ("idle", "mixed", "allocated", "down*",
  // ...), by node name. Errors: Internal with sinfo's output.
  absl::StatusOr<std::map<std::string, std::string>> NodeStates() const;

  // Waits up to `timeout` until squeue lists no job and every node is idle.
  // Errors: DeadlineExceeded with what is still there; those of Queue()
  // and NodeStates().
  absl::Status WaitUntilIdle(absl::Duration timeout) const;

  // The last `lines` lines of each daemon's log (munged's while it runs,
  // slurmctld's, each slurmd's with its slurmstepd lines), with headers, for
  // failure messages.
  std::string LogTails(int lines = 20) const;

 private:
  SlurmCluster(SlurmClusterOptions options, std::string dir,
               int64_t first_job_id);
  absl::Status WriteConfig() const;
  absl::Status StartDaemons();
  // Runs `command` in the controller host with ClientEnv(); returns its
  // output, or Internal with the output if it exits non-zero.
  absl::StatusOr<std::string> Client(std::string_view command) const;
  // Removes the cgroup directories of this cluster's jobs, which SLURM
  // leaves behind when its processes are killed. Errors: DeadlineExceeded
  // if some stay busy.
  absl::Status RemoveJobCgroups() const;

  const SlurmClusterOptions options_;
  const std::string dir_;
  const std::string conf_path_;
  const std::string jobs_dir_;
  const std::string munge_socket_;
  // Job ids are first_job_id_ ... first_job_id_ + kJobIds - 1 (slurm.conf's
  // FirstJobId and MaxJobId).
  const int64_t first_job_id_;
  TestHost* controller_ = nullptr;
  std::vector<TestHost*> nodes_;
  std::unique_ptr<HostProcess> munged_;
  std::unique_ptr<HostProcess> slurmctld_;
  std::vector<std::unique_ptr<HostProcess>> slurmds_;
  int scripts_ = 0;  // names Submit()'s script files
  bool stopped_ = false;
};

}  // namespace weft::testing

#endif  // WEFT_TESTS_TESTING_SLURM_CLUSTER_H_
