// Copyright 2026 The weft Authors.
//
// Mutual TLS end to end (docs/cluster.md, "TLS"): a LocalCluster whose
// client, scheduler and workers talk TLS on every connection (gRPC, frame
// streams, the workers' data plane and bulk stripes) computes exact
// results; `weft scheduler` and `weft worker` processes started with
// --tls, workers restarted by their supervisor with it; and clients
// without the cluster's certificate refused with a clear error.
//
// Certificates are made at test time by the code behind `weft tls init`.

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rpc/data_client.h"
#include "rpc/testing/tls_files.h"
#include "rpc/tls.h"
#include "tests/pattern_arrays.h"
#include "tests/suite_tasks.h"
#include "tests/testing/weft_cluster.h"
#include "weft/weft.h"

namespace {

using ::testing::HasSubstr;
using weft::testing::Compare;
using weft::testing::Make;
using weft::testing::RunfilePath;
using namespace std::chrono_literals;

// 40 MB: over 32 MiB, so a bulk transfer reads it in stripes
// (rpc::BulkStripesFor).
constexpr int64_t kLargeDoubles = 5'000'000;
// 800 KB: over 64 KiB, under rpc::kBulkMinBytes, so it is streamed over
// the workers' gRPC data plane.
constexpr int64_t kMediumDoubles = 100'000;

int64_t Where(const std::vector<double>& v) {
  (void)v;
  return ::getpid();
}

// How a worker fetched objects so far.
struct Stats {
  int64_t pid = 0;
  uint64_t streamed = 0;
  uint64_t bulk = 0;
  uint64_t fallbacks = 0;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(pid, streamed, bulk, fallbacks);
  }
};

Stats WorkerStats() {
  const weft::rpc::FetchCounts counts =
      weft::rpc::DataClient::ProcessFetchCounts();
  return Stats{::getpid(), counts.streamed, counts.bulk, counts.fallbacks};
}

WEFT_REMOTE(Make, Compare, Where, WorkerStats);

std::map<int64_t, Stats> StatsByPid(const weft::Client& client) {
  std::map<int64_t, Stats> out;
  for (const Stats& s : client.run_on_all_workers(WorkerStats)) {
    out[s.pid] = s;
  }
  return out;
}

// What Client::Connect to `address` says when this process's TLS is
// `files`.
std::string ConnectError(const weft::rpc::TlsFiles& files,
                         const std::string& address,
                         const std::string& token) {
  EXPECT_TRUE(weft::rpc::ConfigureProcessTls(files).ok());
  ::setenv("WEFT_TOKEN", token.c_str(), 1);
  std::string error;
  try {
    weft::Client::Connect(address, "", 3s);
    error = "connected";
  } catch (const std::exception& e) {
    error = e.what();
  }
  ::unsetenv("WEFT_TOKEN");
  return error;
}

// Arrays of n and n + 1 doubles, made on different workers: one graph
// with two roots reaches the scheduler in one message, and each of the
// cluster's two workers has one slot, so each takes one. (Two remote()
// calls could both land on one worker if the first finished before the
// second arrived.)
std::vector<weft::ObjectRef<std::vector<double>>> MakeApart(
    const weft::Client& client, int64_t n) {
  return client.persist(std::vector{weft::delayed(Make)(n),
                                    weft::delayed(Make)(n + 1)});
}

class TlsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    ASSERT_TRUE(weft::rpc::ConfigureProcessTls({}).ok());
  }
};

TEST_F(TlsTest, LocalClusterOverTlsMovesObjectsExactly) {
  weft::LocalCluster::Options options;
  options.workers = 2;
  options.dashboard_port = -1;
  // The client on gRPC and frame streams too, as a remote one would be.
  options.in_process_client = false;
  options.tls_directory = weft::rpc::testing::TestTlsDirectory();
  // Same-host workers would map each other's memory: make them copy over
  // the network paths TLS covers. (Workers take the environment at start.)
  ASSERT_EQ(::setenv("WEFT_SHARED_MEMORY", "0", 1), 0);
  weft::LocalCluster cluster(options);
  ::unsetenv("WEFT_SHARED_MEMORY");
  weft::Client client = cluster.client();

  // Two pairs of arrays; each pair's members made on different workers.
  const auto large = MakeApart(client, kLargeDoubles);
  const auto& large_a = large[0];
  const auto& large_b = large[1];
  client.wait(std::vector{large_a, large_b}, 2, 120s);
  const int64_t where_a = client.get(client.remote(Where)(large_a), 60s);
  const int64_t where_b = client.get(client.remote(Where)(large_b), 60s);
  ASSERT_NE(where_a, where_b) << "both arrays landed on one worker";
  const std::map<int64_t, Stats> before = StatsByPid(client);
  // Compare runs where its larger input is (b) and fetches a in stripes.
  EXPECT_EQ(client.get(client.remote(Compare)(large_a, large_b), 120s),
            kLargeDoubles);
  std::map<int64_t, Stats> after = StatsByPid(client);
  EXPECT_EQ(after.at(where_b).bulk, before.at(where_b).bulk + 1);
  EXPECT_EQ(after.at(where_b).fallbacks, 0u);

  const auto medium = MakeApart(client, kMediumDoubles);
  const auto& medium_a = medium[0];
  const auto& medium_b = medium[1];
  client.wait(std::vector{medium_a, medium_b}, 2, 60s);
  const int64_t medium_where_b =
      client.get(client.remote(Where)(medium_b), 60s);
  ASSERT_NE(client.get(client.remote(Where)(medium_a), 60s), medium_where_b)
      << "both arrays landed on one worker";
  EXPECT_EQ(client.get(client.remote(Compare)(medium_a, medium_b), 60s),
            kMediumDoubles);
  const std::map<int64_t, Stats> later = StatsByPid(client);
  EXPECT_EQ(later.at(medium_where_b).streamed,
            after.at(medium_where_b).streamed + 1);

  // The client reads the large array itself, over TLS as well.
  const std::vector<double> local = client.get(large_a, 120s);
  EXPECT_EQ(local, Make(kLargeDoubles));

  // Clients without the cluster's certificate are refused, saying why.
  const std::string without =
      ConnectError({}, cluster.address(), cluster.token());
  EXPECT_THAT(without, HasSubstr(cluster.address()));
  EXPECT_THAT(without, HasSubstr("requires TLS"));
  const std::string other =
      ConnectError(weft::rpc::testing::TestTlsFiles("other"),
                   cluster.address(), cluster.token());
  EXPECT_THAT(other, HasSubstr(cluster.address()));
  EXPECT_THAT(other, HasSubstr("not one of this cluster's"));
  // The cluster is unharmed.
  ASSERT_TRUE(weft::rpc::ConfigureProcessTls(
                  weft::rpc::testing::TestTlsFiles())
                  .ok());
  EXPECT_EQ(client.get(client.remote(Compare)(medium_a, medium_a), 60s),
            kMediumDoubles);
}

TEST_F(TlsTest, CommandClusterWithTlsAndASupervisedRestart) {
  const std::string tls = weft::rpc::testing::TestTlsDirectory();
  weft::testing::WeftClusterOptions options;
  options.workers = 2;
  options.loads = {RunfilePath("tests/libsuite_tasks.so")};
  options.scheduler_flags = {"--tls=" + tls};
  // The workers take the files as flags, one way; the environment is the
  // other (checked below with `weft status`).
  const weft::rpc::TlsFiles files = weft::rpc::testing::TestTlsFiles();
  options.worker_flags = {"--tls-cert=" + files.cert,
                          "--tls-key=" + files.key, "--tls-ca=" + files.ca};
  // Copies between the workers, not shared memory: over TLS.
  options.env = {{"WEFT_SHARED_MEMORY", "0"}};
  auto cluster = weft::testing::WeftCluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();

  ASSERT_TRUE(weft::rpc::ConfigureProcessTls(files).ok());
  weft::Client client =
      weft::Client::Connect((*cluster)->address(), (*cluster)->token_file());
  client.wait_for_workers(2, 60s);
  // Blobs made on the workers and combined: data between workers over TLS.
  std::vector<weft::ObjectRef<std::string>> blobs;
  for (int i = 0; i < 4; ++i) {
    blobs.push_back(client.remote(suite::Blob)(3 << 20, i));
  }
  int64_t want = 0;
  for (int i = 0; i < 4; ++i) want += (3 << 20) + ((i * 31) & 0x7f);
  EXPECT_EQ(client.get(client.remote(suite::CombineAll)(blobs), 120s), want);

  // A task crashes its worker; the supervisor restarts it with the same
  // TLS files, and it joins again (a worker without them could not).
  const std::string dir = (*cluster)->state_dir();
  try {
    client.get(client.remote(suite::Segfault)(dir, "segfault"), 120s);
    FAIL() << "the crashing task returned";
  } catch (const weft::TaskError& e) {
    EXPECT_EQ(e.kind(), weft::ErrorKind::kWorkerDied) << e.what();
  }
  ASSERT_TRUE((*cluster)->WaitForJoins(5, absl::Seconds(120)).ok())
      << (*cluster)->Logs();
  client.wait_for_workers(2, 60s);
  EXPECT_EQ(client.get(client.remote(suite::Inc)(2), 30s), 3);

  // `weft status` with the files in the environment works; without any,
  // it is refused and says why. (This process's own TLS off: its
  // environment is the children's.)
  ASSERT_TRUE(weft::rpc::ConfigureProcessTls({}).ok());
  auto status = weft::testing::SpawnLocal(
      {RunfilePath("tools/weft"), "status",
       "--scheduler=" + (*cluster)->address(),
       "--token-file=" + (*cluster)->token_file()},
      dir + "/status-tls.log",
      {{"WEFT_TLS_CERT", files.cert},
       {"WEFT_TLS_KEY", files.key},
       {"WEFT_TLS_CA", files.ca}});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)->Wait(absl::Seconds(60)).value_or(-1), 0)
      << (*status)->Output();
  EXPECT_THAT((*status)->Output(), HasSubstr("2 workers"));
  auto refused = weft::testing::SpawnLocal(
      {RunfilePath("tools/weft"), "status",
       "--scheduler=" + (*cluster)->address(),
       "--token-file=" + (*cluster)->token_file()},
      dir + "/status-plain.log");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ((*refused)->Wait(absl::Seconds(60)).value_or(-1), 2)
      << (*refused)->Output();
  EXPECT_THAT((*refused)->Output(), HasSubstr("requires TLS"));
  EXPECT_THAT((*refused)->Output(), HasSubstr((*cluster)->address()));
}

TEST_F(TlsTest, TlsClientOfAPlaintextSchedulerSaysSo) {
  weft::LocalCluster::Options options;
  options.workers = 1;
  options.dashboard_port = -1;
  weft::LocalCluster cluster(options);
  const std::string error =
      ConnectError(weft::rpc::testing::TestTlsFiles(), cluster.address(),
                   cluster.token());
  EXPECT_THAT(error, HasSubstr(cluster.address()));
  EXPECT_THAT(error, HasSubstr("without TLS"));
}

TEST_F(TlsTest, TlsInitCommandMakesACaAndCertificates) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/init-", ::getpid());
  auto run = [&](std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), RunfilePath("tools/weft"));
    auto process = weft::testing::SpawnLocal(args, dir + "-" + log);
    EXPECT_TRUE(process.ok());
    const int code = (*process)->Wait(absl::Seconds(60)).value_or(-1);
    return std::make_pair(code, (*process)->Output());
  };
  auto [code, out] = run({"tls", "init", dir}, "1.log");
  ASSERT_EQ(code, 0) << out;
  auto [named, named_out] = run({"tls", "init", dir, "--name=node7"}, "2.log");
  ASSERT_EQ(named, 0) << named_out;
  // Both certificates are the same cluster's.
  for (const std::string name : {"weft-cluster", "node7"}) {
    auto tls =
        weft::rpc::TlsContext::Load(weft::rpc::TlsFilesInDirectory(dir, name));
    EXPECT_TRUE(tls.ok()) << name << ": " << tls.status();
  }
  auto [again, again_out] = run({"tls", "init", dir}, "3.log");
  EXPECT_EQ(again, 2);
  EXPECT_THAT(again_out, HasSubstr("weft-cluster.pem exists already"));
}

TEST_F(TlsTest, BrokenTlsFilesStopALocalClusterWithTheFileNamed) {
  weft::LocalCluster::Options options;
  options.workers = 1;
  options.dashboard_port = -1;
  options.tls_directory = "/nonexistent-tls-dir";
  try {
    weft::LocalCluster cluster(options);
    FAIL() << "started";
  } catch (const weft::UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent-tls-dir/weft-cluster.pem"));
  }
}

}  // namespace
