// Copyright 2026 The weft Authors.
//
// Clusters across test hosts (tests/testing/test_hosts.h): the scheduler,
// the workers and the client each in a network namespace of their own, with
// host names of their own, so no same-host shortcut applies and every byte
// crosses the (virtual) wire. Graphs with worker-to-worker transfers of
// small and large objects give exact results; partitions, a stopped worker
// and a restarted scheduler are survived (workers dropped, their work
// redone, then rejoining).
//
// The client runs inside a host: the test binary re-executed there
// (SpawnThisTest) with the cluster's address and token file in the
// environment. The test process orchestrates (links, signals) and meets the
// client through files in a directory both see.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/testing/tls_files.h"
#include "tests/suite_tasks.h"
#include "tests/testing/test_hosts.h"
#include "tests/testing/weft_cluster.h"
#include "weft/weft.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using weft::testing::HostProcess;
using weft::testing::RunfilePath;
using weft::testing::TestHost;
using weft::testing::TestNetwork;
using weft::testing::ThisTestRole;
using weft::testing::WeftCluster;
using weft::testing::WeftClusterOptions;
using namespace std::chrono_literals;

// --- In the client's host ----------------------------------------------------

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// (TEST_REFUSED: a client expected to be refused tries for 5 s only.)
weft::Client ConnectFromEnv() {
  return weft::Client::Connect(Env("TEST_SCHEDULER"), Env("TEST_TOKEN_FILE"),
                               Env("TEST_REFUSED").empty() ? 60s : 5s);
}

// Files the client and the orchestrator meet at.
void Touch(const std::string& path) { std::ofstream(path) << "1\n"; }
bool WaitForFile(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (::access(path.c_str(), F_OK) != 0) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// --- The orchestrator --------------------------------------------------------

class MultiHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ThisTestRole().empty()) return;  // the client's run
    const absl::Status available = TestNetwork::Availability();
    if (!available.ok()) GTEST_SKIP() << available.message();
    auto net = TestNetwork::Create();
    ASSERT_TRUE(net.ok()) << net.status();
    net_ = *std::move(net);
    for (const char* name : {"sched", "w1", "w2", "c"}) {
      auto host = net_->AddHost(name);
      ASSERT_TRUE(host.ok()) << host.status();
    }
    // The client's and the orchestrator's meeting place (hosts share the
    // file system).
    dir_ = net_->state_dir() + "/meet";
    ASSERT_EQ(::mkdir(dir_.c_str(), 0755), 0);
  }

  // Starts `weft scheduler` in "sched" and one worker each in w1 and w2.
  void StartCluster(std::vector<std::string> scheduler_flags = {},
                    int threads = 2,
                    weft::testing::EnvOverrides env = {}) {
    WeftClusterOptions options;
    options.workers = 2;
    options.threads_per_worker = threads;
    options.loads = {RunfilePath("tests/libsuite_tasks.so")};
    options.scheduler_host = net_->host("sched");
    options.worker_hosts = {net_->host("w1"), net_->host("w2")};
    options.scheduler_flags = std::move(scheduler_flags);
    options.env = std::move(env);
    auto cluster = WeftCluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
  }

  // Runs this test again in host "c" as the client.
  std::unique_ptr<HostProcess> SpawnClient(
      weft::testing::EnvOverrides env = {}) {
    env["TEST_SCHEDULER"] = cluster_->address();
    env["TEST_TOKEN_FILE"] = cluster_->token_file();
    env["TEST_MEET"] = dir_;
    auto client = net_->host("c")->SpawnThisTest("client", env);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  void ExpectClientPasses(HostProcess& client, absl::Duration timeout) {
    const absl::StatusOr<int> code = client.Wait(timeout);
    EXPECT_TRUE(code.ok()) << "the client still runs\n"
                           << client.Output() << cluster_->Logs();
    EXPECT_EQ(code.value_or(-1), 0) << client.Output() << cluster_->Logs();
  }

  int Count(const std::string& text, std::string_view needle) {
    int n = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }

  std::unique_ptr<TestNetwork> net_;
  std::unique_ptr<WeftCluster> cluster_;
  std::string dir_;
};

// Small and large objects move between workers on different hosts, and to
// a client on a third: exact results, digests equal to the local ones.
TEST_F(MultiHostTest, CrossHostGraphsAreExact) {
  if (ThisTestRole() == "client") {
    weft::Client client = ConnectFromEnv();
    client.wait_for_workers(2, 60s);
    // Small values, many tasks, a reduction that gathers them.
    std::vector<weft::ObjectRef<double>> squares;
    for (int i = 0; i < 200; ++i) {
      squares.push_back(client.remote(suite::Square)(i));
    }
    const double total =
        client.get(client.remote(suite::Total)(client.get(squares, 60s)), 60s);
    EXPECT_EQ(total, 2646700.0);  // sum of i^2, i < 200
    // Two 100 MB objects made in parallel (one per worker: each has one
    // slot busy with the other), then one task needing both: one crosses
    // between the worker hosts.
    constexpr int64_t kLarge = 100 << 20;
    std::vector<weft::ObjectRef<std::string>> blobs = {
        client.remote(suite::RandomBlob)(kLarge, 1),
        client.remote(suite::RandomBlob)(kLarge, 2)};
    const uint64_t both =
        client.get(client.remote(suite::DigestAll)(blobs), 120s);
    EXPECT_EQ(both, suite::Digest(suite::RandomBlob(kLarge, 1)) +
                        suite::Digest(suite::RandomBlob(kLarge, 2)));
    // Again with fresh objects, once the first copies are let go: the
    // receiving worker takes the block it kept (given huge pages meanwhile,
    // rpc/page_block.h) when it is ready, a new one when not; either way
    // every byte must be the new object's.
    blobs.clear();
    for (int64_t seed : {11, 21}) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      std::vector<weft::ObjectRef<std::string>> again = {
          client.remote(suite::RandomBlob)(kLarge, seed),
          client.remote(suite::RandomBlob)(kLarge, seed + 1)};
      EXPECT_EQ(client.get(client.remote(suite::DigestAll)(again), 120s),
                suite::Digest(suite::RandomBlob(kLarge, seed)) +
                    suite::Digest(suite::RandomBlob(kLarge, seed + 1)));
    }
    // get() of a 1 GiB object from a worker's host into this one.
    constexpr int64_t kHuge = int64_t{1} << 30;
    weft::ObjectRef<std::string> huge =
        client.remote(suite::RandomBlob)(kHuge, 3);
    const std::string value = client.get(huge, 300s);
    ASSERT_EQ(value.size(), static_cast<size_t>(kHuge));
    EXPECT_EQ(suite::Digest(value), suite::Digest(suite::RandomBlob(kHuge, 3)));
    return;
  }
  StartCluster();
  auto client = SpawnClient();
  ASSERT_NE(client, nullptr);
  ExpectClientPasses(*client, absl::Seconds(600));
  // Nothing crossed through a same-host shortcut: the workers are on
  // different hosts, so each saw the other's address, not shared memory.
  EXPECT_THAT(cluster_->scheduler().Output(), HasSubstr("(host w1,"));
  EXPECT_THAT(cluster_->scheduler().Output(), HasSubstr("(host w2,"));
}

// The same across hosts with mutual TLS on every connection (docs/cluster.md,
// "TLS"): the scheduler with --tls, the workers and the client with
// WEFT_TLS_*; a 100 MB object crosses between the worker hosts in bulk
// stripes over TLS, and one comes to the client.
TEST_F(MultiHostTest, CrossHostGraphsAreExactOverTls) {
  if (ThisTestRole() == "client") {
    weft::Client client = ConnectFromEnv();
    client.wait_for_workers(2, 60s);
    std::vector<weft::ObjectRef<double>> squares;
    for (int i = 0; i < 200; ++i) {
      squares.push_back(client.remote(suite::Square)(i));
    }
    EXPECT_EQ(
        client.get(client.remote(suite::Total)(client.get(squares, 60s)), 60s),
        2646700.0);
    constexpr int64_t kLarge = 100 << 20;
    std::vector<weft::ObjectRef<std::string>> blobs = {
        client.remote(suite::RandomBlob)(kLarge, 1),
        client.remote(suite::RandomBlob)(kLarge, 2)};
    EXPECT_EQ(client.get(client.remote(suite::DigestAll)(blobs), 120s),
              suite::Digest(suite::RandomBlob(kLarge, 1)) +
                  suite::Digest(suite::RandomBlob(kLarge, 2)));
    const std::string value = client.get(blobs[1], 120s);
    EXPECT_EQ(suite::Digest(value), suite::Digest(suite::RandomBlob(kLarge, 2)));
    return;
  }
  const weft::rpc::TlsFiles files = weft::rpc::testing::TestTlsFiles();
  const weft::testing::EnvOverrides tls = {{"WEFT_TLS_CERT", files.cert},
                                           {"WEFT_TLS_KEY", files.key},
                                           {"WEFT_TLS_CA", files.ca}};
  StartCluster({"--tls=" + weft::rpc::testing::TestTlsDirectory()}, 2, tls);
  auto client = SpawnClient(tls);
  ASSERT_NE(client, nullptr);
  ExpectClientPasses(*client, absl::Seconds(600));
  EXPECT_THAT(cluster_->scheduler().Output(), HasSubstr("(host w1,"));
  EXPECT_THAT(cluster_->scheduler().Output(), HasSubstr("(host w2,"));
  // A client without the files is refused, saying why.
  auto plain = SpawnClient({{"TEST_REFUSED", "1"}});
  ASSERT_NE(plain, nullptr);
  EXPECT_NE(plain->Wait(absl::Seconds(300)).value_or(0), 0);
  EXPECT_THAT(plain->Output(), HasSubstr("requires TLS"));
}

// A worker host cut off for longer than the heartbeat timeout is dropped
// and its work redone on the other (exact result); when the link comes
// back the worker rejoins and gets work again.
TEST_F(MultiHostTest, PartitionedWorkerIsDroppedThenRejoins) {
  const std::string meet = Env("TEST_MEET");
  if (ThisTestRole() == "client") {
    weft::Client client = ConnectFromEnv();
    client.wait_for_workers(2, 60s);
    std::vector<weft::ObjectRef<int>> refs;
    for (int i = 0; i < 60; ++i) {
      refs.push_back(client.remote(suite::SleepThen)(100, i));
    }
    Touch(meet + "/submitted");
    const std::vector<int> got = client.get(refs, 300s);
    EXPECT_EQ(std::accumulate(got.begin(), got.end(), 0), 60 * 61 / 2);
    // After the rejoin (the orchestrator says so), w1 runs tasks again.
    ASSERT_TRUE(WaitForFile(meet + "/rejoined", absl::Seconds(120)));
    client.wait_for_workers(2, 60s);
    bool ran_on_w1 = false;
    for (int round = 0; round < 50 && !ran_on_w1; ++round) {
      std::vector<weft::ObjectRef<std::string>> hosts;
      for (int i = 0; i < 8; ++i) {
        hosts.push_back(client.remote(suite::HostName)(round * 8 + i));
      }
      for (const std::string& h : client.get(hosts, 60s)) {
        ran_on_w1 |= h == "w1";
      }
    }
    EXPECT_TRUE(ran_on_w1) << "the rejoined worker got no work";
    return;
  }
  StartCluster({"--heartbeat-timeout=2"}, /*threads=*/1);
  auto client = SpawnClient();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(WaitForFile(dir_ + "/submitted", absl::Seconds(60)))
      << client->Output();
  absl::SleepFor(absl::Milliseconds(300));  // both workers busy
  TestHost* w1 = net_->host("w1");
  ASSERT_TRUE(w1->LinkDown().ok());
  ASSERT_TRUE(cluster_->scheduler()
                  .WaitForOutput("sent no heartbeat for 2s", absl::Seconds(30))
                  .ok())
      << cluster_->Logs();
  // Long enough for the worker to give the scheduler up too (twice its
  // heartbeat timeout) and to try rejoining into the void.
  ASSERT_TRUE(cluster_->workers()[0]
                  ->WaitForOutput("lost the scheduler", absl::Seconds(30))
                  .ok())
      << cluster_->Logs();
  ASSERT_TRUE(w1->LinkUp().ok());
  ASSERT_TRUE(cluster_->WaitForJoins(3, absl::Seconds(60)).ok())
      << cluster_->Logs();
  Touch(dir_ + "/rejoined");
  ExpectClientPasses(*client, absl::Seconds(300));
  EXPECT_THAT(cluster_->workers()[0]->Output(),
              HasSubstr("rejoined the scheduler"));
}

// A blip shorter than the heartbeat timeout removes nobody.
TEST_F(MultiHostTest, ShortBlipRemovesNobody) {
  const std::string meet = Env("TEST_MEET");
  if (ThisTestRole() == "client") {
    weft::Client client = ConnectFromEnv();
    client.wait_for_workers(2, 60s);
    std::vector<weft::ObjectRef<int>> refs;
    for (int i = 0; i < 40; ++i) {
      refs.push_back(client.remote(suite::SleepThen)(50, i));
    }
    Touch(meet + "/submitted");
    const std::vector<int> got = client.get(refs, 120s);
    EXPECT_EQ(std::accumulate(got.begin(), got.end(), 0), 40 * 41 / 2);
    return;
  }
  StartCluster({"--heartbeat-timeout=5"}, /*threads=*/1);
  auto client = SpawnClient();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(WaitForFile(dir_ + "/submitted", absl::Seconds(60)));
  TestHost* w1 = net_->host("w1");
  ASSERT_TRUE(w1->LinkDown().ok());
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(w1->LinkUp().ok());
  ExpectClientPasses(*client, absl::Seconds(120));
  const std::string log = cluster_->scheduler().Output();
  EXPECT_THAT(log, Not(HasSubstr("dropped"))) << cluster_->Logs();
  EXPECT_THAT(log, Not(HasSubstr("lost its connection"))) << cluster_->Logs();
  EXPECT_EQ(Count(log, " joined: "), 2);
}

// Delay on the wire causes no false removal and no hang (where the kernel
// has netem; this machine's may not).
TEST_F(MultiHostTest, DelayAndLossCauseNoFalseRemoval) {
  if (ThisTestRole() == "client") {
    weft::Client client = ConnectFromEnv();
    client.wait_for_workers(2, 60s);
    std::vector<weft::ObjectRef<double>> refs;
    for (int i = 0; i < 100; ++i)
      refs.push_back(client.remote(suite::Square)(i));
    double total = 0;
    for (double x : client.get(refs, 120s)) total += x;
    EXPECT_EQ(total, 328350.0);
    return;
  }
  StartCluster({"--heartbeat-timeout=5"}, /*threads=*/1);
  const absl::Status netem = net_->host("w1")->SetNetem("delay 100ms loss 2%");
  if (absl::IsUnavailable(netem)) GTEST_SKIP() << netem.message();
  ASSERT_TRUE(netem.ok()) << netem;
  ASSERT_TRUE(net_->host("w2")->SetNetem("delay 40ms 20ms").ok());
  auto client = SpawnClient();
  ASSERT_NE(client, nullptr);
  ExpectClientPasses(*client, absl::Seconds(180));
  const std::string log = cluster_->scheduler().Output();
  EXPECT_THAT(log, Not(HasSubstr("dropped"))) << cluster_->Logs();
  EXPECT_EQ(Count(log, " joined: "), 2);
}

// A worker stopped (SIGSTOP) past the timeout is dropped; continued, it
// rejoins.
TEST_F(MultiHostTest, StoppedWorkerIsDroppedThenRejoins) {
  StartCluster({"--heartbeat-timeout=2"}, /*threads=*/1);
  HostProcess& w1 = *cluster_->workers()[0];
  ASSERT_TRUE(w1.Signal(SIGSTOP).ok());
  ASSERT_TRUE(cluster_->scheduler()
                  .WaitForOutput("sent no heartbeat for 2s", absl::Seconds(30))
                  .ok())
      << cluster_->Logs();
  ASSERT_TRUE(w1.Signal(SIGCONT).ok());
  ASSERT_TRUE(cluster_->WaitForJoins(3, absl::Seconds(60)).ok())
      << cluster_->Logs();
  EXPECT_EQ(w1.Poll(), std::nullopt);
}

// Addresses (docs/deploy.md, "When workers do not connect"): a worker on
// another host than its scheduler that would advertise loopback is refused
// at once, saying which address to give; one told no address advertises
// its address toward the scheduler and joins.
TEST_F(MultiHostTest, WorkerAdvertisesAnAddressItsPeersReach) {
  StartCluster();
  const std::vector<std::string> worker = {
      RunfilePath("tools/weft"),
      "worker",
      "--scheduler=" + cluster_->address(),
      "--token-file=" + cluster_->token_file(),
      "--load=" + RunfilePath("tests/libsuite_tasks.so"),
      "--exit-with-parent=no"};
  TestHost* w2 = net_->host("w2");
  std::vector<std::string> loopback = worker;
  loopback.push_back("--host=127.0.0.1");
  auto refused = w2->Spawn(loopback);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ((*refused)->Wait(absl::Seconds(20)).value_or(-1), 1)
      << (*refused)->Output();
  EXPECT_THAT((*refused)->Output(), HasSubstr("a loopback address"));
  EXPECT_THAT((*refused)->Output(), HasSubstr("--host=" + w2->address() + " "));

  auto chosen = w2->Spawn(worker);
  ASSERT_TRUE(chosen.ok()) << chosen.status();
  ASSERT_TRUE(cluster_->WaitForJoins(3, absl::Seconds(60)).ok())
      << cluster_->Logs() << (*chosen)->Output();
  EXPECT_THAT(cluster_->scheduler().Output(),
              HasSubstr("joined: " + w2->address() + ":"));
  ASSERT_TRUE((*chosen)->Signal(SIGTERM).ok());
  EXPECT_EQ((*chosen)->Wait(absl::Seconds(30)).value_or(-1), 0)
      << (*chosen)->Output();
}

// `weft scheduler --interface=eth0` listens on that interface's address; a
// second scheduler on a port in use, or an interface that is not there, is
// an error at start.
TEST_F(MultiHostTest, SchedulerListensOnItsInterface) {
  TestHost* sched = net_->host("sched");
  auto scheduler = [&](const std::string& where, const std::string& name) {
    return sched->Spawn({RunfilePath("tools/weft"), "scheduler", where,
                         "--port=8799", "--token-file=" + dir_ + "/" + name,
                         "--exit-with-parent=no"});
  };
  auto first = scheduler("--interface=eth0", "first");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)
                  ->WaitForOutput("listening on " + sched->address() + ":8799",
                                  absl::Seconds(30))
                  .ok())
      << (*first)->Output();
  auto second = scheduler("--host=" + sched->address(), "second");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->Wait(absl::Seconds(20)).value_or(-1), 2)
      << (*second)->Output();
  EXPECT_THAT((*second)->Output(), HasSubstr("8799"));
  auto missing = scheduler("--interface=ib9", "third");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ((*missing)->Wait(absl::Seconds(20)).value_or(-1), 2);
  EXPECT_THAT((*missing)->Output(),
              HasSubstr("no network interface ib9 with an IPv4 address here; "
                        "there are: lo (127.0.0.1), eth0 (" +
                        sched->address() + ")"));
  ASSERT_TRUE((*first)->Signal(SIGTERM).ok());
  EXPECT_EQ((*first)->Wait(absl::Seconds(30)).value_or(-1), 0);
}

}  // namespace
