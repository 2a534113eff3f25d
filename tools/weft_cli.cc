// Copyright 2026 The weft Authors.
//
// The `weft` command: start and inspect clusters from the shell
// (ipyparallel's ipcontroller/ipengine/ipcluster, Dask's dask-scheduler and
// dask-worker).
//
//   weft scheduler [--host=127.0.0.1] [--port=8786] [--frame-port=0]
//                  [--token-file=F] [--scheduler-file=F]
//   weft worker [--scheduler=HOST:PORT] [--nthreads=N] [--host=H]
//               [--token-file=F] [--scheduler-file=F] [--load=libtasks.so]...
//   weft cluster start [-n 4] [--port=8786] [--load=libtasks.so]...
//   weft cluster stop
//   weft status [--scheduler=HOST:PORT] [--token-file=F]
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
#include "rpc/status.h"
#include "rpc/token.h"
#include "scheduler/scheduler_service.h"
#include "weft/weft.h"
#include "worker/worker.h"

namespace {

constexpr int kDefaultPort = 8786;

[[noreturn]] void Die(const std::string& message) {
  // Messages from the library already say "weft: ".
  std::cerr << (message.rfind("weft: ", 0) == 0 ? "" : "weft: ") << message
            << std::endl;
  std::exit(2);
}

// --name=value flags, "-n N", and repeated --load.
struct Args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> loads;
  std::vector<std::string> positional;

  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "-n" && i + 1 < argc) {
        flags["n"] = argv[++i];
      } else if (arg.rfind("--", 0) == 0) {
        const size_t eq = arg.find('=');
        std::string name = arg.substr(2, eq == std::string::npos
                                             ? std::string::npos
                                             : eq - 2);
        std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
        if (eq == std::string::npos && i + 1 < argc && argv[i + 1][0] != '-') {
          value = argv[++i];
        }
        if (name == "load") {
          loads.push_back(value);
        } else {
          flags[name] = value;
        }
      } else {
        positional.push_back(arg);
      }
    }
  }
  std::string Get(const std::string& name, const std::string& fallback) const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
  int Int(const std::string& name, int fallback) const {
    auto it = flags.find(name);
    if (it == flags.end()) return fallback;
    int value;
    if (!absl::SimpleAtoi(it->second, &value)) {
      Die("--" + name + " wants a number, got '" + it->second + "'");
    }
    return value;
  }
};

std::string DefaultTokenPath() {
  absl::StatusOr<std::string> path = weft::rpc::DefaultTokenPath();
  if (!path.ok()) Die(std::string(path.status().message()));
  return *path;
}

std::string StateDir() {
  const std::string token = DefaultTokenPath();
  return token.substr(0, token.rfind('/'));
}
std::string StatePath() { return StateDir() + "/cluster"; }

std::string SelfPath() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) Die("cannot find this program's path");
  path[n] = '\0';
  return path;
}

bool InSlurmJob() { return weft::deploy::CurrentSlurmJobId().has_value(); }

// Inside a SLURM job, `weft scheduler &` and `weft worker &` in a batch
// script stop when the script ends: with proctrack/linuxproc SLURM finds a
// job's processes through their parents, and loses a background process
// once the script that started it is gone. --exit-with-parent=yes|no
// overrides (`weft cluster start` passes no: its processes are detached).
void ExitWithParentIfAsked(const Args& args) {
  const std::string want =
      args.Get("exit-with-parent", InSlurmJob() ? "yes" : "no");
  if (want == "no") return;
  if (want != "yes") Die("--exit-with-parent wants yes or no, got '" + want + "'");
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::raise(SIGTERM);  // it is already gone
}

// The scheduler file: --scheduler-file, else the one beside --token-file,
// else the state directory's.
std::string SchedulerFilePath(const Args& args) {
  if (args.flags.contains("scheduler-file")) {
    return args.Get("scheduler-file", "");
  }
  absl::StatusOr<std::string> path =
      weft::rpc::SchedulerFileBeside(args.Get("token-file", ""));
  if (!path.ok()) Die(std::string(path.status().message()));
  return *path;
}

volatile sig_atomic_t stop_requested = 0;
void OnSignal(int) { stop_requested = 1; }

int Scheduler(const Args& args) {
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  ExitWithParentIfAsked(args);
  const std::string host = args.Get("host", "127.0.0.1");
  // Inside a SLURM job any free port, so two jobs on one node never meet;
  // workers and programs find it in the scheduler file.
  const int port = args.Int("port", InSlurmJob() ? 0 : kDefaultPort);
  const std::string token_file =
      args.flags.contains("token-file") ? args.Get("token-file", "")
                                        : DefaultTokenPath();
  // $WEFT_TOKEN if set; else the token file's token, so that a restarted
  // scheduler lets the workers of its cluster back in (--new-token makes a
  // fresh one); else a fresh one.
  std::string token;
  if (const char* env = std::getenv("WEFT_TOKEN"); env != nullptr && *env) {
    token = env;
  } else if (!args.flags.contains("new-token")) {
    absl::StatusOr<std::string> kept = weft::rpc::ReadTokenFile(token_file);
    if (kept.ok()) token = *std::move(kept);
  }
  if (token.empty()) token = weft::rpc::NewToken();
  if (absl::Status s = weft::rpc::WriteTokenFile(token_file, token); !s.ok()) {
    Die(std::string(s.message()));
  }
  weft::scheduler::SchedulerService::Options options;
  options.token = token;
  options.frame_port = args.Int("frame-port", 0);
  auto server = weft::scheduler::SchedulerServer::Start(host, port, options);
  if (!server.ok()) Die(std::string(server.status().message()));
  const std::string& listening = (*server)->address();
  const std::string reachable = weft::rpc::ReachableAddress(
      host, std::stoi(listening.substr(listening.rfind(':') + 1)));
  const std::string scheduler_file = SchedulerFilePath(args);
  if (absl::Status s = weft::rpc::WriteSchedulerFile(scheduler_file, reachable);
      !s.ok()) {
    (*server)->Shutdown();
    Die(std::string(s.message()));
  }
  std::cout << "weft scheduler listening on " << listening
            << " (worker task streams on port " << (*server)->frame_port()
            << "; token in " << token_file << "; address " << reachable
            << " in " << scheduler_file << ")" << std::endl;
  while (!stop_requested) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << "weft scheduler stopping" << std::endl;
  // The file goes with the scheduler, unless another one has taken it over.
  if (weft::rpc::ReadSchedulerFile(scheduler_file).value_or("") == reachable) {
    std::remove(scheduler_file.c_str());
  }
  (*server)->Shutdown();
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

std::string HostName() {
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

int Worker(const Args& args) {
  ExitWithParentIfAsked(args);
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
  if (options.nthreads < 1) Die("--nthreads wants a positive number");
  // Inside a SLURM job its peers are on other nodes: the node's name.
  options.host = args.Get("host", InSlurmJob() ? HostName() : "127.0.0.1");
  // Read when connecting: the scheduler may not have written it yet.
  options.token =
      weft::rpc::TokenSource::FromEnvironmentOr(args.Get("token-file", ""));
  return weft::worker::RunWorker(options);
}

pid_t Daemon(const std::vector<std::string>& argv, const std::string& log) {
  std::vector<char*> cargv;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    ::setsid();
    FILE* out = std::fopen(log.c_str(), "a");
    if (out != nullptr) {
      ::dup2(::fileno(out), 1);
      ::dup2(::fileno(out), 2);
    }
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  return pid;
}

int ClusterStart(const Args& args) {
  if (std::ifstream(StatePath())) {
    Die("a cluster is already running (see " + StatePath() +
        "); stop it with `weft cluster stop`");
  }
  const int n = args.Int("n", static_cast<int>(std::thread::hardware_concurrency()));
  const int port = args.Int("port", kDefaultPort);
  const std::string host = args.Get("host", "127.0.0.1");
  const std::string address = absl::StrCat(host, ":", port);
  ::mkdir(StateDir().c_str(), 0700);
  const std::string log = StateDir() + "/cluster.log";
  const std::string self = SelfPath();
  std::vector<pid_t> pids;
  pids.push_back(Daemon({self, "scheduler", "--host=" + host,
                         absl::StrCat("--port=", port),
                         "--exit-with-parent=no"},
                        log));
  // Wait for the token file the scheduler writes, then for it to listen.
  absl::StatusOr<std::string> token;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    token = weft::rpc::ReadTokenFile(DefaultTokenPath());
    if (token.ok()) break;
  }
  if (!token.ok()) Die("the scheduler did not start; see " + log);
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> argv = {self, "worker", "--scheduler=" + address,
                                     "--nthreads=" + args.Get("nthreads", "1"),
                                     "--exit-with-parent=no"};
    for (const auto& lib : args.loads) argv.push_back("--load=" + lib);
    pids.push_back(Daemon(argv, log));
  }
  std::ofstream state(StatePath());
  state << address << "\n";
  for (pid_t pid : pids) state << pid << "\n";
  state.close();
  try {
    weft::Client client = weft::Client::Connect(address);
    client.wait_for_workers(n, std::chrono::seconds(30));
  } catch (const std::exception& e) {
    std::cerr << "weft: cluster started, but: " << e.what() << "\n";
  }
  std::cout << "weft cluster: scheduler at " << address << ", " << n
            << " workers (logs in " << log << ")\n"
            << "  export WEFT_SCHEDULER=" << address << std::endl;
  return 0;
}

int ClusterStop() {
  std::ifstream state(StatePath());
  if (!state) Die("no cluster is running (no " + StatePath() + ")");
  std::string address;
  std::getline(state, address);
  std::vector<pid_t> pids;
  for (pid_t pid; state >> pid;) pids.push_back(pid);
  // Workers first, then the scheduler (the first pid).
  for (size_t i = pids.size(); i-- > 0;) ::kill(pids[i], SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t pid : pids) {
    while (::kill(pid, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
      ::waitpid(pid, nullptr, WNOHANG);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
  }
  std::remove(StatePath().c_str());
  std::cout << "weft cluster at " << address << " stopped ("
            << pids.size() << " processes)" << std::endl;
  return 0;
}

int Status(const Args& args) {
  std::string address = args.Get("scheduler", "");
  if (address.empty()) {
    std::ifstream state(StatePath());
    if (state) std::getline(state, address);
  }
  if (address.empty() && std::getenv("WEFT_SCHEDULER") == nullptr) {
    address = weft::rpc::ReadSchedulerFile(SchedulerFilePath(args)).value_or("");
  }
  weft::Client client =
      weft::Client::Connect(address, args.Get("token-file", ""));
  auto workers = client.workers();
  std::cout << "scheduler " << (address.empty() ? "$WEFT_SCHEDULER" : address)
            << ": " << workers.size() << " workers\n";
  std::printf("%-6s %-22s %-16s %8s %8s %10s %12s\n", "id", "address", "host",
              "pid", "threads", "processing", "memory");
  for (const auto& w : workers) {
    std::printf("%-6llu %-22s %-16s %8lld %8d %10d %10.1fMB\n",
                static_cast<unsigned long long>(w.id), w.address.c_str(),
                w.host.c_str(), static_cast<long long>(w.pid), w.nthreads,
                w.processing, w.memory_bytes / 1e6);
  }
  return 0;
}

void Usage() {
  std::cerr << "usage:\n"
               "  weft scheduler [--host=H] [--port=P] [--frame-port=P]\n"
               "                 [--token-file=F] [--scheduler-file=F]\n"
               "  weft worker [--scheduler=HOST:PORT] [--nthreads=N] "
               "[--load=LIB.so]...\n"
               "  weft cluster start [-n N] [--port=P] [--load=LIB.so]...\n"
               "  weft cluster stop\n"
               "  weft status [--scheduler=HOST:PORT]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  // `weft --weft-worker --weft-scheduler=...` (how LocalCluster starts a
  // worker binary) is a generic worker too.
  weft::Init(argc, argv);
  if (argc < 2) Usage();
  const std::string verb = argv[1];
  try {
    if (verb == "scheduler") return Scheduler(Args(argc, argv, 2));
    if (verb == "worker") return Worker(Args(argc, argv, 2));
    if (verb == "status") return Status(Args(argc, argv, 2));
    if (verb == "cluster" && argc >= 3) {
      const std::string what = argv[2];
      if (what == "start") return ClusterStart(Args(argc, argv, 3));
      if (what == "stop") return ClusterStop();
    }
  } catch (const std::exception& e) {
    Die(e.what());
  }
  Usage();
}
