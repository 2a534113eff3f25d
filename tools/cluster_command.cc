// Copyright 2026 The weft Authors.
//
// The state file (StatePath()) of a running cluster:
//   HOST:PORT                 the scheduler's address
//   cluster ID                its mark: WEFT_CLUSTER=ID in every process
//   local PID START           a process on this machine (the scheduler
//                             first) and its start time (/proc/PID/stat's
//                             22nd field; absent in older files)
//   ssh HOST PID              a worker on HOST, started over ssh

#include "tools/cluster_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "deploy/run_command.h"
#include "rpc/cluster_files.h"
#include "rpc/token.h"
#include "weft/weft.h"

namespace weft::cli {
namespace {

constexpr char kMark[] = "WEFT_CLUSTER";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts argv detached (a session of its own), output appended to `log`,
// with the cluster's mark in its environment.
pid_t Daemon(const std::vector<std::string>& argv, const std::string& log,
             const std::string& mark) {
  std::vector<char*> cargv;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) Die("fork failed");
  if (pid == 0) {
    ::setsid();
    ::setenv(kMark, mark.c_str(), 1);
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

// Whether local process `pid` carries `mark`.
bool Marked(pid_t pid, const std::string& mark) {
  const std::string environ = ReadFile(absl::StrCat("/proc/", pid, "/environ"));
  for (absl::string_view entry : absl::StrSplit(environ, '\0')) {
    if (entry == absl::StrCat(kMark, "=", mark)) return true;
  }
  return false;
}

// A process this command started on this machine, as the state file
// records it.
struct LocalProcess {
  pid_t pid = 0;
  // When it started, in clock ticks after boot (0: not recorded).
  uint64_t start = 0;
};

// When local process `pid` started (the 22nd field of /proc/PID/stat, in
// clock ticks after boot); nullopt if there is no such process.
std::optional<uint64_t> StartTime(pid_t pid) {
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  // The command name (field 2) is in parentheses and may hold anything.
  const size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) return std::nullopt;
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(stat).substr(end_of_name + 1), ' ', absl::SkipEmpty());
  uint64_t start = 0;
  // Fields 3, 4, ... follow: field 22 is the 20th of them.
  if (fields.size() < 20 || !absl::SimpleAtoi(fields[19], &start)) {
    return std::nullopt;
  }
  return start;
}

LocalProcess Recorded(pid_t pid) {
  return LocalProcess{pid, StartTime(pid).value_or(0)};
}

// Whether `p` is still the process that was recorded: it carries the
// cluster's `mark` in its environment and, when its start time was
// recorded, started then (a process that got a recycled pid did not,
// even one that inherited the mark from a cluster process).
bool Ours(const LocalProcess& p, const std::string& mark) {
  if (!Marked(p.pid, mark)) return false;
  return p.start == 0 || StartTime(p.pid) == p.start;
}

// Stops those of `processes` that are still ours (Ours(); SIGTERM, SIGKILL
// after `grace`); returns how many it stopped. Any other process is left
// alone.
int StopLocal(const std::vector<LocalProcess>& processes,
              const std::string& mark,
              std::chrono::seconds grace = std::chrono::seconds(5)) {
  std::vector<LocalProcess> ours;
  for (const LocalProcess& p : processes) {
    if (Ours(p, mark)) ours.push_back(p);
  }
  for (const LocalProcess& p : ours) ::kill(p.pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (const LocalProcess& p : ours) {
    while (Ours(p, mark) && std::chrono::steady_clock::now() < deadline) {
      ::waitpid(p.pid, nullptr, WNOHANG);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (Ours(p, mark)) ::kill(p.pid, SIGKILL);
    ::waitpid(p.pid, nullptr, WNOHANG);
  }
  return static_cast<int>(ours.size());
}

// The shell command that stops, on a remote host, those of `pids` that
// carry `mark`, and prints "stopped PID..." for them.
std::string RemoteStopScript(const std::vector<pid_t>& pids,
                             const std::string& mark) {
  return absl::StrCat(
      "ours=; for p in ", absl::StrJoin(pids, " "), "; do grep -qxz ",
      deploy::ShellQuote(absl::StrCat(kMark, "=", mark)),
      " /proc/$p/environ 2>/dev/null && ours=\"$ours $p\"; done; "
      "[ -n \"$ours\" ] && kill -TERM $ours; "
      "i=0; alive=$ours; while [ -n \"$alive\" ] && [ $i -lt 100 ]; do "
      "sleep 0.1; i=$((i + 1)); alive=; for p in $ours; do "
      "grep -qxz ",
      deploy::ShellQuote(absl::StrCat(kMark, "=", mark)),
      " /proc/$p/environ 2>/dev/null && alive=\"$alive $p\"; done; done; "
      "[ -n \"$alive\" ] && kill -KILL $alive; echo stopped $ours");
}

struct Ssh {
  std::vector<std::string> command;  // e.g. {"ssh"}, then options
  int timeout_seconds = 5;

  std::vector<std::string> To(const std::string& host,
                              const std::string& script) const {
    std::vector<std::string> argv = command;
    for (const std::string& option :
         {std::string("BatchMode=yes"),
          absl::StrCat("ConnectTimeout=", timeout_seconds)}) {
      argv.push_back("-o");
      argv.push_back(option);
    }
    argv.push_back(host);
    argv.push_back(script);
    return argv;
  }
};

Ssh SshFrom(const Args& args) {
  Ssh ssh;
  ssh.command = absl::StrSplit(args.Get("ssh", "ssh"), ' ', absl::SkipEmpty());
  if (ssh.command.empty()) Die("--ssh wants a command");
  ssh.timeout_seconds = args.Int("ssh-timeout", 5);
  if (ssh.timeout_seconds < 1) Die("--ssh-timeout wants a positive number");
  return ssh;
}

// Runs one command per host at once; results in the same order.
std::vector<absl::StatusOr<deploy::CommandResult>> RunEverywhere(
    const std::vector<std::vector<std::string>>& commands,
    absl::Duration timeout) {
  std::vector<absl::StatusOr<deploy::CommandResult>> results(
      commands.size(), absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < commands.size(); ++i) {
    threads.emplace_back(
        [&, i] { results[i] = deploy::RunCommand(commands[i], "", timeout); });
  }
  for (std::thread& t : threads) t.join();
  return results;
}

// What went wrong starting workers on `host`, in words.
std::string Problem(const std::string& host,
                    const absl::StatusOr<deploy::CommandResult>& r) {
  if (!r.ok()) {
    return absl::StrCat(host, ": ", r.status().message());
  }
  const std::string said(absl::StripAsciiWhitespace(r->err));
  if (r->exit_code == 255) {
    return absl::StrCat(host, ": cannot reach it over ssh: ", said);
  }
  return absl::StrCat(host, ": ", said.empty() ? "failed" : said,
                      " (exit status ", r->exit_code, ")");
}

// The hosts of --hosts or --hostfile, in order (a host may repeat).
std::vector<std::string> Hosts(const Args& args) {
  std::vector<std::string> hosts;
  if (args.flags.contains("hosts")) {
    for (absl::string_view h :
         absl::StrSplit(args.Get("hosts", ""), ',', absl::SkipWhitespace())) {
      hosts.emplace_back(absl::StripAsciiWhitespace(h));
    }
    if (hosts.empty()) Die("--hosts wants a list of hosts, e.g. h1,h2");
  }
  if (args.flags.contains("hostfile")) {
    if (!hosts.empty()) Die("give --hosts or --hostfile, not both");
    const std::string path = args.Get("hostfile", "");
    std::ifstream in(path);
    if (!in) Die("cannot read the hosts file " + path);
    for (std::string line; std::getline(in, line);) {
      line = line.substr(0, line.find('#'));
      absl::string_view host = absl::StripAsciiWhitespace(line);
      if (!host.empty()) hosts.emplace_back(host);
    }
    if (hosts.empty()) Die("the hosts file " + path + " lists no host");
  }
  return hosts;
}

struct State {
  std::string address;
  std::string mark;
  std::vector<LocalProcess> local;
  std::map<std::string, std::vector<pid_t>> remote;  // by host
};

// Never through a symbolic link (rpc::WriteFileAtomically).
void WriteState(const State& state) {
  std::string text = absl::StrCat(state.address, "\ncluster ", state.mark,
                                  "\n");
  for (const LocalProcess& p : state.local) {
    absl::StrAppend(&text, "local ", p.pid, " ", p.start, "\n");
  }
  for (const auto& [host, pids] : state.remote) {
    for (pid_t pid : pids) absl::StrAppend(&text, "ssh ", host, " ", pid, "\n");
  }
  if (absl::Status s =
          rpc::WriteFileAtomically(StatePath(), text, "the cluster's state");
      !s.ok()) {
    Die(std::string(s.message()));
  }
}

State ReadState() {
  std::ifstream in(StatePath());
  if (!in) Die("no cluster is running (no " + StatePath() + ")");
  State state;
  std::getline(in, state.address);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    int pid = 0;
    if (words.size() == 2 && words[0] == "cluster") {
      state.mark = words[1];
    } else if ((words.size() == 2 || words.size() == 3) &&
               words[0] == "local" && absl::SimpleAtoi(words[1], &pid)) {
      LocalProcess& p = state.local.emplace_back();
      p.pid = pid;
      if (words.size() == 3 && !absl::SimpleAtoi(words[2], &p.start)) {
        p.start = 0;
      }
    } else if (words.size() == 3 && words[0] == "ssh" &&
               absl::SimpleAtoi(words[2], &pid)) {
      state.remote[words[1]].push_back(pid);
    }
  }
  if (state.mark.empty()) {
    Die(StatePath() +
        " is not a cluster's state file; remove it and stop "
        "its processes by hand");
  }
  return state;
}

// Stops the remote workers of `state` (in parallel, one ssh per host);
// returns how many were stopped and adds problems to `problems`.
int StopRemote(const State& state, const Ssh& ssh,
               std::vector<std::string>& problems) {
  std::vector<std::string> hosts;
  std::vector<std::vector<std::string>> commands;
  for (const auto& [host, pids] : state.remote) {
    hosts.push_back(host);
    commands.push_back(ssh.To(host, RemoteStopScript(pids, state.mark)));
  }
  int stopped = 0;
  const auto results =
      RunEverywhere(commands, absl::Seconds(ssh.timeout_seconds + 15));
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (!results[i].ok() || results[i]->exit_code != 0) {
      problems.push_back(Problem(hosts[i], results[i]));
      continue;
    }
    std::vector<std::string> words = absl::StrSplit(
        results[i]->out, absl::ByAnyChar(" \n"), absl::SkipEmpty());
    stopped += static_cast<int>(words.size()) - 1;  // "stopped PID..."
  }
  return stopped;
}

}  // namespace

const Verb kClusterStartVerb = {
    "weft cluster start",
    "usage: weft cluster start [flags]\n"
    "Starts a scheduler here in the background, then workers here or, with\n"
    "--hosts or --hostfile, over ssh on those hosts in turn.\n"
    "  -n N                   workers (default: this machine's CPUs, or one\n"
    "                         per host)\n"
    "  --port=P               the scheduler's port (default 8786)\n"
    "  --dashboard-port=P     the dashboard's port (default 8787, or a free\n"
    "                         one if that is taken; -1: no dashboard)\n"
    "  --host=H               the scheduler's address (default 127.0.0.1, or\n"
    "                         this machine's name with --hosts)\n"
    "  --nthreads=T           threads per worker (default 1)\n"
    "  --load=LIB.so          a library of tasks (repeatable; the same path\n"
    "                         on every host)\n"
    "  --hosts=H1,H2,...      hosts (user@host too) to start workers on\n"
    "  --hostfile=F           the same, one a line (# comments)\n"
    "  --ssh=COMMAND          the ssh command (default: ssh)\n"
    "  --ssh-timeout=S        how long ssh may take to connect (default 5)\n"
    "  --remote-weft=PATH     the weft program on the hosts (default: this\n"
    "                         one's path)\n" +
        std::string(kTlsUsage) +
        "                         (the same paths on every host)\n",
    [] {
      std::vector<std::string> flags = {
          "n=",        "port=",     "dashboard-port=", "host=",
          "nthreads=", "load=",     "hosts=",          "hostfile=",
          "ssh=",      "ssh-timeout=", "remote-weft="};
      for (std::string& flag : TlsFlags()) flags.push_back(std::move(flag));
      return flags;
    }()};

const Verb kClusterStopVerb = {
    "weft cluster stop",
    "usage: weft cluster stop [flags]\n"
    "Stops the workers, then the scheduler, of `weft cluster start`.\n"
    "  --ssh=COMMAND          the ssh command (default: ssh)\n"
    "  --ssh-timeout=S        how long ssh may take to connect (default 5)\n",
    {"ssh=", "ssh-timeout="}};

int ClusterStart(const Args& args) {
  if (std::ifstream(StatePath())) {
    Die("a cluster is already running (see " + StatePath() +
        "); stop it with `weft cluster stop`");
  }
  ConfigureTls(args);
  const std::vector<std::string> tls = TlsArgsForChildren();
  const std::vector<std::string> hosts = Hosts(args);
  const int n = args.Int(
      "n", hosts.empty() ? static_cast<int>(std::thread::hardware_concurrency())
                         : static_cast<int>(hosts.size()));
  if (n < 1) Die("-n wants a positive number of workers");
  const int port = args.Int("port", kDefaultPort);
  // Workers on other hosts reach the scheduler by this machine's name.
  const std::string host =
      args.Get("host", hosts.empty() ? "127.0.0.1" : HostName());
  const std::string address = absl::StrCat(host, ":", port);
  const std::string nthreads = args.Get("nthreads", "1");
  const std::string self = SelfPath();
  const std::string token_file = DefaultTokenPath();
  const std::string scheduler_file = *rpc::SchedulerFileBeside(token_file);
  ::mkdir(StateDir().c_str(), 0700);
  const std::string log = StateDir() + "/cluster.log";
  State state;
  state.address = address;
  state.mark = rpc::NewToken().substr(0, 16);

  // The scheduler; it says it listens by writing its address.
  std::remove(scheduler_file.c_str());
  std::vector<std::string> scheduler = {self, "scheduler", "--host=" + host,
                                       absl::StrCat("--port=", port),
                                       "--exit-with-parent=no"};
  if (args.flags.contains("dashboard-port")) {
    scheduler.push_back("--dashboard-port=" + args.Get("dashboard-port", ""));
  }
  scheduler.insert(scheduler.end(), tls.begin(), tls.end());
  state.local.push_back(Recorded(Daemon(scheduler, log, state.mark)));
  WriteState(state);
  if (!rpc::WaitForSchedulerFile(scheduler_file,
                                 absl::Now() + absl::Seconds(10))
           .ok()) {
    StopLocal(state.local, state.mark);
    std::remove(StatePath().c_str());
    Die("the scheduler did not start; " + log + " says why:\n" + ReadFile(log));
  }

  std::vector<std::string> worker = {"worker", "--scheduler=" + address,
                                     "--nthreads=" + nthreads,
                                     "--exit-with-parent=no"};
  for (const auto& lib : args.loads) worker.push_back("--load=" + lib);
  worker.insert(worker.end(), tls.begin(), tls.end());
  if (hosts.empty()) {
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> argv = {self};
      argv.insert(argv.end(), worker.begin(), worker.end());
      state.local.push_back(Recorded(Daemon(argv, log, state.mark)));
    }
  } else {
    // Each host gets every hosts.size()-th worker; all hosts at once.
    const Ssh ssh = SshFrom(args);
    const std::string remote_weft = args.Get("remote-weft", self);
    std::map<std::string, int> count;
    for (int i = 0; i < n; ++i) ++count[hosts[i % hosts.size()]];
    std::vector<std::string> order;
    std::vector<std::vector<std::string>> commands;
    for (const auto& [h, k] : count) {
      const std::string name = h.substr(h.find('@') + 1);  // user@host
      const std::string weft = deploy::ShellQuote(remote_weft);
      std::string script =
          absl::StrCat("test -x ", weft, " || { echo \"weft: no executable ",
                       remote_weft, " on $(hostname)\" >&2; exit 127; }; ");
      for (const std::string& lib : args.loads) {
        absl::StrAppend(&script, "test -r ", deploy::ShellQuote(lib),
                        " || { echo \"weft: no library ", lib,
                        " on $(hostname)\" >&2; exit 127; }; ");
      }
      std::vector<std::string> argv = worker;
      argv.push_back("--token-file=" + token_file);
      argv.push_back("--host=" + name);
      for (int i = 0; i < k; ++i) {
        absl::StrAppend(&script, kMark, "=", state.mark, " setsid ", weft, " ",
                        deploy::ShellCommand(argv), " </dev/null >>",
                        deploy::ShellQuote(absl::StrCat(StateDir(), "/cluster-",
                                                        name, "-", i, ".log")),
                        " 2>&1 & echo $!; ");
      }
      order.push_back(h);
      commands.push_back(ssh.To(h, script));
    }
    const auto results =
        RunEverywhere(commands, absl::Seconds(ssh.timeout_seconds + 15));
    std::vector<std::string> problems;
    for (size_t i = 0; i < order.size(); ++i) {
      std::vector<pid_t> pids;
      if (results[i].ok() && results[i]->exit_code == 0) {
        for (absl::string_view word : absl::StrSplit(
                 results[i]->out, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
          int pid = 0;
          if (absl::SimpleAtoi(word, &pid)) pids.push_back(pid);
        }
      }
      if (static_cast<int>(pids.size()) == count[order[i]]) {
        state.remote[order[i]] = pids;
      } else {
        problems.push_back(Problem(order[i], results[i]));
      }
    }
    WriteState(state);
    if (!problems.empty()) {
      std::vector<std::string> more;
      StopRemote(state, ssh, more);
      StopLocal(state.local, state.mark);
      std::remove(StatePath().c_str());
      Die("cannot start the cluster's workers:\n  " +
          absl::StrJoin(problems, "\n  ") +
          "\n(nothing is left running; fix the host, or leave it out)");
    }
  }
  WriteState(state);
  std::string dashboard;
  try {
    weft::Client client = weft::Client::Connect(address, token_file);
    client.wait_for_workers(n, std::chrono::seconds(30));
    dashboard = client.dashboard_link();
  } catch (const std::exception& e) {
    std::cerr << "weft: cluster started, but: " << e.what()
              << " (their logs are in " << StateDir() << ")\n";
  }
  std::cout << "weft cluster: scheduler at " << address << ", " << n
            << " workers"
            << (hosts.empty() ? "" : " on " + absl::StrJoin(hosts, ","))
            << " (logs in " << StateDir() << ")\n";
  if (!dashboard.empty()) std::cout << "  dashboard at " << dashboard << "\n";
  std::cout << "  export WEFT_SCHEDULER=" << address << std::endl;
  return 0;
}

int ClusterStop(const Args& args) {
  const State state = ReadState();
  std::vector<std::string> problems;
  // Workers first (they retire: with no other worker to hand their objects
  // to, they go at once), then the scheduler, so that no worker sees its
  // scheduler vanish and tries to rejoin it.
  int stopped =
      state.remote.empty() ? 0 : StopRemote(state, SshFrom(args), problems);
  const std::vector<LocalProcess>& local = state.local;
  if (local.size() > 1) {
    stopped += StopLocal(
        std::vector<LocalProcess>(local.begin() + 1, local.end()), state.mark,
        std::chrono::seconds(10));
  }
  if (!local.empty()) stopped += StopLocal({local[0]}, state.mark);
  if (!problems.empty()) {
    std::cerr << "weft: could not stop the workers on:\n  "
              << absl::StrJoin(problems, "\n  ") << "\n";
    return 1;  // the state stays, so `weft cluster stop` can be run again
  }
  std::remove(StatePath().c_str());
  std::cout << "weft cluster at " << state.address << " stopped (" << stopped
            << " processes)" << std::endl;
  return 0;
}

}  // namespace weft::cli
