// Copyright 2026 The weft Authors.
//
// Large objects between two workers of a LocalCluster (one host) go through
// shared memory: the consumer maps the producer's region. Checked with the
// workers' own fetch counters (rpc::DataClient::ProcessFetchCounts, read by
// a function run on every worker). Also: the stream when shared memory is
// turned off, regions unmapped on release, and a peer's mapping surviving
// the holder's death.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "rpc/data_client.h"
#include "rpc/shared_region.h"
#include "tests/pattern_arrays.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;

constexpr int64_t kDoubles = 2'000'000;  // 16 MB, well above kSharedMinBytes

using weft::testing::Compare;
using weft::testing::Make;

// The pid of the worker holding `v` (placement by input bytes runs it there).
int64_t Where(const std::vector<double>& v) {
  (void)v;
  return ::getpid();
}

// What a worker process has done with shared memory.
struct Stats {
  int64_t pid = 0;
  uint64_t mapped = 0;     // fetches through shared memory
  uint64_t streamed = 0;   // fetches streamed over gRPC
  uint64_t bulk = 0;       // fetches read from a bulk port
  uint64_t fallbacks = 0;  // handles that could not be mapped
  int64_t regions = 0;     // shared regions mapped now
  // Fetches that copied the bytes, one way or the other.
  uint64_t copied() const { return streamed + bulk; }
  template <class Archive>
  void serialize(Archive& ar) {
    ar(pid, mapped, streamed, bulk, fallbacks, regions);
  }
};

Stats WorkerStats() {
  const weft::rpc::FetchCounts counts =
      weft::rpc::DataClient::ProcessFetchCounts();
  return Stats{::getpid(),        counts.mapped,
               counts.streamed,   counts.bulk,
               counts.fallbacks,  weft::rpc::SharedRegion::LiveCount()};
}

WEFT_REMOTE(Make, Compare, Where, WorkerStats);

std::map<int64_t, Stats> StatsByPid(const weft::LocalCluster& cluster) {
  std::map<int64_t, Stats> out;
  for (const Stats& s : cluster.client().run_on_all_workers(WorkerStats)) {
    out[s.pid] = s;
  }
  return out;
}

// Waits until no worker maps any region (releases travel client ->
// scheduler -> worker asynchronously).
bool AllRegionsUnmapped(const weft::LocalCluster& cluster) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    int64_t regions = 0;
    for (const auto& [pid, s] : StatsByPid(cluster)) regions += s.regions;
    if (regions == 0) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// a on one worker, b (larger) on the other, then Compare(a, b), which runs
// where b is and fetches a. Returns {holder of a, holder of b}.
struct Placed {
  weft::ObjectRef<std::vector<double>> a, b;
  int64_t where_a = 0, where_b = 0;
};
Placed PlaceApart() {
  Placed p;
  // One graph with two roots reaches the scheduler in one message, and
  // each of the two workers has one slot, so each takes one. (Two remote()
  // calls could both land on one worker if the first finished before the
  // second arrived.)
  std::vector<weft::ObjectRef<std::vector<double>>> made = weft::persist(
      std::vector{weft::delayed(Make)(kDoubles),
                  weft::delayed(Make)(kDoubles + 1)});
  p.a = made[0];
  p.b = made[1];
  weft::wait(std::vector{p.a, p.b}, 2, 60s);
  p.where_a = weft::get(weft::remote(Where)(p.a), 60s);
  p.where_b = weft::get(weft::remote(Where)(p.b), 60s);
  return p;
}

TEST(SharedMemoryTest, LargeObjectMovesBetweenWorkersThroughSharedMemory) {
  weft::LocalCluster cluster(2);
  Placed p = PlaceApart();
  ASSERT_NE(p.where_a, p.where_b) << "both arrays landed on one worker";
  const std::map<int64_t, Stats> before = StatsByPid(cluster);
  ASSERT_EQ(before.size(), 2u);
  // Each holder keeps its result in a region of its own.
  EXPECT_EQ(before.at(p.where_a).regions, 1);
  EXPECT_EQ(before.at(p.where_b).regions, 1);

  EXPECT_EQ(weft::get(weft::remote(Compare)(p.a, p.b), 60s), kDoubles);

  const std::map<int64_t, Stats> after = StatsByPid(cluster);
  const Stats& consumer = after.at(p.where_b);
  EXPECT_EQ(consumer.mapped, before.at(p.where_b).mapped + 1);
  EXPECT_EQ(consumer.copied(), before.at(p.where_b).copied());
  EXPECT_EQ(consumer.fallbacks, 0u);
  EXPECT_EQ(consumer.regions, 2);  // b, and its mapping of a
  EXPECT_EQ(after.at(p.where_a).regions, 1);

  // The consumer's replica counts in its memory (as a full copy would).
  uint64_t most = 0;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(100ms)) {
    most = 0;
    for (const auto& w : cluster.client().workers()) {
      most = std::max(most, w.memory_bytes);
    }
    if (most >= uint64_t{2} * kDoubles * sizeof(double)) break;
  }
  EXPECT_GE(most, uint64_t{2} * kDoubles * sizeof(double));

  // The client maps it too (then copies it out for get()).
  const uint64_t client_mapped =
      weft::rpc::DataClient::ProcessFetchCounts().mapped;
  std::vector<double> local = weft::get(p.a, 60s);
  ASSERT_EQ(local.size(), static_cast<size_t>(kDoubles));
  EXPECT_EQ(local[1000003 + 5], 5.0);
  EXPECT_EQ(weft::rpc::DataClient::ProcessFetchCounts().mapped,
            client_mapped + 1);

  // Releasing the objects unmaps every region on every worker.
  p = Placed();
  EXPECT_TRUE(AllRegionsUnmapped(cluster));
}

TEST(SharedMemoryTest, PutAndBroadcastHandTheirRegionToTheWorkers) {
  weft::LocalCluster cluster(2);
  const std::vector<double> data = Make(kDoubles);
  const std::vector<double> other = Make(kDoubles + 7);
  const weft::rpc::FetchCounts before =
      weft::rpc::DataClient::ProcessStoreCounts();

  // put(): encoded once into a region of this process, which the holder
  // maps.
  weft::ObjectRef<std::vector<double>> ref = weft::put(data);
  weft::rpc::FetchCounts after = weft::rpc::DataClient::ProcessStoreCounts();
  EXPECT_EQ(after.mapped, before.mapped + 1);
  EXPECT_EQ(after.streamed, before.streamed);
  const int64_t holder = weft::get(weft::remote(Where)(ref), 60s);
  EXPECT_EQ(StatsByPid(cluster).at(holder).regions, 1);
  // Used on the holder and, mapped again, on the other worker.
  weft::ObjectRef<std::vector<double>> far = weft::remote(Make)(kDoubles + 1);
  EXPECT_EQ(weft::get(weft::remote(Compare)(ref, far), 60s), kDoubles);
  EXPECT_EQ(weft::get(weft::remote(Compare)(ref, ref), 60s), kDoubles);

  // broadcast(): one region, mapped by every worker.
  const std::map<int64_t, Stats> before_broadcast = StatsByPid(cluster);
  weft::ObjectRef<std::vector<double>> everywhere =
      cluster.client().broadcast(other);
  after = weft::rpc::DataClient::ProcessStoreCounts();
  EXPECT_EQ(after.mapped, before.mapped + 3);
  for (const auto& [pid, s] : StatsByPid(cluster)) {
    EXPECT_EQ(s.regions, before_broadcast.at(pid).regions + 1) << pid;
  }
  EXPECT_EQ(weft::get(weft::remote(Compare)(everywhere, far), 60s),
            kDoubles + 1);
  EXPECT_EQ(weft::get(everywhere, 60s), other);

  // Released, they are unmapped everywhere.
  ref = {};
  far = {};
  everywhere = {};
  EXPECT_TRUE(AllRegionsUnmapped(cluster));
}

TEST(SharedMemoryTest, TurnedOffTheObjectIsStreamed) {
  // Workers take the environment when the cluster starts.
  ASSERT_EQ(::setenv("WEFT_SHARED_MEMORY", "0", 1), 0);
  weft::LocalCluster cluster(2);
  ::unsetenv("WEFT_SHARED_MEMORY");
  Placed p = PlaceApart();
  ASSERT_NE(p.where_a, p.where_b) << "both arrays landed on one worker";
  const std::map<int64_t, Stats> before = StatsByPid(cluster);
  EXPECT_EQ(weft::get(weft::remote(Compare)(p.a, p.b), 60s), kDoubles);
  const std::map<int64_t, Stats> after = StatsByPid(cluster);
  const Stats& consumer = after.at(p.where_b);
  EXPECT_EQ(consumer.mapped, 0u);
  EXPECT_EQ(consumer.copied(), before.at(p.where_b).copied() + 1);
  for (const auto& [pid, s] : after) EXPECT_EQ(s.regions, 0) << pid;
}

TEST(SharedMemoryTest, PeerKeepsItsMappingWhenTheHolderIsKilled) {
  weft::LocalCluster cluster(2);
  Placed p = PlaceApart();
  ASSERT_NE(p.where_a, p.where_b) << "both arrays landed on one worker";
  // b's worker maps a from a's worker.
  EXPECT_EQ(weft::get(weft::remote(Compare)(p.a, p.b), 60s), kDoubles);
  ASSERT_EQ(StatsByPid(cluster).at(p.where_b).mapped, 1u);

  ASSERT_EQ(::kill(static_cast<pid_t>(p.where_a), SIGKILL), 0);
  // The mapping is the only copy left, and it stays intact: tasks on the
  // survivor read it, and the client maps it from the survivor.
  EXPECT_EQ(weft::get(weft::remote(Compare)(p.a, p.b), 60s), kDoubles);
  std::vector<double> local = weft::get(p.a, 60s);
  ASSERT_EQ(local.size(), static_cast<size_t>(kDoubles));
  EXPECT_EQ(Compare(local, Make(kDoubles)), kDoubles);
  const std::map<int64_t, Stats> after = StatsByPid(cluster);
  ASSERT_TRUE(after.contains(p.where_b));
  EXPECT_GE(after.at(p.where_b).regions, 2);  // b and the mapping of a
}

}  // namespace
