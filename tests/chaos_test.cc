// Copyright 2026 The weft Authors.
//
// Chaos, as Dask's KillWorker and Ray's chaos tests: a cluster started with
// the `weft` command (supervised workers) runs a graph of a few thousand
// tasks with dependencies while a chaos thread, at random moments, SIGKILLs
// worker processes (their supervisors start them again) and SIGSTOPs others
// for longer than the heartbeat timeout (the scheduler drops them; when
// they are continued they find their session gone and rejoin). The result
// must be exact, within a bounded time, and the cluster must end with all
// its workers.
//
// The moments and victims are drawn from a seed (printed, and settable with
// WEFT_CHAOS_SEED to replay a run's choices; the timing of the graph itself
// differs from run to run). WEFT_CHAOS_SECONDS > 0 turns the test into a
// soak: graph after graph under chaos for that long, reporting what it saw
// (tools/chaos_soak.sh runs it for 30 minutes; not in CI).

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/suite_tasks.h"
#include "tests/testing/weft_cluster.h"
#include "weft/weft.h"

namespace {

using weft::testing::RunfilePath;
using weft::testing::WeftCluster;
using namespace std::chrono_literals;

constexpr int kWorkers = 3;
constexpr int kTasks = 1500;  // SleepSquare(ms, i) for i < kTasks
constexpr int kGroup = 50;    // partial totals of kGroup squares each
// Graphs run until the chaos did at least this much.
constexpr int kMinKills = 4;
constexpr int kMinStops = 2;

// The sum of i^2 for i < n: exact in a double at this size.
double SumOfSquares(int64_t n) {
  return static_cast<double>((n - 1) * n * (2 * n - 1) / 6);
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  int64_t parsed;
  if (value == nullptr || !absl::SimpleAtoi(value, &parsed)) return fallback;
  return parsed;
}

// The worker process under the supervisor `supervisor` (its child), or 0.
pid_t WorkerUnder(pid_t supervisor) {
  std::ifstream in(absl::StrCat("/proc/", supervisor, "/task/", supervisor,
                                "/children"));
  pid_t child = 0;
  in >> child;
  return child;
}

struct ChaosCounts {
  int kills = 0;
  int stops = 0;
};

// Kills or stops workers at random moments until `stop`.
class Chaos {
 public:
  Chaos(WeftCluster& cluster, uint64_t seed) : cluster_(cluster), rng_(seed) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Chaos() {
    stop_ = true;
    thread_.join();
  }
  ChaosCounts counts() const { return {kills_.load(), stops_.load()}; }

 private:
  void Run() {
    std::uniform_int_distribution<int> pause_ms(300, 900);
    std::uniform_int_distribution<int> victim(0, kWorkers - 1);
    std::bernoulli_distribution stop(0.3);
    while (!stop_) {
      SleepUnlessStopped(std::chrono::milliseconds(pause_ms(rng_)));
      if (stop_) break;
      std::vector<weft::testing::HostProcess*> workers = cluster_.workers();
      const pid_t worker = WorkerUnder(workers[victim(rng_)]->pid());
      if (worker <= 0) continue;  // being restarted
      if (stop(rng_)) {
        // Silent for longer than the heartbeat timeout (2 s): dropped,
        // then continued, it rejoins.
        if (::kill(worker, SIGSTOP) != 0) continue;
        ++stops_;
        SleepUnlessStopped(3s);
        ::kill(worker, SIGCONT);
      } else if (::kill(worker, SIGKILL) == 0) {
        ++kills_;
      }
    }
  }

  void SleepUnlessStopped(std::chrono::milliseconds total) {
    const auto end = std::chrono::steady_clock::now() + total;
    while (!stop_ && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(20ms);
    }
  }

  WeftCluster& cluster_;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  std::atomic<int> kills_{0};
  std::atomic<int> stops_{0};
  std::thread thread_;
};

// One graph: kTasks squares, partial totals, a total of those.
double RunGraph(weft::Client& client) {
  std::vector<weft::ObjectRef<double>> partials;
  for (int g = 0; g < kTasks / kGroup; ++g) {
    std::vector<weft::ObjectRef<double>> squares;
    for (int i = g * kGroup; i < (g + 1) * kGroup; ++i) {
      squares.push_back(client.remote(suite::SleepSquare)(2, double{1.0 * i}));
    }
    partials.push_back(client.remote(suite::Total)(squares));
  }
  return client.get(client.remote(suite::Total)(partials), 240s);
}

TEST(ChaosTest, KilledAndStoppedWorkersLoseNothing) {
  const uint64_t seed = static_cast<uint64_t>(
      EnvInt("WEFT_CHAOS_SEED", std::random_device{}()));
  const int64_t soak_seconds = EnvInt("WEFT_CHAOS_SECONDS", 0);
  std::printf("chaos seed %llu (WEFT_CHAOS_SEED=%llu replays the choices)\n",
              static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  absl::StatusOr<std::unique_ptr<WeftCluster>> cluster = WeftCluster::Start(
      {.workers = kWorkers,
       .loads = {RunfilePath("tests/libsuite_tasks.so")},
       .scheduler_flags = {"--heartbeat-timeout=2"},
       // Restarts are the point here: never give up on a worker.
       .worker_flags = {"--max-restarts=1000"}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  weft::Client client =
      weft::Client::Connect((*cluster)->address(), (*cluster)->token_file(), 60s);

  const auto start = std::chrono::steady_clock::now();
  int graphs = 0;
  ChaosCounts seen;
  {
    Chaos chaos(**cluster, seed);
    // Graph after graph until the chaos has killed and stopped workers a
    // few times (or, as a soak, for WEFT_CHAOS_SECONDS).
    auto enough = [&] {
      const ChaosCounts c = chaos.counts();
      const auto elapsed = std::chrono::steady_clock::now() - start;
      if (soak_seconds > 0) return elapsed >= std::chrono::seconds(soak_seconds);
      return (c.kills >= kMinKills && c.stops >= kMinStops) || elapsed >= 120s;
    };
    do {
      const double total = RunGraph(client);
      ASSERT_EQ(total, SumOfSquares(kTasks))
          << "graph " << graphs << "\n" << (*cluster)->Logs();
      ++graphs;
    } while (!enough());
    seen = chaos.counts();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("chaos: %d graph(s) of %d tasks exact in %.1f s under %d kills "
              "and %d stops\n",
              graphs, kTasks + kTasks / kGroup + 1, seconds, seen.kills,
              seen.stops);
  // The chaos did happen.
  EXPECT_GE(seen.kills, kMinKills);
  EXPECT_GE(seen.stops, kMinStops);
  // Every worker is back: restarted by its supervisor, or rejoined.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (client.workers().size() < kWorkers && absl::Now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(client.workers().size(), static_cast<size_t>(kWorkers))
      << (*cluster)->Logs();
  // And they still work.
  EXPECT_EQ(client.get(client.remote(suite::Inc)(41), 60s), 42);
}

}  // namespace
