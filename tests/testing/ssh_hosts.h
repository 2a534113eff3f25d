// Copyright 2026 The weft Authors.
//
// SshHosts: a real OpenSSH server in test hosts (test_hosts.h), so a test
// can start programs on other "machines" over ssh as a user would, and a
// client configuration with which `ssh` run in any host of the network logs
// in to them without a password, a prompt or a question about host keys.
//
//   absl::Status available = weft::testing::SshHosts::Availability();
//   if (!available.ok()) GTEST_SKIP() << available.message();
//   auto net = weft::testing::TestNetwork::Create();
//   TestHost* c = *(*net)->AddHost("c");
//   TestHost* w1 = *(*net)->AddHost("w1");
//   auto ssh = weft::testing::SshHosts::Start(**net, {w1});  // StatusOr
//   // From host c: ssh -F <config> w1 hostname  ->  "w1"
//   absl::StatusOr<SshResult> r = (*ssh)->Run(*c, "w1", "hostname");
//   // A program that runs `ssh` itself, started in c:
//   c->Spawn({"tools/weft", "cluster", "start", "--hosts=w1"},
//            (*ssh)->ClientEnv());
//
// The server. Each given host runs Debian's /usr/sbin/sshd in the
// foreground (-D -e) on port 22 of the host's own address, with a private
// configuration: a host key of its own (ed25519, made for this test), root
// login with the test's client key only (no passwords, no PAM, no DNS
// lookups), the test's authorized_keys file, its pid file in the test's
// state directory and its log in its HostProcess output (ServerLog()).
// Commands run as root in root's login shell, in root's home directory,
// with the machine's file system (so the test's binaries are there too).
//
// The client. Start() makes one key pair for the test and writes an ssh
// client configuration (client_config_path()): that key only (no agent, no
// ~/.ssh), the hosts' keys pre-trusted by name and by address in a
// known_hosts file of its own (StrictHostKeyChecking yes: any other host key
// is refused), BatchMode (never a prompt), ConnectTimeout (connecting and
// the ssh handshake), and ServerAliveInterval = ConnectTimeout with
// ServerAliveCountMax 3, so a session to a host that goes away ends with an
// error. Clients must run inside a host of the network: the test process
// itself has no route to the hosts.
//
// Using it from a program under test (e.g. a launcher that runs `ssh HOST
// COMMAND`), two ways:
//   - ClientEnv(): PATH starts with a directory whose `ssh` runs
//     /usr/bin/ssh -F <config> "$@". A program that runs plain `ssh` from
//     PATH (the default a user gets) uses the test's configuration unchanged.
//   - SshCommand() / SshCommandLine(): the command prefix itself, for a
//     program that takes its ssh command as a flag or an environment
//     variable (like GIT_SSH_COMMAND).
//
// Nothing outside the test's state directory is read or written, other
// than the programs themselves and /run/sshd: Debian's sshd refuses to run
// without that (empty, root-owned) directory, which it uses for privilege
// separation, so Start() creates it if it is missing, as the package's init
// script does, and leaves it. /etc/ssh and ~/.ssh are never used: sshd and
// ssh are given their configuration files (-f, -F), which replace the
// system-wide and per-user ones, and with -F ssh does not create ~/.ssh.
//
// Files, in <network state dir>/ssh/: client_key(.pub), authorized_keys,
// known_hosts, ssh_config, bin/ssh (the wrapper), and per host HOST/:
// sshd_config, ssh_host_ed25519_key(.pub), sshd.pid. Stop() removes them.
//
// Requirements: those of test hosts (root, namespaces), Debian's
// openssh-server (/usr/sbin/sshd and its privilege separation user `sshd`)
// and openssh-client (/usr/bin/ssh, /usr/bin/ssh-keygen); tools/setup.sh
// installs both. Availability() says what is missing.
//
// Thread-safety: an SshHosts is used from one thread at a time, like the
// network it lives in.

#ifndef WEFT_TESTS_TESTING_SSH_HOSTS_H_
#define WEFT_TESTS_TESTING_SSH_HOSTS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/testing/test_hosts.h"

namespace weft::testing {

// How SshHosts::Start() configures the client.
struct SshOptions {
  // ssh's ConnectTimeout, which bounds the TCP connection and the ssh
  // handshake: connecting to a host that does not answer (LinkDown) fails
  // after this long. Also the ServerAliveInterval of sessions (3 missed
  // answers end a session). Whole seconds, at least 1.
  absl::Duration connect_timeout = absl::Seconds(3);
};

// What SshHosts::Run() saw.
struct SshResult {
  // The remote command's exit code, or ssh's own 255 if ssh failed
  // (unreachable host, refused key, ...); 128 + N if signal N killed ssh.
  int exit_code = 0;
  std::string out;         // standard output
  std::string err;         // standard error: the remote command's and ssh's
  absl::Duration elapsed;  // from starting ssh to its exit
};

class SshHosts {
 public:
  // The programs used; Availability() checks they exist.
  static constexpr char kSshdPath[] = "/usr/sbin/sshd";
  static constexpr char kSshPath[] = "/usr/bin/ssh";
  static constexpr char kSshKeygenPath[] = "/usr/bin/ssh-keygen";
  // The port sshd listens on in every host (each host has its own ports).
  static constexpr int kPort = 22;

  // OK if ssh hosts can be made here; otherwise why not, as a sentence for
  // GTEST_SKIP(): TestNetwork::Availability()'s reasons (not root, no
  // namespaces, ...), or a missing program or the missing `sshd` user.
  static absl::Status Availability();

  // Starts sshd in each of `hosts` (hosts of `network`, each at most once)
  // and writes the client configuration, then waits (up to 30 s) until
  // every sshd listens. Errors: InvalidArgument (no hosts, a host twice or
  // not of `network`, a bad option), AlreadyExists (`network` already has
  // an SshHosts), FailedPrecondition (what Availability() would say),
  // Internal (a key, a file or a server could not be made; the message has
  // the program's output, e.g. sshd's when port 22 is taken).
  // REQUIRES: `network` and `hosts` outlive the result.
  static absl::StatusOr<std::unique_ptr<SshHosts>> Start(
      TestNetwork& network, const std::vector<TestHost*>& hosts,
      const SshOptions& options = {});

  SshHosts(const SshHosts&) = delete;
  SshHosts& operator=(const SshHosts&) = delete;

  // Stop(); failures are reported on stderr.
  ~SshHosts();

  // The client configuration file, for `ssh -F`.
  const std::string& client_config_path() const { return config_path_; }

  // The options it was started with.
  const SshOptions& options() const { return options_; }

  // The ssh command with the test's configuration, to which a destination
  // and a command are appended: {"/usr/bin/ssh", "-F", <config>}.
  std::vector<std::string> SshCommand() const;

  // SshCommand() as one line for /bin/sh, each word quoted: for a shell
  // command, or an environment variable that a program splits like a shell.
  std::string SshCommandLine() const;

  // Environment for a process that runs `ssh` from PATH: PATH is the
  // wrapper's directory, then this process's PATH. Pass it to
  // TestHost::Spawn() for the program that runs ssh (e.g. {"sh", "-c",
  // "ssh w1 hostname"}). Spawn() itself finds argv[0] in the test's own
  // PATH, so Spawn({"ssh", ...}, ClientEnv()) runs plain /usr/bin/ssh: use
  // SshCommand() for that.
  EnvOverrides ClientEnv() const;

  // Runs `ssh -F <config> <to> <command>` in host `from` and waits for it.
  // `to` is a host's name or address (or anything ssh takes); `command`
  // is one argument, run by the remote login shell. Stdin is /dev/null.
  // Returns ssh's exit code and output however the command or ssh ended.
  // Errors: DeadlineExceeded if ssh runs past `timeout` (it is killed);
  // those of TestHost::Spawn(); FailedPrecondition after Stop().
  absl::StatusOr<SshResult> Run(TestHost& from, std::string_view to,
                                std::string_view command,
                                absl::Duration timeout = absl::Seconds(30));

  // The live processes in `host` that came in through its sshd: the
  // commands run over ssh and everything they started, including processes
  // detached with setsid or nohup that outlived their session; not sshd's
  // own processes (the listener and its per-connection children). Found by
  // mount namespace: TestHost::Spawn() gives every process a mount
  // namespace of its own, which sshd's sessions inherit (a process that
  // makes a mount namespace of its own escapes this). Errors: NotFound if
  // `host` runs no sshd of this SshHosts (or after Stop()).
  absl::StatusOr<std::vector<pid_t>> SessionProcesses(
      const TestHost& host) const;

  // What `host`'s sshd has logged (LogLevel INFO: listening, each login
  // and disconnection, errors). Empty for a host without one; still
  // readable after Stop().
  std::string ServerLog(const TestHost& host) const;

  // SIGKILLs every sshd and every process that came in through one
  // (SessionProcesses() and sshd's own), waits (up to 10 s per host) until
  // they are gone, and removes the files. Other processes in the hosts are
  // left alone. Idempotent. Errors: DeadlineExceeded if processes survive,
  // Internal if the files cannot be removed; it does all it can anyway.
  absl::Status Stop();

 private:
  struct Server;
  SshHosts(std::string dir, SshOptions options);
  // Makes the keys and files, starts and awaits the servers.
  absl::Status Setup(const std::vector<TestHost*>& hosts);
  // Starts sshd in `server.host` and waits until it listens.
  absl::Status StartServer(Server& server);
  const Server* FindServer(const TestHost& host) const;

  const std::string dir_;  // <network state dir>/ssh
  const SshOptions options_;
  const std::string config_path_;
  const std::string wrapper_dir_;
  std::vector<std::unique_ptr<Server>> servers_;
  int runs_ = 0;  // names Run()'s files
  bool stopped_ = false;
};

}  // namespace weft::testing

#endif  // WEFT_TESTS_TESTING_SSH_HOSTS_H_
