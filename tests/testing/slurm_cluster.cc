// Copyright 2026 The weft Authors.

#include "tests/testing/slurm_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace weft::testing {
namespace {

// Job ids per cluster: FirstJobId .. FirstJobId + kJobIds - 1, then SLURM
// wraps around to FirstJobId.
constexpr int64_t kJobIds = 1000;
// How long a client command may take, and the pause between polls.
constexpr absl::Duration kClientTimeout = absl::Seconds(30);
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);
// How long the daemons get after SIGTERM before they are killed.
constexpr absl::Duration kStopGrace = absl::Seconds(5);
// How long Stop() waits for the cgroups of killed jobs to empty.
constexpr absl::Duration kCgroupTimeout = absl::Seconds(10);
// Where cgroup file systems are mounted (cgroup.conf's CgroupMountpoint).
constexpr char kCgroupRoot[] = "/sys/fs/cgroup";

// The programs a cluster runs. Daemons are in /usr/sbin, which
// TestHost::Spawn() searches too.
constexpr const char* kPrograms[] = {
    "munged", "munge", "unmunge", "slurmctld", "slurmd", "slurmstepd",
    "sbatch", "srun",  "squeue",  "scancel",   "sinfo",  "scontrol",
};

// Final job states (JobState in scontrol's output).
constexpr const char* kFinalStates[] = {
    "BOOT_FAIL", "CANCELLED",     "COMPLETED", "DEADLINE", "FAILED",
    "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "TIMEOUT",
};

absl::Status ErrnoError(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

bool IsExecutable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// True if `name` is an executable in PATH or the sbin and bin directories.
bool HaveProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  for (const char* d : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    dirs.push_back(d);
  }
  return std::any_of(dirs.begin(), dirs.end(), [&](const std::string& dir) {
    return IsExecutable(absl::StrCat(dir, "/", name));
  });
}

// Makes directory `path` with mode 0755 whatever the umask (munged refuses
// group- or world-writable directories).
absl::Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 || ::chmod(path.c_str(), 0755) != 0) {
    return ErrnoError(absl::StrCat("creating ", path), errno);
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, std::string_view content,
                       mode_t mode = 0644) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError(absl::StrCat("creating ", path), errno);
  const ssize_t n = ::write(fd, content.data(), content.size());
  const int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(content.size())) {
    return ErrnoError(absl::StrCat("writing ", path), n < 0 ? err : EIO);
  }
  return absl::OkStatus();
}

// The contents of `path`, or "" if it cannot be read.
std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The last `lines` lines of `text`.
std::string LastLines(absl::string_view text, int lines) {
  size_t at = text.size();
  if (at > 0 && text[at - 1] == '\n') --at;
  for (int i = 0; i < lines && at != absl::string_view::npos && at > 0; ++i) {
    at = text.rfind('\n', at - 1);
  }
  if (at == absl::string_view::npos) return std::string(text);
  return std::string(text.substr(at == 0 ? 0 : at + 1));
}

// Calls `check` every kPollInterval until it returns true or an error, or
// `timeout` passes. Errors: those of `check`; DeadlineExceeded with
// `what` and `last()`'s description.
absl::Status PollUntil(absl::Duration timeout, absl::string_view what,
                       const std::function<absl::StatusOr<bool>()>& check,
                       const std::function<std::string()>& last = nullptr) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::StatusOr<bool> done = check();
    if (!done.ok()) return done.status();
    if (*done) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(what, " not within ", absl::FormatDuration(timeout),
                       last != nullptr ? absl::StrCat(": ", last()) : ""));
    }
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(kPollInterval));
  }
}

// Splits scontrol's one-line record (-o) into its Key=Value fields. A token
// without '=' or whose key has characters keys never have continues the
// previous value (values may contain spaces).
std::map<std::string, std::string> ParseRecord(absl::string_view record) {
  std::map<std::string, std::string> fields;
  std::string* last = nullptr;
  for (absl::string_view token :
       absl::StrSplit(record, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    const size_t eq = token.find('=');
    const absl::string_view key =
        eq == absl::string_view::npos ? "" : token.substr(0, eq);
    const bool is_key =
        !key.empty() && absl::ascii_isalpha(key[0]) &&
        std::all_of(key.begin(), key.end(), [](char c) {
          return absl::ascii_isalnum(c) || c == '_' || c == ':' || c == '/';
        });
    if (is_key) {
      last = &fields[std::string(key)];
      *last = std::string(token.substr(eq + 1));
    } else if (last != nullptr) {
      absl::StrAppend(last, " ", token);
    }
  }
  return fields;
}

// Removes the cgroup `path` and the cgroups below it (rmdir, children
// first). A cgroup that still has processes stays.
void RemoveCgroupTree(const std::filesystem::path& path) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    if (entry.is_directory(error) && !entry.is_symlink(error)) {
      RemoveCgroupTree(entry.path());
    }
  }
  ::rmdir(path.c_str());
}

// A one-node cluster with `proctrack` that runs one step; OK or why not.
absl::Status Probe(SlurmProctrack proctrack) {
  absl::StatusOr<std::unique_ptr<TestNetwork>> network = TestNetwork::Create();
  if (!network.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot make test hosts for SLURM: ", network.status().message()));
  }
  SlurmClusterOptions options;
  options.controller_name = "probe-ctl";
  options.node_prefix = "probe-node";
  options.nodes = 1;
  options.cpus_per_node = 1;
  options.proctrack = proctrack;
  absl::StatusOr<std::unique_ptr<SlurmCluster>> cluster =
      SlurmCluster::Start(network->get(), options);
  if (!cluster.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a SLURM cluster does not start here: ", cluster.status().message()));
  }
  absl::StatusOr<RunResult> step = (*cluster)->Run(
      (*cluster)->controller(), "srun -N1 -n1 cat /proc/self/cgroup");
  absl::Status result;
  if (!step.ok() || step->exit_code != 0) {
    result = absl::FailedPreconditionError(
        absl::StrCat("a SLURM cluster cannot run `srun`: ",
                     step.ok() ? step->output : step.status().ToString(), "\n",
                     (*cluster)->LogTails()));
  } else if (proctrack == SlurmProctrack::kCgroup &&
             !absl::StrContains(step->output, "/job_")) {
    result = absl::FailedPreconditionError(
        absl::StrCat("proctrack/cgroup put no step in a job cgroup; the "
                     "step's /proc/self/cgroup:\n",
                     step->output));
  }
  if (absl::Status s = (*cluster)->Stop(); !s.ok() && result.ok()) {
    result = absl::FailedPreconditionError(absl::StrCat(
        "a SLURM cluster does not stop cleanly here: ", s.message()));
  }
  return result;
}

}  // namespace

bool SlurmJob::Finished() const {
  return std::find(std::begin(kFinalStates), std::end(kFinalStates), state) !=
         std::end(kFinalStates);
}

absl::Status SlurmCluster::Availability(SlurmProctrack proctrack) {
  if (::geteuid() != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("SLURM clusters need root (test hosts, daemons); euid is ",
                     ::geteuid()));
  }
  for (const char* program : kPrograms) {
    if (!HaveProgram(program)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no `", program,
          "` program (Debian's slurmctld, slurmd, slurm-client and munge "
          "packages; tools/setup.sh installs them)"));
    }
  }
  if (absl::Status s = TestNetwork::Availability(); !s.ok()) return s;
  static std::mutex mutex;
  static std::map<SlurmProctrack, absl::Status>* probed =
      new std::map<SlurmProctrack, absl::Status>;
  std::lock_guard<std::mutex> lock(mutex);
  auto found = probed->find(proctrack);
  if (found == probed->end()) {
    found = probed->emplace(proctrack, Probe(proctrack)).first;
  }
  return found->second;
}

SlurmCluster::SlurmCluster(SlurmClusterOptions options, std::string dir,
                           int64_t first_job_id)
    : options_(std::move(options)),
      dir_(std::move(dir)),
      conf_path_(absl::StrCat(dir_, "/slurm.conf")),
      jobs_dir_(absl::StrCat(dir_, "/jobs")),
      munge_socket_(absl::StrCat(dir_, "/munge/socket")),
      first_job_id_(first_job_id) {}

absl::StatusOr<std::unique_ptr<SlurmCluster>> SlurmCluster::Start(
    TestNetwork* network, SlurmClusterOptions options) {
  if (network == nullptr) return absl::InvalidArgumentError("no network");
  if (options.cpus_per_node < 1 || options.kill_wait_seconds < 0 ||
      (options.node_hosts.empty() && options.nodes < 1)) {
    return absl::InvalidArgumentError(
        "a SLURM cluster needs a node, a CPU per node and KillWait >= 0");
  }
  std::set<TestHost*> distinct;
  for (TestHost* host : options.node_hosts) {
    if (host == nullptr || network->host(host->name()) != host ||
        host == options.controller || !distinct.insert(host).second) {
      return absl::InvalidArgumentError(
          "node hosts must be distinct hosts of the network, not the "
          "controller");
    }
  }
  if (options.controller != nullptr &&
      network->host(options.controller->name()) != options.controller) {
    return absl::InvalidArgumentError(
        "the controller must be a host of the network");
  }
  // Distinct job ids for concurrent test processes (and for this process's
  // clusters): cgroup paths name only the node and the job.
  static std::atomic<int> clusters{0};
  const int seq = clusters++;
  const int64_t first_job_id =
      1 + ((::getpid() % 4000) * 16 + seq % 16) * kJobIds;
  std::unique_ptr<SlurmCluster> cluster(new SlurmCluster(
      options, absl::StrCat(network->state_dir(), "/slurm-", seq),
      first_job_id));
  cluster->controller_ = options.controller;
  if (cluster->controller_ == nullptr) {
    absl::StatusOr<TestHost*> host = network->AddHost(options.controller_name);
    if (!host.ok()) return host.status();
    cluster->controller_ = *host;
  }
  cluster->nodes_ = options.node_hosts;
  if (cluster->nodes_.empty()) {
    for (int i = 1; i <= options.nodes; ++i) {
      absl::StatusOr<TestHost*> host =
          network->AddHost(absl::StrCat(options.node_prefix, i));
      if (!host.ok()) return host.status();
      cluster->nodes_.push_back(*host);
    }
  }
  for (const std::string& dir :
       {cluster->dir_, absl::StrCat(cluster->dir_, "/state"),
        absl::StrCat(cluster->dir_, "/spool"),
        absl::StrCat(cluster->dir_, "/munge"), cluster->jobs_dir_}) {
    if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  }
  for (TestHost* node : cluster->nodes_) {
    if (absl::Status s =
            MakeDir(absl::StrCat(cluster->dir_, "/spool/", node->name()));
        !s.ok()) {
      return s;
    }
  }
  struct statvfs fs {};
  if (::statvfs(cluster->dir_.c_str(), &fs) == 0 &&
      (fs.f_flag & ST_NOEXEC) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(cluster->dir_,
                     " is on a noexec file system; slurmd runs batch "
                     "scripts from its spool directory there"));
  }
  if (absl::Status s = cluster->WriteConfig(); !s.ok()) return s;
  if (absl::Status s = cluster->StartDaemons(); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat(s.message(), "\n", cluster->LogTails()));
  }
  return cluster;
}

SlurmCluster::~SlurmCluster() {
  if (absl::Status s = Stop(); !s.ok()) {
    std::fprintf(stderr, "slurm_cluster: %s\n", s.ToString().c_str());
  }
}

absl::Status SlurmCluster::WriteConfig() const {
  // A random key shared by everything through the one munged.
  std::string key(1024, '\0');
  {
    std::ifstream random("/dev/urandom", std::ios::binary);
    if (!random.read(key.data(), key.size())) {
      return absl::InternalError("cannot read /dev/urandom");
    }
  }
  if (absl::Status s = WriteFile(absl::StrCat(dir_, "/munge/key"), key, 0400);
      !s.ok()) {
    return s;
  }
  std::string conf;
  // Appends one line made of `parts`.
  auto line = [&conf](const auto&... parts) {
    absl::StrAppend(&conf, parts..., "\n");
  };
  line(
      "# Written by weft's SlurmCluster (tests/testing/slurm_cluster.h) for "
      "one test.");
  line("ClusterName=weft-test");
  line("SlurmctldHost=", controller_->name(), "(", controller_->address(), ")");
  line("SlurmctldPort=", kSlurmctldPort);
  line("SlurmdPort=", kSlurmdPort);
  line("# Daemons and jobs run as root (tests run as root).");
  line("SlurmUser=root");
  line("SlurmdUser=root");
  line("# One munged, in the controller host, for every host.");
  line("AuthType=auth/munge");
  line("CredType=cred/munge");
  line("AuthInfo=socket=", munge_socket_);
  line("StateSaveLocation=", dir_, "/state");
  line("SlurmdSpoolDir=", dir_, "/spool/%n");
  line("SlurmctldPidFile=", dir_, "/slurmctld.pid");
  line("SlurmdPidFile=", dir_, "/slurmd-%n.pid");
  line("SlurmctldLogFile=", dir_, "/slurmctld.log");
  line("SlurmdLogFile=", dir_, "/slurmd-%n.log");
  line("SlurmctldDebug=info");
  line("SlurmdDebug=info");
  line("PlugStackConfig=", dir_, "/plugstack.conf");
  line("MailProg=/bin/true");
  line("ProctrackType=", options_.proctrack == SlurmProctrack::kCgroup
                             ? "proctrack/cgroup"
                             : "proctrack/linuxproc");
  line("# Nodes have the CPUs this file gives them, whatever the machine has;");
  line("# nothing is bound to CPUs.");
  line("SlurmdParameters=config_overrides");
  line("TaskPlugin=task/none");
  line("SelectType=select/cons_tres");
  line("SelectTypeParameters=CR_CPU");
  line("SchedulerType=sched/backfill");
  line("# Batch jobs start within about a second of submission: slurmctld");
  line("# reads batch_sched_delay (default 3 s) only on its first scheduling");
  line("# pass, which that default delays; backfill runs every second.");
  line("SchedulerParameters=batch_sched_delay=0,bf_interval=1");
  line("ReturnToService=2");
  line("KillWait=", options_.kill_wait_seconds);
  line("MinJobAge=3600");
  line("FirstJobId=", first_job_id_);
  line("MaxJobId=", first_job_id_ + kJobIds - 1);
  line("MpiDefault=none");
  line("JobAcctGatherType=jobacct_gather/none");
  line("AccountingStorageType=accounting_storage/none");
  line("JobCompType=jobcomp/none");
  for (TestHost* node : nodes_) {
    line("NodeName=", node->name(), " NodeAddr=", node->address(),
         " CPUs=", options_.cpus_per_node, " State=UNKNOWN");
  }
  line("PartitionName=", kPartition,
       " Nodes=ALL Default=YES MaxTime=INFINITE State=UP");
  for (const std::string& extra : options_.extra_config) line(extra);
  if (absl::Status s = WriteFile(conf_path_, conf); !s.ok()) return s;
  // IgnoreSystemd matters for cgroup/v2 only: there is no systemd here.
  if (absl::Status s = WriteFile(absl::StrCat(dir_, "/cgroup.conf"),
                                 "CgroupPlugin=autodetect\n"
                                 "IgnoreSystemd=yes\n");
      !s.ok()) {
    return s;
  }
  return WriteFile(absl::StrCat(dir_, "/plugstack.conf"), "");
}

absl::Status SlurmCluster::StartDaemons() {
  const absl::Duration timeout = options_.start_timeout;
  // An error if `process` has exited.
  auto exited = [](const std::unique_ptr<HostProcess>& process,
                   absl::string_view name) -> absl::Status {
    if (std::optional<int> code = process->Poll(); code.has_value()) {
      return absl::InternalError(
          absl::StrCat(name, " exited with ", *code, " while starting"));
    }
    return absl::OkStatus();
  };

  absl::StatusOr<std::unique_ptr<HostProcess>> munged = controller_->Spawn(
      // --force: munged also refuses a group-writable directory above ours
      // (/run/weft-test, made under the test's umask).
      {"munged", "--foreground", "--force",
       absl::StrCat("--socket=", munge_socket_),
       absl::StrCat("--key-file=", dir_, "/munge/key"),
       absl::StrCat("--pid-file=", dir_, "/munge/pid"),
       absl::StrCat("--seed-file=", dir_, "/munge/seed"), "--num-threads=4"});
  if (!munged.ok()) return munged.status();
  munged_ = *std::move(munged);
  if (absl::Status s =
          PollUntil(timeout, "munged's socket",
                    [&]() -> absl::StatusOr<bool> {
                      if (absl::Status e = exited(munged_, "munged"); !e.ok()) {
                        return e;
                      }
                      struct stat st {};
                      return ::stat(munge_socket_.c_str(), &st) == 0;
                    });
      !s.ok()) {
    return s;
  }
  if (absl::StatusOr<std::string> check = Client(
          absl::StrCat("munge -n --socket=", munge_socket_,
                       " | unmunge --socket=", munge_socket_, " >/dev/null"));
      !check.ok()) {
    return check.status();
  }

  absl::StatusOr<std::unique_ptr<HostProcess>> slurmctld =
      controller_->Spawn({"slurmctld", "-D", "-f", conf_path_}, ClientEnv());
  if (!slurmctld.ok()) return slurmctld.status();
  slurmctld_ = *std::move(slurmctld);
  std::string ping;
  if (absl::Status s = PollUntil(
          timeout, "slurmctld answering `scontrol ping`",
          [&]() -> absl::StatusOr<bool> {
            if (absl::Status e = exited(slurmctld_, "slurmctld"); !e.ok()) {
              return e;
            }
            absl::StatusOr<RunResult> run =
                Run(controller_, "scontrol ping", kClientTimeout);
            if (!run.ok()) return run.status();
            ping = run->output;
            return absl::StrContains(ping, " is UP");
          },
          [&] { return ping; });
      !s.ok()) {
    return s;
  }

  for (TestHost* node : nodes_) {
    absl::StatusOr<std::unique_ptr<HostProcess>> slurmd = node->Spawn(
        {"slurmd", "-D", "-N", node->name(), "-f", conf_path_}, ClientEnv());
    if (!slurmd.ok()) return slurmd.status();
    slurmds_.push_back(*std::move(slurmd));
  }
  std::map<std::string, std::string> states;
  return PollUntil(
      timeout, "every node idle",
      [&]() -> absl::StatusOr<bool> {
        for (size_t i = 0; i < slurmds_.size(); ++i) {
          if (absl::Status e = exited(
                  slurmds_[i], absl::StrCat("slurmd ", nodes_[i]->name()));
              !e.ok()) {
            return e;
          }
        }
        absl::StatusOr<std::map<std::string, std::string>> now = NodeStates();
        if (!now.ok()) return now.status();
        states = *std::move(now);
        return states.size() == nodes_.size() &&
               std::all_of(states.begin(), states.end(),
                           [](const auto& s) { return s.second == "idle"; });
      },
      [&] { return absl::StrJoin(states, ", ", absl::PairFormatter(" ")); });
}

absl::Status SlurmCluster::Stop() {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  std::vector<HostProcess*> daemons;
  for (const auto& slurmd : slurmds_) daemons.push_back(slurmd.get());
  for (HostProcess* p : {slurmctld_.get(), munged_.get()}) {
    if (p != nullptr) daemons.push_back(p);
  }
  for (HostProcess* p : daemons) (void)p->Signal(SIGTERM);
  const absl::Time deadline = absl::Now() + kStopGrace;
  for (HostProcess* p : daemons) {
    if (!p->Wait(std::max(deadline - absl::Now(), absl::ZeroDuration())).ok()) {
      p->Kill();
    }
  }
  // Job processes (slurmstepd and its tasks) and whatever else runs in the
  // cluster's hosts.
  absl::Status result;
  std::vector<TestHost*> hosts = nodes_;
  if (controller_ != nullptr) hosts.push_back(controller_);
  for (TestHost* host : hosts) {
    if (absl::Status s = host->KillAll(); !s.ok() && result.ok()) result = s;
  }
  slurmds_.clear();
  slurmctld_.reset();
  munged_.reset();
  if (absl::Status s = RemoveJobCgroups(); !s.ok() && result.ok()) result = s;
  return result;
}

absl::Status SlurmCluster::RemoveJobCgroups() const {
  // cgroup v1 as slurmd makes them: CONTROLLER/slurm_NODE/uid_U/job_ID/...
  // (Debian builds SLURM with multiple-slurmd support, hence _NODE). A
  // cgroup with a zombie in it cannot be removed until the zombie is
  // reaped (by init, as the job's processes were orphaned), so this retries.
  const absl::Time deadline = absl::Now() + kCgroupTimeout;
  for (;;) {
    std::vector<std::filesystem::path> left;
    std::error_code error;
    for (const auto& controller :
         std::filesystem::directory_iterator(kCgroupRoot, error)) {
      for (TestHost* node : nodes_) {
        const std::filesystem::path base =
            controller.path() / absl::StrCat("slurm_", node->name());
        for (const auto& uid :
             std::filesystem::directory_iterator(base, error)) {
          if (!absl::StartsWith(uid.path().filename().string(), "uid_")) {
            continue;
          }
          for (const auto& job :
               std::filesystem::directory_iterator(uid.path(), error)) {
            int64_t id = 0;
            if (absl::SimpleAtoi(
                    absl::StripPrefix(job.path().filename().string(), "job_"),
                    &id) &&
                id >= first_job_id_ && id < first_job_id_ + kJobIds) {
              RemoveCgroupTree(job.path());
              if (std::filesystem::exists(job.path(), error)) {
                left.push_back(job.path());
              }
            }
          }
        }
      }
    }
    if (left.empty()) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("cannot remove ", left.size(),
                       " cgroups of the cluster's jobs (", left[0].string(),
                       ", ...) within ", absl::FormatDuration(kCgroupTimeout)));
    }
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(kPollInterval));
  }
}

EnvOverrides SlurmCluster::ClientEnv() const {
  return {{"SLURM_CONF", conf_path_}};
}

absl::StatusOr<RunResult> SlurmCluster::Run(TestHost* host,
                                            std::string_view command,
                                            absl::Duration timeout) const {
  if (host == nullptr) return absl::InvalidArgumentError("no host");
  return host->Run(command, timeout, ClientEnv());
}

absl::StatusOr<std::string> SlurmCluster::Client(
    std::string_view command_view) const {
  const std::string command(command_view);
  absl::StatusOr<RunResult> run = Run(controller_, command, kClientTimeout);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("`", command, "` exited with ", run->exit_code, ": ",
                     absl::StripAsciiWhitespace(run->output)));
  }
  return std::move(run->output);
}

absl::StatusOr<int64_t> SlurmCluster::Submit(std::string_view script,
                                             std::string_view sbatch_args) {
  const std::string path =
      absl::StrCat(jobs_dir_, "/script-", ++scripts_, ".sh");
  if (absl::Status s = WriteFile(path, script, 0755); !s.ok()) return s;
  absl::StatusOr<std::string> out =
      Client(absl::StrCat("cd ", jobs_dir_, " && sbatch --parsable ",
                          std::string(sbatch_args), " ", path));
  if (!out.ok()) return out.status();
  // "ID" or "ID;CLUSTER", after any warnings sbatch printed.
  const std::string last = LastLines(absl::StripAsciiWhitespace(*out), 1);
  int64_t id = 0;
  if (!absl::SimpleAtoi(last.substr(0, last.find(';')), &id)) {
    return absl::InternalError(
        absl::StrCat("sbatch printed no job id: ", *out));
  }
  return id;
}

absl::StatusOr<SlurmJob> SlurmCluster::Job(int64_t id) const {
  absl::StatusOr<RunResult> run = Run(
      controller_, absl::StrCat("scontrol show job -o ", id), kClientTimeout);
  if (!run.ok()) return run.status();
  if (run->exit_code != 0) {
    if (absl::StrContains(run->output, "Invalid job id")) {
      return absl::NotFoundError(absl::StrCat("SLURM knows no job ", id));
    }
    return absl::InternalError(absl::StrCat("scontrol show job ", id,
                                            " exited with ", run->exit_code,
                                            ": ", run->output));
  }
  SlurmJob job;
  job.id = id;
  job.fields = ParseRecord(run->output);
  job.state = job.fields["JobState"];
  const std::vector<std::string> code =
      absl::StrSplit(job.fields["ExitCode"], ':');
  if (job.state.empty() || code.size() != 2 ||
      !absl::SimpleAtoi(code[0], &job.exit_code) ||
      !absl::SimpleAtoi(code[1], &job.signal)) {
    return absl::InternalError(absl::StrCat(
        "cannot read scontrol's record of job ", id, ": ", run->output));
  }
  return job;
}

absl::StatusOr<SlurmJob> SlurmCluster::WaitForJob(
    int64_t id, absl::Duration timeout) const {
  absl::StatusOr<SlurmJob> job;
  absl::Status waited = PollUntil(
      timeout, absl::StrCat("job ", id, " finished"),
      [&]() -> absl::StatusOr<bool> {
        job = Job(id);
        if (!job.ok()) return job.status();
        return job->Finished();
      },
      [&] { return absl::StrCat("it is ", job.ok() ? job->state : "?"); });
  if (!waited.ok()) return waited;
  return job;
}

absl::Status SlurmCluster::Cancel(int64_t id) const {
  return Client(absl::StrCat("scancel ", id)).status();
}

absl::StatusOr<std::vector<SlurmQueuedJob>> SlurmCluster::Queue() const {
  absl::StatusOr<std::string> out = Client("squeue -h -o '%i|%T|%N|%j'");
  if (!out.ok()) return out.status();
  std::vector<SlurmQueuedJob> jobs;
  for (absl::string_view line :
       absl::StrSplit(*out, '\n', absl::SkipWhitespace())) {
    const std::vector<std::string> parts =
        absl::StrSplit(line, absl::MaxSplits('|', 3));
    SlurmQueuedJob job;
    if (parts.size() != 4 ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(parts[0]), &job.id)) {
      return absl::InternalError(absl::StrCat("cannot read squeue: ", *out));
    }
    job.state = std::string(absl::StripAsciiWhitespace(parts[1]));
    job.nodes = std::string(absl::StripAsciiWhitespace(parts[2]));
    job.name = std::string(absl::StripAsciiWhitespace(parts[3]));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

absl::StatusOr<std::map<std::string, std::string>> SlurmCluster::NodeStates()
    const {
  absl::StatusOr<std::string> out = Client("sinfo -h -N -o '%N %T'");
  if (!out.ok()) return out.status();
  std::map<std::string, std::string> states;
  for (absl::string_view line :
       absl::StrSplit(*out, '\n', absl::SkipWhitespace())) {
    std::vector<std::string> parts =
        absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (parts.size() != 2) {
      return absl::InternalError(absl::StrCat("cannot read sinfo: ", *out));
    }
    states[parts[0]] = parts[1];
  }
  return states;
}

absl::Status SlurmCluster::WaitUntilIdle(absl::Duration timeout) const {
  std::string last;
  return PollUntil(
      timeout, "no job and every node idle",
      [&]() -> absl::StatusOr<bool> {
        absl::StatusOr<std::vector<SlurmQueuedJob>> queue = Queue();
        if (!queue.ok()) return queue.status();
        absl::StatusOr<std::map<std::string, std::string>> states =
            NodeStates();
        if (!states.ok()) return states.status();
        last = absl::StrCat(
            queue->size(), " jobs queued; ",
            absl::StrJoin(*states, ", ", absl::PairFormatter(" ")));
        return queue->empty() &&
               std::all_of(states->begin(), states->end(),
                           [](const auto& s) { return s.second == "idle"; });
      },
      [&] { return last; });
}

std::string SlurmCluster::LogTails(int lines) const {
  std::string out;
  // Adds a section for one daemon's log unless it is empty.
  auto add = [&](const std::string& title, const std::string& text) {
    if (text.empty()) return;
    absl::StrAppend(&out, "--- ", title, " (last ", lines, " lines) ---\n",
                    LastLines(text, lines), "\n");
  };
  // A daemon's log file, which has its steps' slurmstepd lines too, or what
  // it wrote to standard error while there is no file (an error before it
  // opened the file).
  auto log = [&](const std::string& path, const HostProcess* process) {
    std::string text = ReadFile(path);
    return text.empty() && process != nullptr ? process->Output() : text;
  };
  if (munged_ != nullptr) add("munged", munged_->Output());
  add("slurmctld", log(absl::StrCat(dir_, "/slurmctld.log"), slurmctld_.get()));
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const std::string& node = nodes_[i]->name();
    add(absl::StrCat("slurmd ", node),
        log(absl::StrCat(dir_, "/slurmd-", node, ".log"),
            i < slurmds_.size() ? slurmds_[i].get() : nullptr));
  }
  return out;
}

}  // namespace weft::testing
