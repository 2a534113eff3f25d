// Copyright 2026 The weft Authors.

#include "tools/cli.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "deploy/slurm_env.h"
#include "rpc/cluster_files.h"
#include "rpc/tls.h"
#include "rpc/token.h"
#include "scheduler/dashboard/http_server.h"
#include "worker/worker_main.h"

namespace weft::cli {

volatile sig_atomic_t stop_requested = 0;
void OnStopSignal(int) { stop_requested = 1; }

void Die(const std::string& message) {
  // Messages from the library already say "weft: ".
  std::cerr << (message.rfind("weft: ", 0) == 0 ? "" : "weft: ") << message
            << std::endl;
  std::exit(2);
}

std::vector<std::string> SchedulerFlags() {
  std::vector<std::string> flags = {
      "host=",       "interface=",         "port=",
      "frame-port=", "token-file=",        "scheduler-file=",
      "new-token",   "heartbeat-timeout=", "client-timeout=",
      "dashboard-port="};
  for (std::string& flag : TlsFlags()) flags.push_back(std::move(flag));
  return flags;
}

std::vector<std::string> TlsFlags() {
  return {"tls=", "tls-cert=", "tls-key=", "tls-ca="};
}

const char kTlsUsage[] =
    "  --tls=DIR              mutual TLS with the files of `weft tls init\n"
    "                         DIR` (DIR/weft-cluster.pem, .key, ca.pem)\n"
    "  --tls-cert=F --tls-key=F --tls-ca=F  mutual TLS with these files\n"
    "                         (default: $WEFT_TLS_CERT, $WEFT_TLS_KEY,\n"
    "                         $WEFT_TLS_CA; none: no TLS)\n";

void ConfigureTls(const Args& args) {
  const bool dir = args.flags.contains("tls");
  const int files = args.flags.contains("tls-cert") +
                    args.flags.contains("tls-key") +
                    args.flags.contains("tls-ca");
  if (dir && files > 0) {
    Die("--tls=DIR and --tls-cert/--tls-key/--tls-ca exclude each other");
  }
  if (files > 0 && files < 3) {
    Die("--tls-cert, --tls-key and --tls-ca go together");
  }
  absl::Status status;
  if (dir) {
    status = rpc::ConfigureProcessTls(
        rpc::TlsFilesInDirectory(args.Get("tls", "")));
  } else if (files == 3) {
    status = rpc::ConfigureProcessTls(rpc::TlsFiles{
        args.Get("tls-cert", ""), args.Get("tls-key", ""),
        args.Get("tls-ca", "")});
  } else {
    status = rpc::ProcessTls().status();
  }
  if (!status.ok()) Die(std::string(status.message()));
}

std::vector<std::string> TlsArgsForChildren() {
  absl::StatusOr<std::shared_ptr<const rpc::TlsContext>> tls =
      rpc::ProcessTls();
  if (!tls.ok() || *tls == nullptr) return {};
  const rpc::TlsFiles& files = (*tls)->files();
  return {"--tls-cert=" + files.cert, "--tls-key=" + files.key,
          "--tls-ca=" + files.ca};
}

const char kSchedulerUsage[] =
    "  --host=H               the address to listen on (0.0.0.0: all)\n"
    "  --interface=IF         listen on the IPv4 address of interface IF\n"
    "                         (e.g. eth0, ib0) instead of --host\n"
    "  --port=P               the port (default 8786; inside a SLURM job,\n"
    "                         any free one); a port in use is an error\n"
    "  --frame-port=P         the workers' task-stream port (default: any)\n"
    "  --token-file=F         where the token is kept (default: the state\n"
    "                         directory's)\n"
    "  --new-token            a fresh token even if the file has one\n"
    "  --scheduler-file=F     where the address is written (default: beside\n"
    "                         the token file)\n"
    "  --heartbeat-timeout=S  drop a worker silent this long (seconds)\n"
    "  --client-timeout=S     drop a client silent this long (seconds)\n"
    "  --dashboard-port=P     the dashboard's port (default 8787, or a free\n"
    "                         one if that is taken; -1: no dashboard)\n";

Args::Args(int argc, char** argv, int first, const Verb& verb) {
  const std::string help = "; `" + verb.name + " --help` lists what it accepts";
  auto known = [&](const std::string& name, bool* takes_value) {
    for (const std::string& flag : verb.flags) {
      if (flag == name || flag == name + "=") {
        *takes_value = flag.back() == '=';
        return true;
      }
    }
    return false;
  };
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << verb.usage;
      std::exit(0);
    }
    std::string name;
    std::optional<std::string> value;
    if (arg == "-n") {
      name = "n";
    } else if (arg.rfind("--", 0) == 0 && arg.size() > 2) {
      const size_t eq = arg.find('=');
      name =
          arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (eq != std::string::npos) value = arg.substr(eq + 1);
    } else {
      Die("unexpected argument '" + arg + "' for `" + verb.name + "`" + help);
    }
    bool takes_value = false;
    if (!known(name, &takes_value)) {
      Die("unknown flag " + arg.substr(0, arg.find('=')) + " for `" +
          verb.name + "`" + help);
    }
    if (!takes_value && value.has_value()) {
      Die("--" + name + " takes no value" + help);
    }
    if (takes_value && !value.has_value()) {
      if (i + 1 >= argc) Die(arg + " wants a value" + help);
      value = argv[++i];
    }
    if (name == "load") loads.push_back(*value);
    all[name].push_back(value.value_or(""));
    flags[name] = value.value_or("");
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
  ConfigureTls(args);
  RunningScheduler scheduler;
  std::string host = args.Get("host", default_host);
  if (args.flags.contains("interface")) {
    if (args.flags.contains("host"))
      Die("give --host or --interface, not both");
    absl::StatusOr<std::string> address =
        rpc::InterfaceAddress(args.Get("interface", ""));
    if (!address.ok()) Die(std::string(address.status().message()));
    host = *address;
  }
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
  // The default port falls back to a free one if taken (as Dask's); a port
  // asked for is taken or the scheduler does not start. -1: no dashboard.
  options.dashboard_port =
      args.Int("dashboard-port", dashboard::kDefaultDashboardPort);
  options.dashboard_port_fallback = !args.flags.contains("dashboard-port");
  if (args.flags.contains("heartbeat-timeout")) {
    options.state.heartbeat_timeout = absl::FromChrono(worker::ParseSeconds(
        "--heartbeat-timeout", args.Get("heartbeat-timeout", "")));
  }
  if (args.flags.contains("client-timeout")) {
    options.client_timeout = absl::FromChrono(worker::ParseSeconds(
        "--client-timeout", args.Get("client-timeout", "")));
  }
  auto server = scheduler::SchedulerServer::Start(host, port, options);
  if (!server.ok()) Die(std::string(server.status().message()));
  scheduler.server = *std::move(server);
  scheduler.dashboard_loopback = dashboard::IsLoopbackHost(host);
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
