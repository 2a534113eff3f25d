// Copyright 2026 The weft Authors.
//
// The `weft` command: start and inspect clusters from the shell
// (ipyparallel's ipcontroller/ipengine/ipcluster, Dask's dask-scheduler and
// dask-worker).
//
//   weft scheduler [--host=127.0.0.1] [--port=8786] [--frame-port=0]
//                  [--dashboard-port=8787] [--token-file=F]
//                  [--new-token]
//                  [--heartbeat-timeout=S] [--client-timeout=S]
//   weft worker --scheduler=HOST:PORT [--nthreads=N] [--host=H]
//               [--token-file=F] [--load=libtasks.so]...
//               [--connect-timeout=S] [--rejoin-timeout=S]
//               [--retire-timeout=S] [--no-supervisor] [--max-restarts=N]
//   weft cluster start [-n 4] [--port=8786] [--dashboard-port=8787]
//                      [--load=libtasks.so]...
//   weft cluster stop
//   weft status [--scheduler=HOST:PORT] [--token-file=F]
//
// Functions run by `weft worker` come from shared libraries given with
// --load: their WEFT_REMOTE registrations run when they are loaded. A user
// program can instead be its own worker (see weft::Init and LocalCluster).

#include <dlfcn.h>
#include <signal.h>
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
#include "rpc/status.h"
#include "rpc/token.h"
#include "scheduler/dashboard/http_server.h"
#include "scheduler/scheduler_service.h"
#include "weft/weft.h"
#include "worker/supervisor.h"
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

volatile sig_atomic_t stop_requested = 0;
void OnSignal(int) { stop_requested = 1; }

int Scheduler(const Args& args) {
  const std::string host = args.Get("host", "127.0.0.1");
  const int port = args.Int("port", kDefaultPort);
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
  // The default port falls back to a free one if taken (as Dask's); a port
  // asked for is taken or the scheduler does not start. -1: no dashboard.
  options.dashboard_port =
      args.Int("dashboard-port", weft::dashboard::kDefaultDashboardPort);
  options.dashboard_port_fallback = !args.flags.contains("dashboard-port");
  if (args.flags.contains("heartbeat-timeout")) {
    options.state.heartbeat_timeout = absl::FromChrono(
        weft::worker::ParseSeconds("--heartbeat-timeout",
                                   args.Get("heartbeat-timeout", "")));
  }
  if (args.flags.contains("client-timeout")) {
    options.client_timeout = absl::FromChrono(weft::worker::ParseSeconds(
        "--client-timeout", args.Get("client-timeout", "")));
  }
  auto server = weft::scheduler::SchedulerServer::Start(host, port, options);
  if (!server.ok()) Die(std::string(server.status().message()));
  std::cout << "weft scheduler listening on " << (*server)->address()
            << " (worker task streams on port " << (*server)->frame_port()
            << "; token in " << token_file << ")" << std::endl;
  if (!(*server)->dashboard_url().empty()) {
    std::cout << "weft dashboard at " << (*server)->dashboard_url()
              << (weft::dashboard::IsLoopbackHost(host)
                      ? ""
                      : " (open it with ?token=TOKEN, the token file's)")
              << std::endl;
  }
  ::signal(SIGINT, OnSignal);
  ::signal(SIGTERM, OnSignal);
  while (!stop_requested) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << "weft scheduler stopping" << std::endl;
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

int Worker(const Args& args, const std::vector<std::string>& argv) {
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
  options.scheduler_address = args.Get("scheduler", "");
  if (options.scheduler_address.empty()) {
    const char* env = std::getenv("WEFT_SCHEDULER");
    if (env == nullptr) Die("worker needs --scheduler=HOST:PORT");
    options.scheduler_address = env;
  }
  options.nthreads = args.Int("nthreads", 1);
  options.host = args.Get("host", "127.0.0.1");
  // Read when connecting: the scheduler may not have written it yet.
  options.token =
      weft::rpc::TokenSource::FromEnvironmentOr(args.Get("token-file", ""));
  if (args.flags.contains("connect-timeout")) {
    options.connect_timeout = weft::worker::ParseSeconds(
        "--connect-timeout", args.Get("connect-timeout", ""));
  }
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
  std::vector<std::string> scheduler = {self, "scheduler", "--host=" + host,
                                       absl::StrCat("--port=", port)};
  if (args.flags.contains("dashboard-port")) {
    scheduler.push_back("--dashboard-port=" + args.Get("dashboard-port", ""));
  }
  pids.push_back(Daemon(scheduler, log));
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
                                     "--nthreads=" + args.Get("nthreads", "1")};
    for (const auto& lib : args.loads) argv.push_back("--load=" + lib);
    pids.push_back(Daemon(argv, log));
  }
  std::ofstream state(StatePath());
  state << address << "\n";
  for (pid_t pid : pids) state << pid << "\n";
  state.close();
  std::string dashboard;
  try {
    weft::Client client = weft::Client::Connect(address);
    client.wait_for_workers(n, std::chrono::seconds(30));
    dashboard = client.dashboard_link();
  } catch (const std::exception& e) {
    std::cerr << "weft: cluster started, but: " << e.what() << "\n";
  }
  std::cout << "weft cluster: scheduler at " << address << ", " << n
            << " workers (logs in " << log << ")\n";
  if (!dashboard.empty()) std::cout << "  dashboard at " << dashboard << "\n";
  std::cout << "  export WEFT_SCHEDULER=" << address << std::endl;
  return 0;
}

int ClusterStop() {
  std::ifstream state(StatePath());
  if (!state) Die("no cluster is running (no " + StatePath() + ")");
  std::string address;
  std::getline(state, address);
  std::vector<pid_t> pids;
  for (pid_t pid; state >> pid;) pids.push_back(pid);
  // Workers first (they retire: nothing is left to hand off to, so they
  // go at once), then the scheduler (the first pid), so that no worker
  // sees its scheduler vanish and tries to rejoin it.
  auto stop = [](const std::vector<pid_t>& group, std::chrono::seconds grace) {
    for (pid_t pid : group) ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    for (pid_t pid : group) {
      while (::kill(pid, 0) == 0 &&
             std::chrono::steady_clock::now() < deadline) {
        ::waitpid(pid, nullptr, WNOHANG);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
    }
  };
  if (pids.size() > 1) {
    stop({pids.begin() + 1, pids.end()}, std::chrono::seconds(10));
  }
  if (!pids.empty()) stop({pids.front()}, std::chrono::seconds(5));
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

void Usage() {
  std::cerr << "usage:\n"
               "  weft scheduler [--host=H] [--port=P] [--frame-port=P]\n"
               "                 [--dashboard-port=P] [--token-file=F] "
               "[--new-token]\n"
               "                 [--heartbeat-timeout=S] [--client-timeout=S]\n"
               "  weft worker --scheduler=HOST:PORT [--nthreads=N] "
               "[--load=LIB.so]...\n"
               "              [--connect-timeout=S] [--rejoin-timeout=S]\n"
               "              [--retire-timeout=S] [--no-supervisor] "
               "[--max-restarts=N]\n"
               "  weft cluster start [-n N] [--port=P] [--dashboard-port=P]\n"
               "                     [--load=LIB.so]...\n"
               "  weft cluster stop\n"
               "  weft status [--scheduler=HOST:PORT]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> original(argv, argv + argc);
  // `weft --weft-worker --weft-scheduler=...` (how LocalCluster starts a
  // worker binary) is a generic worker too.
  weft::Init(argc, argv);
  if (argc < 2) Usage();
  const std::string verb = argv[1];
  try {
    if (verb == "scheduler") return Scheduler(Args(argc, argv, 2));
    if (verb == "worker") return Worker(Args(argc, argv, 2), original);
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
