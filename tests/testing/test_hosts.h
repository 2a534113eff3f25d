// Copyright 2026 The weft Authors.
//
// Test hosts on one machine: a TestNetwork is a private Ethernet segment of
// TestHosts, each a Linux network namespace with its own address and a UTS
// namespace with its own host name. Processes started in different hosts see
// different host names, so weft's host identity (rpc::LocalHostId()) differs
// between them and no same-host shortcut (shared memory) applies; they reach
// each other only over the segment, as separate machines would.
//
//   absl::Status available = weft::testing::TestNetwork::Availability();
//   if (!available.ok()) GTEST_SKIP() << available.message();
//   auto net = weft::testing::TestNetwork::Create();           // StatusOr
//   weft::testing::TestHost* sched = *(*net)->AddHost("sched");  // 10.77.0.1
//   weft::testing::TestHost* w1 = *(*net)->AddHost("w1");        // 10.77.0.2
//   auto scheduler = sched->Spawn({"tools/weft", "scheduler", ...});
//   auto worker = w1->Spawn({"tools/weft", "worker",
//                            "--scheduler=sched:8786", "--host=w1"});
//   w1->LinkDown();  ...  w1->LinkUp();
//
// Layout. The hosts hang off a bridge ("br0") that lives in a network
// namespace of its own, never in the machine's: host N has "eth0" with
// address 10.77.0.N/24, joined by a veth pair to port "pN" of the bridge.
// There are no routes off the segment and no NAT, so traffic stays among the
// hosts. Every name is inside a namespace of its own, so parallel tests
// (each with its own namespaces) never collide and interface names stay
// short. A host's loopback is up, so 127.0.0.1 works within a host.
//
// Names. The namespaces of a network are "weft-test-PID-SEQ" (the bridge) and
// "weft-test-PID-SEQ-HOST" (each host), PID being the test process and SEQ
// counting its networks; `ip netns list` shows them and `ip -n NAME ...`
// works on them. The state directory /run/weft-test/PID-SEQ/ holds each
// host's UTS namespace (HOST.uts, bind-mounted), the network's hosts file and
// the output of spawned processes.
//
// Name resolution. Every process spawned in a host sees the network's hosts
// file as /etc/hosts (bind-mounted in a mount namespace of the process's
// own): "localhost" and every host's name with its address. So a host's name
// resolves everywhere in the network, and `hostname -i` works inside a host.
// /sys and /proc are the machine's (not remounted per host). Hosts share the
// machine's pid namespace and file system: a file written in one is seen in
// all (like a shared home directory).
//
// Cleanup. Destroying a TestNetwork kills every process left in its hosts
// (any process whose network namespace is a host's), deletes its namespaces
// and removes its state directory. Create() first removes what a crashed test
// process left behind: namespaces and state directories whose PID is no
// longer running.
//
// Running the test's own code in a host. setns() on a network namespace
// moves only the calling thread, and a process with threads cannot safely
// run arbitrary code after fork(). So code that must run inside a host (a
// weft client, a server written in the test) runs in a fresh process that
// entered the host before it started: the test binary re-executed by
// SpawnThisTest(), which runs the current test again with ThisTestRole()
// set. The test body dispatches on the role first:
//
//   TEST(Cluster, ClientInItsOwnHost) {
//     if (ThisTestRole() == "client") {     // inside host "c"
//       auto client = weft::Client::Connect("sched:8786");
//       ...EXPECT_...;                        // failures make it exit non-zero
//       return;
//     }
//     ...create the network, start the scheduler and workers...
//     auto client = (*net)->AddHost("c").value()->SpawnThisTest("client");
//     EXPECT_EQ((*client)->Wait(absl::Seconds(60)).value_or(-1), 0)
//         << (*client)->Output();
//   }
//
// Requirements: root (namespaces, mounts), Debian's iproute2 (`ip`, `tc`),
// a kernel with network and UTS namespaces, veth and bridge. Availability()
// says what is missing; tests skip with that reason. SetNetem() also needs
// the kernel's netem qdisc, which some kernels lack (it returns Unavailable
// then). See docs/testing.md.
//
// Thread-safety: a TestNetwork, its TestHosts and a HostProcess are each used
// from one thread at a time.

#ifndef WEFT_TESTS_TESTING_TEST_HOSTS_H_
#define WEFT_TESTS_TESTING_TEST_HOSTS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::testing {

class TestNetwork;

// Environment variables set in a spawned process on top of the test
// process's own environment.
using EnvOverrides = std::map<std::string, std::string>;

// The role a process started by TestHost::SpawnThisTest() runs in; empty in
// the test process itself (and in any other process).
std::string ThisTestRole();

// What TestHost::Run() saw: the shell's exit code (128 + N if killed by
// signal N) and its standard output and error, interleaved.
struct RunResult {
  int exit_code = 0;
  std::string output;
};

class HostProcess;

// Starts `argv` on this machine itself (no test host: the test's own
// namespaces), as TestHost::Spawn() does in a host, with standard output
// and error appended to `output_path` (created or truncated). For tests
// that start weft's processes without namespaces. Errors: as Spawn()'s;
// Internal if `output_path` cannot be created.
absl::StatusOr<std::unique_ptr<HostProcess>> SpawnLocal(
    const std::vector<std::string>& argv, const std::string& output_path,
    const EnvOverrides& env = {});

// A process started in a host by TestHost::Spawn() (or on this machine by
// SpawnLocal()): a child of the test process and the leader of a process
// group of its own, with standard input from /dev/null and standard output
// and error appended to one file. Destroying the handle kills the group
// (SIGKILL) and reaps the child.
class HostProcess {
 public:
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;
  ~HostProcess();

  // The child's pid, in the machine's pid namespace.
  pid_t pid() const { return pid_; }

  // The file that collects its standard output and error.
  const std::string& output_path() const { return output_path_; }

  // Everything it has written so far (also after the network that held the
  // file is gone: the handle keeps the file open).
  std::string Output() const;

  // Waits up to `timeout` for Output() to contain `text`. Errors:
  // DeadlineExceeded (not yet), FailedPrecondition (the process exited
  // without writing it).
  absl::Status WaitForOutput(std::string_view text, absl::Duration timeout);

  // Waits up to `timeout` for the child to exit and reaps it. Returns its
  // exit code, or 128 + N if signal N killed it; the same again on later
  // calls. Errors: DeadlineExceeded if it is still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // Its exit code (as Wait() says) if it has exited, else nullopt. Never
  // blocks.
  std::optional<int> Poll();

  // Sends `signal` to its process group. Errors: FailedPrecondition once it
  // has been reaped; Internal if kill() fails.
  absl::Status Signal(int signal);

  // SIGKILLs its process group and reaps it; returns the exit code as
  // Wait() does. Idempotent.
  int Kill();

 private:
  friend class TestHost;
  friend absl::StatusOr<std::unique_ptr<HostProcess>> SpawnLocal(
      const std::vector<std::string>&, const std::string&,
      const EnvOverrides&);
  HostProcess(pid_t pid, int output_fd, std::string output_path);

  const pid_t pid_;
  const int output_fd_;  // read-only, owned
  const std::string output_path_;
  std::optional<int> exit_code_;  // set once reaped
};

// One host of a TestNetwork. Owned by the network; valid while it lives.
class TestHost {
 public:
  TestHost(const TestHost&) = delete;
  TestHost& operator=(const TestHost&) = delete;

  // The host's name: its host name (gethostname() inside it) and its name in
  // the network's hosts file, e.g. "w1".
  const std::string& name() const { return name_; }

  // Its IPv4 address on the network, e.g. "10.77.0.2".
  const std::string& address() const { return address_; }

  // Its network namespace's name, for `ip -n NAME ...` and `ip netns exec`.
  const std::string& netns() const { return netns_; }

  // Starts `argv` in this host: in its network and UTS namespaces, with the
  // network's hosts file as /etc/hosts, in the test's working directory,
  // with this process's environment plus `env`. argv[0] without a '/' is
  // looked up in PATH (and /usr/sbin, /sbin). Descriptors other than 0-2
  // are not inherited. Returns once the program is executing. Errors:
  // InvalidArgument (empty argv), NotFound (no such program), Internal (a
  // namespace could not be entered, or fork/exec failed).
  absl::StatusOr<std::unique_ptr<HostProcess>> Spawn(
      const std::vector<std::string>& argv, const EnvOverrides& env = {});

  // Runs `command` with /bin/sh -c in this host, with `env` set as Spawn()
  // sets it, and waits for it. Errors: those of Spawn(); DeadlineExceeded
  // (with the output so far) if it runs past `timeout`, after which it is
  // killed.
  absl::StatusOr<RunResult> Run(std::string_view command,
                                absl::Duration timeout = absl::Seconds(30),
                                const EnvOverrides& env = {});

  // Re-executes this test binary in this host to run the current test again
  // (--gtest_filter) with ThisTestRole() == `role` and `env` set (see the
  // pattern at the top of this file). Bazel's and GoogleTest's output and
  // sharding variables are dropped from its environment, so the child runs
  // the test whatever the shard and never writes the test's XML. Exit code
  // 0 means the test passed there. Errors: FailedPrecondition if not called
  // from a running GoogleTest test or `role` is empty; those of Spawn().
  absl::StatusOr<std::unique_ptr<HostProcess>> SpawnThisTest(
      std::string_view role, const EnvOverrides& env = {});

  // Cuts the host off the network, as if its cable were pulled: its bridge
  // port goes down, so the host's eth0 loses carrier (keeping its address)
  // and no packet passes either way. Connection attempts from or to it get
  // no answer (no error either: they run into the caller's timeout);
  // established connections stall. Errors: Internal if `ip` fails.
  absl::Status LinkDown();

  // Reconnects it and waits (up to 10 s) until its eth0 is up again.
  // Errors: Internal if `ip` fails, DeadlineExceeded if the link stays down.
  absl::Status LinkUp();

  // Applies netem to what this host sends (its eth0's egress), replacing
  // any earlier setting: `args` as `tc qdisc ... netem ARGS` takes them,
  // e.g. "delay 50ms" or "delay 50ms loss 1%". A round trip to another host
  // is delayed once. Errors: Unavailable if the kernel has no netem qdisc
  // (CONFIG_NET_SCH_NETEM), InvalidArgument if tc rejects `args`.
  absl::Status SetNetem(std::string_view args);

  // Removes what SetNetem() set, if anything. Errors: Internal if tc fails.
  absl::Status ClearNetem();

  // SIGKILLs every process in this host (whose network namespace is the
  // host's), including ones started by other means than Spawn(), and waits
  // up to 10 s until none is left (zombies do not count). Errors:
  // DeadlineExceeded if some survive.
  absl::Status KillAll();

 private:
  friend class TestNetwork;
  TestHost(TestNetwork* network, std::string name, int index);
  // Spawn() with the child's whole environment given.
  absl::StatusOr<std::unique_ptr<HostProcess>> Start(
      const std::vector<std::string>& argv,
      std::vector<std::string> environment);
  // This host's port on the bridge, "pN".
  std::string Port() const;

  TestNetwork* const network_;
  const std::string name_;
  const int index_;  // N: address 10.77.0.N, bridge port "pN"
  const std::string address_;
  const std::string netns_;
  const std::string uts_path_;  // the bind-mounted UTS namespace
  int spawned_ = 0;             // names output files
  bool netem_ = false;
};

// A private network of test hosts; see the top of this file. Not copyable.
class TestNetwork {
 public:
  // The IPv4 addresses of hosts are kSubnetPrefix + N, N = 1, 2, ..., on a
  // /24.
  static constexpr char kSubnetPrefix[] = "10.77.0.";

  // OK if test hosts can be made here; otherwise why not, as a sentence
  // for GTEST_SKIP(): not root, no `ip` program, or the kernel refusing a
  // network namespace, a bridge, a veth pair, a UTS or mount namespace. It
  // tries each (in a throwaway namespace it removes) on every call.
  static absl::Status Availability();

  // A network with no hosts yet, after removing leftovers of crashed test
  // processes. Errors: Internal if a namespace, the bridge or the state
  // directory cannot be made (Availability() says why, usually), NotFound
  // without `ip`.
  static absl::StatusOr<std::unique_ptr<TestNetwork>> Create();

  TestNetwork(const TestNetwork&) = delete;
  TestNetwork& operator=(const TestNetwork&) = delete;

  // Kills every process left in its hosts, deletes its namespaces and its
  // state directory. Never fails; what cannot be removed is reported on
  // stderr, and a Create() after this process has exited removes it.
  ~TestNetwork();

  // Adds a host named `name` (an RFC 1123 label: 1-63 of [a-z0-9-], not
  // starting or ending with '-') with the next address, and puts it in the
  // hosts file. The returned host lives as long as the network. Errors:
  // InvalidArgument (a bad name, the machine's own host name, or "localhost"),
  // AlreadyExists (a host of that name), ResourceExhausted (254 hosts),
  // Internal (a namespace or interface could not be made).
  absl::StatusOr<TestHost*> AddHost(std::string_view name);

  // The host named `name`, or nullptr.
  TestHost* host(std::string_view name) const;

  // "weft-test-PID-SEQ": the bridge's namespace and the prefix of every
  // name this network uses.
  const std::string& name() const { return name_; }

  // The state directory, /run/weft-test/PID-SEQ.
  const std::string& state_dir() const { return state_dir_; }

 private:
  friend class TestHost;
  TestNetwork(std::string name, std::string state_dir);
  absl::Status WriteHostsFile() const;
  // Undoes AddHost's steps for `host`, whatever got done; returns false if
  // something could not be removed.
  bool RemoveHost(const TestHost& host);

  const std::string name_;
  const std::string state_dir_;
  const std::string hosts_path_;
  std::vector<std::unique_ptr<TestHost>> hosts_;
};

}  // namespace weft::testing

#endif  // WEFT_TESTS_TESTING_TEST_HOSTS_H_
