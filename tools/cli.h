// Copyright 2026 The weft Authors.
//
// What the verbs of the `weft` command share: flags, messages, the state
// directory and the scheduler file. Internal to the command.

#ifndef WEFT_TOOLS_CLI_H_
#define WEFT_TOOLS_CLI_H_

#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "scheduler/scheduler_service.h"

namespace weft::cli {

// The scheduler's port unless told (outside a SLURM job).
inline constexpr int kDefaultPort = 8786;

// Prints "weft: message" (once) on stderr and exits with status 2.
[[noreturn]] void Die(const std::string& message);

// What a verb of the command accepts, for Args and --help.
struct Verb {
  // How messages name it: "weft scheduler".
  std::string name;
  // What --help prints: the synopsis and a line per flag.
  std::string usage;
  // The flags it accepts, without "--". A name ending in "=" takes a value
  // ("port="), others are switches ("new-token"); "n=" is also "-n N".
  std::vector<std::string> flags;
};

// The flags StartScheduler reads, shared by the verbs that start one, and
// their lines for --help.
// (A function, not a global: other files' globals are built from it.)
// They include TlsFlags().
std::vector<std::string> SchedulerFlags();
extern const char kSchedulerUsage[];

// The TLS flags (--tls=DIR, or --tls-cert, --tls-key and --tls-ca
// together) of every verb that connects or listens, and their --help
// lines.
std::vector<std::string> TlsFlags();
extern const char kTlsUsage[];


// --name=value (or --name value) flags and "-n N". A flag given twice
// keeps its last value in `flags` and all in `all`.
struct Args {
  std::map<std::string, std::string> flags;
  std::map<std::string, std::vector<std::string>> all;
  std::vector<std::string> loads;  // all["load"]

  // Parses argv[first...] as `verb` says. --help or -h: prints verb.usage
  // on stdout and exits 0. Die()s, naming the word and pointing at
  // --help, on a flag the verb does not know, a flag without its value, a
  // value given to a switch, or a word that is not a flag.
  Args(int argc, char** argv, int first, const Verb& verb);
  // The flag's value, or `fallback` if it was not given.
  std::string Get(const std::string& name, const std::string& fallback) const;
  // The flag as a number; Die()s if it is not one.
  int Int(const std::string& name, int fallback) const;
  // Every value given for the flag, in order.
  std::vector<std::string> All(const std::string& name) const;
};

// Sets this process's TLS (rpc/tls.h) from the TLS flags, else from
// WEFT_TLS_*; the processes it starts inherit it through WEFT_TLS_*.
// Die()s naming the file and the reason if the files are broken, or if
// the flags are incomplete or given twice over.
void ConfigureTls(const Args& args);
// The flags that give a process started elsewhere (over ssh) this
// process's TLS files (the same paths): none when TLS is off.
std::vector<std::string> TlsArgsForChildren();

// The default token file (rpc::DefaultTokenPath()); Die()s without one.
std::string DefaultTokenPath();
// The state directory (the default token file's directory) and `weft
// cluster`'s state file in it.
std::string StateDir();
std::string StatePath();
// This program's path (/proc/self/exe).
std::string SelfPath();
// This machine's host name.
std::string HostName();

// Whether this process runs inside a SLURM job.
bool InSlurmJob();

// With --exit-with-parent=yes (the default inside a SLURM job), this
// process gets SIGTERM when its parent exits: a `weft scheduler &` in a
// batch script ends with the script, even where SLURM tracks a job's
// processes through their parents and loses a background process whose
// script is gone (proctrack/linuxproc). Die()s on another value.
void ExitWithParentIfAsked(const Args& args);

// The scheduler file: --scheduler-file, else the one beside --token-file,
// else the state directory's (rpc/cluster_files.h).
std::string SchedulerFilePath(const Args& args);

// A scheduler started by a verb (`weft scheduler`, `weft slurm`).
struct RunningScheduler {
  std::unique_ptr<scheduler::SchedulerServer> server;
  std::string token_file;
  std::string scheduler_file;
  std::string address;  // as other machines reach it (the scheduler file's)
  // The dashboard listens on loopback only (no token needed to open it).
  bool dashboard_loopback = true;
};

// Starts a scheduler as --host (default `default_host`) or --interface
// (that interface's IPv4 address), --port (default kDefaultPort, any free
// port inside a SLURM job; one in use is an error), --frame-port,
// --heartbeat-timeout, --client-timeout, --dashboard-port, --token-file,
// --scheduler-file and the TLS flags (ConfigureTls) say.
// (kSchedulerUsage leaves out kTlsUsage's lines: verbs add them.) The token is $WEFT_TOKEN if set,
// else the token file's (so a restarted scheduler lets its workers back
// in) unless --new-token, else a fresh one; it is written to the token
// file. Once listening, writes its address to the scheduler file. Die()s
// with the reason if it cannot.
RunningScheduler StartScheduler(const Args& args,
                                const std::string& default_host);

// Removes the scheduler file (unless another scheduler has taken it over)
// and shuts the scheduler down, telling its workers to stop.
void StopScheduler(RunningScheduler& scheduler);

// Set by OnStopSignal (SIGTERM, SIGINT) for verbs that run until stopped.
extern volatile sig_atomic_t stop_requested;
void OnStopSignal(int);

}  // namespace weft::cli

#endif  // WEFT_TOOLS_CLI_H_
