// Copyright 2026 The weft Authors.

#include "tests/testing/ssh_hosts.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"

namespace weft::testing {
namespace {

// Debian's sshd chroots its unprivileged children here and will not start
// without it (root-owned, not writable by others).
constexpr char kPrivsepDir[] = "/run/sshd";
constexpr char kPrivsepUser[] = "sshd";

constexpr absl::Duration kToolTimeout = absl::Seconds(30);
constexpr absl::Duration kListenTimeout = absl::Seconds(30);
constexpr absl::Duration kKillTimeout = absl::Seconds(10);

// sshd_config for one host: $0 port, $1 host key, $2 pid file, $3
// authorized_keys. Root may log in with a key; nothing else is offered.
constexpr char kSshdConfig[] =
    R"(# sshd for one test (tests/testing/ssh_hosts.cc).
ListenAddress 0.0.0.0
Port $0
AddressFamily inet
HostKey $1
PidFile $2
AuthorizedKeysFile $3
AuthorizedPrincipalsFile none
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
UseDNS no
PermitUserEnvironment no
PermitUserRC no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowAgentForwarding no
MaxStartups 100
LogLevel INFO
Subsystem sftp internal-sftp
)";

// ssh_config for the test's clients: $0 port, $1 identity, $2 known_hosts,
// $3 ConnectTimeout and ServerAliveInterval in seconds.
constexpr char kSshConfig[] =
    R"(# ssh for one test (tests/testing/ssh_hosts.cc).
Host *
  Port $0
  AddressFamily inet
  IdentityFile $1
  IdentitiesOnly yes
  IdentityAgent none
  PubkeyAuthentication yes
  PasswordAuthentication no
  KbdInteractiveAuthentication no
  UserKnownHostsFile $2
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  UpdateHostKeys no
  CheckHostIP no
  BatchMode yes
  ConnectTimeout $3
  ServerAliveInterval $3
  ServerAliveCountMax 3
  RequestTTY no
  ControlMaster no
  ControlPath none
  ForwardAgent no
  ForwardX11 no
)";

// What sshd -e logs once it listens (LogLevel INFO).
std::string ListeningLine() {
  return absl::StrCat("Server listening on 0.0.0.0 port ", SshHosts::kPort,
                      ".");
}

absl::Status ErrnoError(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

// `text` quoted for /bin/sh as one word.
std::string ShellQuote(absl::string_view text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

// Creates or replaces `path` with `text` and permissions `mode`.
absl::Status WriteFile(const std::string& path, absl::string_view text,
                       mode_t mode) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError(absl::StrCat("creating ", path), errno);
  const bool ok =
      ::fchmod(fd, mode) == 0 && ::write(fd, text.data(), text.size()) ==
                                     static_cast<ssize_t>(text.size());
  const int err = errno;
  ::close(fd);
  if (!ok) return ErrnoError(absl::StrCat("writing ", path), err);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(absl::StrCat("opening ", path), errno);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) text.append(buf, n);
  const int err = errno;
  ::close(fd);
  if (n < 0) return ErrnoError(absl::StrCat("reading ", path), err);
  return text;
}

absl::Status MakeDirectory(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) {
    return ErrnoError(absl::StrCat("creating ", path), errno);
  }
  return absl::OkStatus();
}

// Runs `argv` on this machine (ssh-keygen), its output to `log_path`, and
// waits. Errors: Internal with its output if it fails.
absl::Status RunLocal(const std::vector<std::string>& argv,
                      const std::string& log_path) {
  absl::StatusOr<std::unique_ptr<HostProcess>> process =
      SpawnLocal(argv, log_path);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> code = (*process)->Wait(kToolTimeout);
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat("`", absl::StrJoin(argv, " "),
                                            "` exited with ", *code, ": ",
                                            (*process)->Output()));
  }
  return absl::OkStatus();
}

// Makes an ed25519 key pair without a passphrase: `path` and `path`.pub.
absl::Status MakeKey(const std::string& path, const std::string& comment) {
  return RunLocal({SshHosts::kSshKeygenPath, "-q", "-t", "ed25519", "-N", "",
                   "-C", comment, "-f", path},
                  path + ".log");
}

// A mount namespace, by the inode of its /proc/PID/ns/mnt. Namespace inode
// numbers are reused once a namespace is gone, so the identity holds only
// while the namespace is pinned (see Server::mounts_fd).
struct MountNamespace {
  dev_t dev = 0;
  ino_t ino = 0;
};

// The live processes in mount namespace `ns` (zombies have none), and of
// those whether each is sshd.
struct Member {
  pid_t pid;
  bool sshd;
};
std::vector<Member> MembersOf(const MountNamespace& ns) {
  std::vector<Member> members;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return members;
  while (const dirent* e = ::readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(e->d_name, &pid) || pid <= 0) continue;
    struct stat st {};
    const std::string base = absl::StrCat("/proc/", pid);
    if (::stat((base + "/ns/mnt").c_str(), &st) != 0 || st.st_dev != ns.dev ||
        st.st_ino != ns.ino) {
      continue;
    }
    char exe[PATH_MAX + 1] = {0};
    const ssize_t n = ::readlink((base + "/exe").c_str(), exe, PATH_MAX);
    members.push_back(
        {pid, n > 0 && absl::string_view(exe, n) == SshHosts::kSshdPath});
  }
  ::closedir(proc);
  return members;
}

// FailedPrecondition unless OpenSSH's programs and sshd's user are there.
absl::Status CheckInstalled() {
  for (const auto& [path, package] :
       {std::pair{SshHosts::kSshdPath, "openssh-server"},
        std::pair{SshHosts::kSshPath, "openssh-client"},
        std::pair{SshHosts::kSshKeygenPath, "openssh-client"}}) {
    if (::access(path, X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("no ", path, " (Debian's ", package,
                       "; tools/setup.sh installs it)"));
    }
  }
  if (::getpwnam(kPrivsepUser) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no user `", kPrivsepUser,
                     "` for sshd's privilege separation (Debian's "
                     "openssh-server makes it)"));
  }
  return absl::OkStatus();
}

}  // namespace

// One host's sshd.
struct SshHosts::Server {
  ~Server() { Unpin(); }

  // Opens sshd's mount namespace (inherited by its sessions), which keeps
  // it, and so its inode number, alive until Unpin().
  absl::Status Pin() {
    const std::string path = absl::StrCat("/proc/", sshd->pid(), "/ns/mnt");
    mounts_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (mounts_fd < 0 || ::fstat(mounts_fd, &st) != 0) {
      const int err = errno;
      Unpin();
      return ErrnoError(absl::StrCat("opening ", path), err);
    }
    mounts = MountNamespace{st.st_dev, st.st_ino};
    return absl::OkStatus();
  }
  void Unpin() {
    if (mounts_fd >= 0) ::close(mounts_fd);
    mounts_fd = -1;
  }
  bool pinned() const { return mounts_fd >= 0; }

  TestHost* host = nullptr;
  std::string dir;  // <dir_>/HOST
  std::unique_ptr<HostProcess> sshd;
  int mounts_fd = -1;
  MountNamespace mounts;  // valid while pinned()
};

absl::Status SshHosts::Availability() {
  if (absl::Status s = TestNetwork::Availability(); !s.ok()) return s;
  return CheckInstalled();
}

absl::StatusOr<std::unique_ptr<SshHosts>> SshHosts::Start(
    TestNetwork& network, const std::vector<TestHost*>& hosts,
    const SshOptions& options) {
  if (hosts.empty()) return absl::InvalidArgumentError("no hosts");
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (hosts[i] == nullptr || network.host(hosts[i]->name()) != hosts[i]) {
      return absl::InvalidArgumentError(
          "every host must be one of the network's");
    }
    if (std::find(hosts.begin(), hosts.begin() + i, hosts[i]) !=
        hosts.begin() + i) {
      return absl::InvalidArgumentError(
          absl::StrCat("host ", hosts[i]->name(), " given twice"));
    }
  }
  if (options.connect_timeout < absl::Seconds(1) ||
      options.connect_timeout % absl::Seconds(1) != absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("connect_timeout must be whole seconds, at least 1; got ",
                     absl::FormatDuration(options.connect_timeout)));
  }
  if (absl::Status s = CheckInstalled(); !s.ok()) return s;
  std::string dir = absl::StrCat(network.state_dir(), "/ssh");
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(
          absl::StrCat("network ", network.name(), " already has ssh hosts"));
    }
    return ErrnoError(absl::StrCat("creating ", dir), errno);
  }
  // From here on the destructor kills what started and removes the files.
  std::unique_ptr<SshHosts> ssh(new SshHosts(std::move(dir), options));
  if (absl::Status s = ssh->Setup(hosts); !s.ok()) return s;
  return ssh;
}

SshHosts::SshHosts(std::string dir, SshOptions options)
    : dir_(std::move(dir)),
      options_(options),
      config_path_(absl::StrCat(dir_, "/ssh_config")),
      wrapper_dir_(absl::StrCat(dir_, "/bin")) {}

SshHosts::~SshHosts() {
  if (absl::Status s = Stop(); !s.ok()) {
    std::fprintf(stderr, "ssh_hosts: %s\n", s.ToString().c_str());
  }
}

absl::Status SshHosts::Setup(const std::vector<TestHost*>& hosts) {
  if (::mkdir(kPrivsepDir, 0755) != 0 && errno != EEXIST) {
    return ErrnoError(absl::StrCat("creating ", kPrivsepDir), errno);
  }
  const std::string client_key = absl::StrCat(dir_, "/client_key");
  if (absl::Status s = MakeKey(client_key, "weft-test-client"); !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> client_public = ReadFile(client_key + ".pub");
  if (!client_public.ok()) return client_public.status();
  const std::string authorized_keys = absl::StrCat(dir_, "/authorized_keys");
  if (absl::Status s = WriteFile(authorized_keys, *client_public, 0600);
      !s.ok()) {
    return s;
  }

  std::string known_hosts;
  for (TestHost* host : hosts) {
    auto server = std::make_unique<Server>();
    server->host = host;
    server->dir = absl::StrCat(dir_, "/", host->name());
    if (absl::Status s = MakeDirectory(server->dir, 0700); !s.ok()) return s;
    const std::string host_key =
        absl::StrCat(server->dir, "/ssh_host_ed25519_key");
    if (absl::Status s = MakeKey(host_key, "weft-test-" + host->name());
        !s.ok()) {
      return s;
    }
    absl::StatusOr<std::string> host_public = ReadFile(host_key + ".pub");
    if (!host_public.ok()) return host_public.status();
    absl::StrAppend(&known_hosts, host->name(), ",", host->address(), " ",
                    *host_public);
    const std::string sshd_config = absl::Substitute(
        kSshdConfig, kPort, host_key, absl::StrCat(server->dir, "/sshd.pid"),
        authorized_keys);
    if (absl::Status s = WriteFile(absl::StrCat(server->dir, "/sshd_config"),
                                   sshd_config, 0600);
        !s.ok()) {
      return s;
    }
    servers_.push_back(std::move(server));
  }
  if (absl::Status s =
          WriteFile(absl::StrCat(dir_, "/known_hosts"), known_hosts, 0600);
      !s.ok()) {
    return s;
  }

  const std::string ssh_config = absl::Substitute(
      kSshConfig, kPort, client_key, absl::StrCat(dir_, "/known_hosts"),
      options_.connect_timeout / absl::Seconds(1));
  if (absl::Status s = WriteFile(config_path_, ssh_config, 0600); !s.ok()) {
    return s;
  }
  if (absl::Status s = MakeDirectory(wrapper_dir_, 0755); !s.ok()) return s;
  if (absl::Status s = WriteFile(
          absl::StrCat(wrapper_dir_, "/ssh"),
          absl::StrCat("#!/bin/sh\n# ssh with one test's configuration "
                       "(tests/testing/ssh_hosts.cc).\nexec ",
                       SshCommandLine(), " \"$@\"\n"),
          0755);
      !s.ok()) {
    return s;
  }

  // Start them all, then wait for each.
  for (std::unique_ptr<Server>& server : servers_) {
    absl::StatusOr<std::unique_ptr<HostProcess>> sshd = server->host->Spawn(
        // An absolute argv[0]: sshd re-executes itself for each connection.
        {kSshdPath, "-D", "-e", "-f",
         absl::StrCat(server->dir, "/sshd_config")});
    if (!sshd.ok()) return sshd.status();
    server->sshd = std::move(*sshd);
    if (absl::Status s = server->Pin(); !s.ok()) return s;
  }
  for (std::unique_ptr<Server>& server : servers_) {
    if (absl::Status s =
            server->sshd->WaitForOutput(ListeningLine(), kListenTimeout);
        !s.ok()) {
      return absl::InternalError(
          absl::StrCat("sshd in host ", server->host->name(), ": ", s.message(),
                       "; its log:\n", server->sshd->Output()));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> SshHosts::SshCommand() const {
  return {kSshPath, "-F", config_path_};
}

std::string SshHosts::SshCommandLine() const {
  std::vector<std::string> words;
  for (const std::string& word : SshCommand()) {
    words.push_back(ShellQuote(word));
  }
  return absl::StrJoin(words, " ");
}

EnvOverrides SshHosts::ClientEnv() const {
  const char* path = std::getenv("PATH");
  return {{"PATH", absl::StrCat(wrapper_dir_, ":",
                                path != nullptr ? path : "/usr/bin:/bin")}};
}

absl::StatusOr<SshResult> SshHosts::Run(TestHost& from,
                                        std::string_view to_view,
                                        std::string_view command_view,
                                        absl::Duration timeout) {
  const std::string to(to_view);
  const std::string command(command_view);
  if (stopped_) return absl::FailedPreconditionError("ssh hosts stopped");
  const std::string err_path = absl::StrCat(dir_, "/run-", ++runs_, ".err");
  // "--" ends ssh's options: neither `to` nor `command` is taken for one.
  const std::string line =
      absl::StrCat("exec ", SshCommandLine(), " -- ", ShellQuote(to), " ",
                   ShellQuote(command), " 2>", ShellQuote(err_path));
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<HostProcess>> ssh =
      from.Spawn({"/bin/sh", "-c", line});
  if (!ssh.ok()) return ssh.status();
  absl::StatusOr<int> code = (*ssh)->Wait(timeout);
  SshResult result;
  result.elapsed = absl::Now() - start;
  if (!code.ok()) (*ssh)->Kill();
  result.out = (*ssh)->Output();
  absl::StatusOr<std::string> err = ReadFile(err_path);
  ::unlink(err_path.c_str());
  if (!code.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat("`ssh ", to, " ", command, "` from host ", from.name(),
                     " still running after ", absl::FormatDuration(timeout),
                     "; its output so far: ", result.out, err.value_or("")));
  }
  if (!err.ok()) return err.status();
  result.exit_code = *code;
  result.err = std::move(*err);
  return result;
}

const SshHosts::Server* SshHosts::FindServer(const TestHost& host) const {
  for (const std::unique_ptr<Server>& server : servers_) {
    if (server->host == &host) return server.get();
  }
  return nullptr;
}

absl::StatusOr<std::vector<pid_t>> SshHosts::SessionProcesses(
    const TestHost& host) const {
  const Server* server = FindServer(host);
  if (stopped_ || server == nullptr || !server->pinned()) {
    return absl::NotFoundError(
        absl::StrCat("no sshd of these ssh hosts in host ", host.name()));
  }
  std::vector<pid_t> pids;
  for (const Member& member : MembersOf(server->mounts)) {
    if (!member.sshd) pids.push_back(member.pid);
  }
  return pids;
}

std::string SshHosts::ServerLog(const TestHost& host) const {
  const Server* server = FindServer(host);
  if (server == nullptr || server->sshd == nullptr) return "";
  return server->sshd->Output();
}

absl::Status SshHosts::Stop() {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  absl::Status result;
  for (std::unique_ptr<Server>& server : servers_) {
    if (!server->pinned()) {
      if (server->sshd != nullptr) server->sshd->Kill();
      continue;
    }
    // SIGKILL everything in sshd's mount namespace until nothing is left:
    // sshd forks while this runs, and sessions fork. The namespace stays
    // pinned meanwhile, so no other namespace can take its inode number.
    const absl::Time deadline = absl::Now() + kKillTimeout;
    for (;;) {
      const std::vector<Member> members = MembersOf(server->mounts);
      if (members.empty()) break;
      if (absl::Now() >= deadline) {
        result.Update(absl::DeadlineExceededError(
            absl::StrCat(members.size(), " processes started by sshd in host ",
                         server->host->name(), " survive SIGKILL (pid ",
                         members[0].pid, ", ...)")));
        break;
      }
      for (const Member& member : members) ::kill(member.pid, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server->sshd->Kill();  // reaps it
    server->Unpin();
  }
  std::error_code error;
  std::filesystem::remove_all(dir_, error);
  if (error) {
    result.Update(absl::InternalError(
        absl::StrCat("cannot remove ", dir_, ": ", error.message())));
  }
  return result;
}

}  // namespace weft::testing
