// Copyright 2026 The weft Authors.

#include "tools/cli.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "deploy/slurm_env.h"
#include "rpc/cluster_files.h"
#include "rpc/token.h"

namespace weft::cli {

volatile sig_atomic_t stop_requested = 0;
void OnStopSignal(int) { stop_requested = 1; }

void Die(const std::string& message) {
  // Messages from the library already say "weft: ".
  std::cerr << (message.rfind("weft: ", 0) == 0 ? "" : "weft: ") << message
            << std::endl;
  std::exit(2);
}

Args::Args(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-n" && i + 1 < argc) {
      flags["n"] = argv[++i];
      all["n"].push_back(flags["n"]);
    } else if (arg.rfind("--", 0) == 0) {
      const size_t eq = arg.find('=');
      std::string name =
          arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
      if (eq == std::string::npos && i + 1 < argc && argv[i + 1][0] != '-') {
        value = argv[++i];
      }
      if (name == "load") loads.push_back(value);
      all[name].push_back(value);
      flags[name] = value;
    } else {
      positional.push_back(arg);
    }
  }
}

std::string Args::Get(const std::string& name,
                      const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

int Args::Int(const std::string& name, int fallback) const {
  auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  int value;
  if (!absl::SimpleAtoi(it->second, &value)) {
    Die("--" + name + " wants a number, got '" + it->second + "'");
  }
  return value;
}

std::vector<std::string> Args::All(const std::string& name) const {
  auto it = all.find(name);
  return it == all.end() ? std::vector<std::string>() : it->second;
}

std::string DefaultTokenPath() {
  absl::StatusOr<std::string> path = rpc::DefaultTokenPath();
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

std::string HostName() {
  char name[256] = {0};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

bool InSlurmJob() { return deploy::CurrentSlurmJobId().has_value(); }

void ExitWithParentIfAsked(const Args& args) {
  const std::string want =
      args.Get("exit-with-parent", InSlurmJob() ? "yes" : "no");
  if (want == "no") return;
  if (want != "yes") {
    Die("--exit-with-parent wants yes or no, got '" + want + "'");
  }
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::raise(SIGTERM);  // it is already gone
}

std::string SchedulerFilePath(const Args& args) {
  if (args.flags.contains("scheduler-file")) {
    return args.Get("scheduler-file", "");
  }
  absl::StatusOr<std::string> path =
      rpc::SchedulerFileBeside(args.Get("token-file", ""));
  if (!path.ok()) Die(std::string(path.status().message()));
  return *path;
}

RunningScheduler StartScheduler(const Args& args,
                                const std::string& default_host) {
  RunningScheduler scheduler;
  const std::string host = args.Get("host", default_host);
  // Inside a SLURM job any free port, so two jobs on one node never meet;
  // workers and programs find it in the scheduler file.
  const int port = args.Int("port", InSlurmJob() ? 0 : kDefaultPort);
  scheduler.token_file = args.flags.contains("token-file")
                             ? args.Get("token-file", "")
                             : DefaultTokenPath();
  std::string token;
  if (const char* env = std::getenv("WEFT_TOKEN"); env != nullptr && *env) {
    token = env;
  } else if (!args.flags.contains("new-token")) {
    absl::StatusOr<std::string> kept = rpc::ReadTokenFile(scheduler.token_file);
    if (kept.ok()) token = *std::move(kept);
  }
  if (token.empty()) token = rpc::NewToken();
  if (absl::Status s = rpc::WriteTokenFile(scheduler.token_file, token);
      !s.ok()) {
    Die(std::string(s.message()));
  }
  scheduler::SchedulerService::Options options;
  options.token = token;
  options.frame_port = args.Int("frame-port", 0);
  auto server = scheduler::SchedulerServer::Start(host, port, options);
  if (!server.ok()) Die(std::string(server.status().message()));
  scheduler.server = *std::move(server);
  const std::string& listening = scheduler.server->address();
  scheduler.address = rpc::ReachableAddress(
      host, std::stoi(listening.substr(listening.rfind(':') + 1)));
  scheduler.scheduler_file = SchedulerFilePath(args);
  if (absl::Status s =
          rpc::WriteSchedulerFile(scheduler.scheduler_file, scheduler.address);
      !s.ok()) {
    scheduler.server->Shutdown();
    Die(std::string(s.message()));
  }
  return scheduler;
}

void StopScheduler(RunningScheduler& scheduler) {
  if (rpc::ReadSchedulerFile(scheduler.scheduler_file).value_or("") ==
      scheduler.address) {
    std::remove(scheduler.scheduler_file.c_str());
  }
  scheduler.server->Shutdown();
}

}  // namespace weft::cli
