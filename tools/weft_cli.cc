// Copyright 2026 The weft Authors.
//
// The `weft` command: start and inspect clusters from the shell
// (ipyparallel's ipcontroller/ipengine/ipcluster, Dask's dask-scheduler and
// dask-worker).
//
//   weft scheduler [--host=127.0.0.1 | --interface=IF] [--port=8786]
//                  [--frame-port=0] [--token-file=F] [--scheduler-file=F]
//                  [--new-token] [--heartbeat-timeout=S] [--client-timeout=S]
//   weft worker [--scheduler=HOST:PORT] [--nthreads=N] [--host=H]
//               [--token-file=F] [--scheduler-file=F] [--load=libtasks.so]...
//               [--connect-timeout=S] [--rejoin-timeout=S]
//               [--retire-timeout=S] [--no-supervisor] [--max-restarts=N]
//   weft cluster start [-n 4] [--port=8786] [--load=libtasks.so]...
//                      [--hosts=H1,H2 | --hostfile=F] (tools/cluster_command.h)
//   weft cluster stop
//   weft slurm [-n N | --adapt=MIN:MAX] [--cores=C] ... (tools/slurm_command.h)
//   weft status [--scheduler=HOST:PORT] [--token-file=F]
//   weft tls init DIR [--name=NAME]
//
// The verbs that listen or connect take --tls=DIR (or --tls-cert, --tls-key
// and --tls-ca) for mutual TLS (rpc/tls.h, docs/cluster.md).
//
// Every verb says what it accepts with --help and rejects what it does not
// know.
//
// Functions run by `weft worker` come from shared libraries given with
// --load: their WEFT_REMOTE registrations run when they are loaded. A user
// program can instead be its own worker (see weft::Init and LocalCluster).

#include <dlfcn.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "deploy/slurm_env.h"
#include "rpc/cluster_files.h"
#include "rpc/report_limits.h"
#include "rpc/status.h"
#include "rpc/tls.h"
#include "rpc/token.h"
#include "scheduler/scheduler_service.h"
#include "tools/cli.h"
#include "tools/cluster_command.h"
#include "tools/slurm_command.h"
#include "weft/weft.h"
#include "worker/supervisor.h"
#include "worker/worker_main.h"

namespace {

using namespace weft::cli;  // NOLINT: the command's own helpers

int Scheduler(const Args& args) {
  ::signal(SIGINT, OnStopSignal);
  ::signal(SIGTERM, OnStopSignal);
  ExitWithParentIfAsked(args);
  RunningScheduler scheduler = StartScheduler(args, "127.0.0.1");
  std::cout << "weft scheduler listening on " << scheduler.server->address()
            << " (worker task streams on port "
            << scheduler.server->frame_port() << "; token in "
            << scheduler.token_file << "; address " << scheduler.address
            << " in " << scheduler.scheduler_file << ")" << std::endl;
  if (!scheduler.server->dashboard_url().empty()) {
    std::cout << "weft dashboard at " << scheduler.server->dashboard_url()
              << (scheduler.dashboard_loopback
                      ? ""
                      : " (open it with ?token=TOKEN, the token file's)")
              << std::endl;
  }
  while (!stop_requested) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << "weft scheduler stopping" << std::endl;
  StopScheduler(scheduler);
  return 0;
}

void LoadLibraries(const std::vector<std::string>& libs) {
  for (const std::string& lib : libs) {
    if (::dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      Die(absl::StrCat("cannot load ", lib, ": ", ::dlerror()));
    }
  }
  absl::Status registry = weft::Registry::Global().Validate();
  if (!registry.ok()) Die(std::string(registry.message()));
}

int Worker(const Args& args, const std::vector<std::string>& argv) {
  ExitWithParentIfAsked(args);
  // Before the supervisor: its restarts inherit WEFT_TLS_* as well.
  ConfigureTls(args);
  if (!args.flags.contains("no-supervisor") &&
      !weft::worker::IsSupervisedChild()) {
    // This process watches; a child runs `weft worker` itself, and is
    // started again if it crashes.
    weft::worker::SupervisorOptions supervision;
    supervision.max_restarts = args.Int("max-restarts", -1);
    return weft::worker::Supervise(argv, supervision);
  }
  LoadLibraries(args.loads);
  weft::worker::WorkerOptions options;
  if (args.flags.contains("connect-timeout")) {
    options.connect_timeout = weft::worker::ParseSeconds(
        "--connect-timeout", args.Get("connect-timeout", ""));
  }
  // --scheduler, else $WEFT_SCHEDULER, else the scheduler file (waiting
  // for it as for the scheduler itself).
  options.scheduler_address = args.Get("scheduler", "");
  if (const char* env = std::getenv("WEFT_SCHEDULER");
      options.scheduler_address.empty() && env != nullptr && *env) {
    options.scheduler_address = env;
  }
  if (options.scheduler_address.empty()) {
    const std::string file = SchedulerFilePath(args);
    absl::StatusOr<std::string> address = weft::rpc::ReadSchedulerFile(file);
    if (absl::IsNotFound(address.status())) {
      std::cerr << "weft worker: waiting for the scheduler's address in "
                << file << std::endl;
      address = weft::rpc::WaitForSchedulerFile(
          file, absl::Now() + absl::FromChrono(options.connect_timeout));
    }
    if (!address.ok()) {
      Die(absl::StrCat(address.status().message(),
                       "; start `weft scheduler` first, or pass "
                       "--scheduler=HOST:PORT"));
    }
    options.scheduler_address = *address;
  }
  // The CPUs of its SLURM task, else 1.
  absl::StatusOr<int> threads = weft::deploy::DefaultWorkerThreads();
  if (!threads.ok()) Die(std::string(threads.status().message()));
  options.nthreads = args.Int("nthreads", *threads);
  if (options.nthreads < 1 || options.nthreads > weft::rpc::kMaxWorkerThreads) {
    Die(absl::StrCat("--nthreads wants a number from 1 to ",
                     weft::rpc::kMaxWorkerThreads));
  }
  // Inside a SLURM job its peers are on other nodes: the node's name.
  // Else the worker chooses (worker::WorkerOptions::host).
  options.host = args.Get("host", InSlurmJob() ? HostName() : "");
  // Read when connecting: the scheduler may not have written it yet.
  options.token =
      weft::rpc::TokenSource::FromEnvironmentOr(args.Get("token-file", ""));
  if (args.flags.contains("retire-timeout")) {
    options.retire_timeout = weft::worker::ParseSeconds(
        "--retire-timeout", args.Get("retire-timeout", ""),
        /*allow_zero=*/true);
  }
  if (args.flags.contains("rejoin-timeout")) {
    options.rejoin_timeout = weft::worker::ParseSeconds(
        "--rejoin-timeout", args.Get("rejoin-timeout", ""),
        /*allow_zero=*/true);
  }
  return weft::worker::RunWorker(options);
}

int Status(const Args& args) {
  ConfigureTls(args);
  std::string address = args.Get("scheduler", "");
  if (address.empty()) {
    std::ifstream state(StatePath());
    if (state) std::getline(state, address);
  }
  if (address.empty() && std::getenv("WEFT_SCHEDULER") == nullptr) {
    address =
        weft::rpc::ReadSchedulerFile(SchedulerFilePath(args)).value_or("");
  }
  weft::Client client =
      weft::Client::Connect(address, args.Get("token-file", ""));
  auto workers = client.workers();
  const std::string dashboard = client.dashboard_link();
  std::cout << "scheduler " << (address.empty() ? "$WEFT_SCHEDULER" : address)
            << ": " << workers.size() << " workers; dashboard "
            << (dashboard.empty() ? "none" : dashboard) << "\n";
  // running: tasks executing now; queued: assigned and waiting there;
  // memory: the process's resident memory; held: its objects' bytes.
  std::printf("%-6s %-22s %-16s %8s %7s %7s %7s %6s %10s %10s %8s\n", "id",
              "address", "host", "pid", "threads", "running", "queued", "cpu",
              "memory", "held", "objects");
  for (const auto& w : workers) {
    std::printf("%-6llu %-22s %-16s %8lld %7d %7d %7d %5.0f%% %8.1fMB "
                "%8.1fMB %8llu\n",
                static_cast<unsigned long long>(w.id), w.address.c_str(),
                w.host.c_str(), static_cast<long long>(w.pid), w.nthreads,
                w.executing, std::max(0, w.processing - w.executing),
                100 * w.cpu, w.rss_bytes / 1e6, w.memory_bytes / 1e6,
                static_cast<unsigned long long>(w.objects));
  }
  return 0;
}

const Verb kScheduler = {
    "weft scheduler",
    "usage: weft scheduler [flags]\n"
    "Runs a scheduler until SIGTERM or SIGINT; writes its token and its\n"
    "address (the scheduler file) for workers and programs to find.\n" +
        std::string(kSchedulerUsage) + kTlsUsage +
        "  --exit-with-parent=yes|no  stop when the parent process ends\n"
        "                         (default: yes inside a SLURM job)\n",
    [] {
      std::vector<std::string> flags = SchedulerFlags();
      flags.push_back("exit-with-parent=");
      return flags;
    }()};

const Verb kWorker = {
    "weft worker",
    "usage: weft worker [flags]\n"
    "Runs a worker (under a supervisor that restarts it if it crashes)\n"
    "until SIGTERM or SIGINT, which make it retire.\n"
    "  --scheduler=HOST:PORT  the scheduler (default: $WEFT_SCHEDULER, else\n"
    "                         the scheduler file)\n"
    "  --scheduler-file=F     where to find the scheduler's address\n"
    "  --token-file=F         the scheduler's token (default: $WEFT_TOKEN,\n"
    "                         else the state directory's)\n"
    "  --nthreads=N           task threads (default: the CPUs of its SLURM\n"
    "                         task, else 1)\n"
    "  --host=H               the address peers reach it at (default: the\n"
    "                         node's name inside a SLURM job, else\n"
    "                         127.0.0.1 for a scheduler on this machine,\n"
    "                         else this machine's address toward it)\n"
    "  --load=LIB.so          a library of tasks (repeatable)\n"
    "  --connect-timeout=S    how long to try the scheduler at start\n"
    "  --rejoin-timeout=S     how long to try to rejoin a lost scheduler\n"
    "                         (0: exit at once)\n"
    "  --retire-timeout=S     how long a retirement may take (0: leave at\n"
    "                         once)\n"
    "  --no-supervisor        run without the supervisor\n"
    "  --max-restarts=N       restarts of a crashed worker (default: no\n"
    "                         limit)\n"
    "  --exit-with-parent=yes|no  stop when the parent process ends\n"
    "                         (default: yes inside a SLURM job)\n" +
        std::string(kTlsUsage),
    [] {
      std::vector<std::string> flags = {
          "scheduler=",      "scheduler-file=", "token-file=",
          "nthreads=",       "host=",           "load=",
          "connect-timeout=", "rejoin-timeout=", "retire-timeout=",
          "no-supervisor",   "max-restarts=",   "exit-with-parent="};
      for (std::string& flag : TlsFlags()) flags.push_back(std::move(flag));
      return flags;
    }()};

const Verb kStatus = {
    "weft status",
    "usage: weft status [flags]\n"
    "Lists the workers of a scheduler.\n"
    "  --scheduler=HOST:PORT  the scheduler (default: `weft cluster`'s, else\n"
    "                         $WEFT_SCHEDULER, else the scheduler file)\n"
    "  --scheduler-file=F     where to find the scheduler's address\n"
    "  --token-file=F         the scheduler's token\n" +
        std::string(kTlsUsage),
    [] {
      std::vector<std::string> flags = {"scheduler=", "scheduler-file=",
                                        "token-file="};
      for (std::string& flag : TlsFlags()) flags.push_back(std::move(flag));
      return flags;
    }()};

const Verb kTlsInit = {
    "weft tls init",
    "usage: weft tls init DIR [--name=NAME]\n"
    "Makes a certificate authority for a cluster in DIR (ca.pem, ca.key)\n"
    "unless DIR has one, and a certificate and key signed by it\n"
    "(DIR/weft-cluster.pem and .key) that every process of the cluster can\n"
    "use: `weft scheduler --tls=DIR`, `weft worker --tls=DIR`, or\n"
    "WEFT_TLS_CERT, WEFT_TLS_KEY and WEFT_TLS_CA for programs. Keep ca.key\n"
    "away from the cluster's hosts once the certificates are made.\n"
    "  --name=NAME            another certificate from DIR's CA, as\n"
    "                         DIR/NAME.pem and DIR/NAME.key\n",
    {"name="}};

int TlsInit(int argc, char** argv) {
  if (argc < 4 || std::string(argv[3]).rfind("-", 0) == 0) {
    if (argc >= 4 && (std::string(argv[3]) == "--help" ||
                      std::string(argv[3]) == "-h")) {
      std::cout << kTlsInit.usage;
      return 0;
    }
    Die("`weft tls init` wants a directory; `weft tls init --help` says more");
  }
  const std::string dir = argv[3];
  const Args args(argc, argv, 4, kTlsInit);
  const std::string name = args.Get("name", weft::rpc::kTlsClusterName);
  if (absl::Status s = weft::rpc::MakeTlsDirectory(dir, name); !s.ok()) {
    Die(std::string(s.message()));
  }
  const weft::rpc::TlsFiles files = weft::rpc::TlsFilesInDirectory(dir, name);
  std::cout << "weft: certificate " << files.cert << ", key " << files.key
            << ", CA " << files.ca << " (its key " << dir << "/ca.key)\n";
  return 0;
}

// Prints the verbs; on stdout and exits 0 if asked (--help), else on
// stderr and exits 2.
[[noreturn]] void Usage(bool asked = false) {
  (asked ? std::cout : std::cerr)
      << "usage:\n"
         "  weft scheduler [--host=H | --interface=IF] [--port=P] ...\n"
         "  weft worker [--scheduler=HOST:PORT] [--nthreads=N] "
         "[--load=LIB.so]... ...\n"
         "  weft cluster start [-n N] [--port=P] [--load=LIB.so]...\n"
         "                     [--hosts=H1,H2,... | --hostfile=F] ...\n"
         "  weft cluster stop\n"
         "  weft slurm [-n N | --adapt=MIN:MAX] [--cores=C] "
         "[--memory=M] [--walltime=T] ...\n"
         "  weft status [--scheduler=HOST:PORT]\n"
         "  weft tls init DIR [--name=NAME]\n"
         "`weft VERB --help` lists a verb's flags.\n";
  std::exit(asked ? 0 : 2);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> original(argv, argv + argc);
  // `weft --weft-worker --weft-scheduler=...` (how LocalCluster starts a
  // worker binary) is a generic worker too.
  weft::Init(argc, argv);
  if (argc < 2) Usage();
  const std::string verb = argv[1];
  if (verb == "--help" || verb == "-h" || verb == "help") Usage(true);
  try {
    if (verb == "scheduler") return Scheduler(Args(argc, argv, 2, kScheduler));
    if (verb == "worker") return Worker(Args(argc, argv, 2, kWorker), original);
    if (verb == "status") return Status(Args(argc, argv, 2, kStatus));
    if (verb == "tls" && argc >= 3 && std::string(argv[2]) == "init") {
      return TlsInit(argc, argv);
    }
    if (verb == "slurm") return SlurmCommand(Args(argc, argv, 2, kSlurmVerb));
    if (verb == "cluster" && argc >= 3) {
      const std::string what = argv[2];
      if (what == "start") {
        return ClusterStart(Args(argc, argv, 3, kClusterStartVerb));
      }
      if (what == "stop") {
        return ClusterStop(Args(argc, argv, 3, kClusterStopVerb));
      }
    }
  } catch (const std::exception& e) {
    Die(e.what());
  }
  std::cerr << "weft: unknown command '" << verb
            << ((verb == "cluster" || verb == "tls") && argc >= 3
                    ? std::string(" ") + argv[2]
                                               : std::string())
            << "'\n";
  Usage();
}
