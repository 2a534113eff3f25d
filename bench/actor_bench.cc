// Copyright 2026 The weft Authors.
//
// Actor calls (weft/actor.h), on the embedded runtime and on a
// LocalCluster of 2 worker processes x 1 thread over loopback:
//   - sync round trip: one caller makes a call and waits for it, again and
//     again (p50, p99, calls/s);
//   - async, one caller: 10,000 calls to one actor submitted at once, then
//     gathered (calls/s);
//   - n:n: n caller threads, each with an actor of its own, each making
//     sync calls (calls/s summed over the callers). On a cluster the
//     threads share the program's one connection to the scheduler.
// Cluster start-up is excluded. Prints one JSON line per figure.
//
//   bazel run --config=opt //bench:actor_bench [-- --callers=4]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "weft/weft.h"

// Named, not anonymous: WEFT_ACTOR declares a function that must have
// linkage.
namespace actor_bench {

class Counter {
 public:
  Counter() = default;
  int64_t Add(int64_t k) { return n_ += k; }

 private:
  int64_t n_ = 0;
};
WEFT_ACTOR(Counter(), &Counter::Add);

}  // namespace actor_bench

namespace {

using actor_bench::Counter;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Percentile(std::vector<double> xs, double q) {
  std::sort(xs.begin(), xs.end());
  return xs[static_cast<size_t>(q * static_cast<double>(xs.size() - 1))];
}

// Every figure for one runtime (`client`), labelled `runtime`.
void Run(const weft::Client& client, const char* runtime, int callers) {
  client.make_default();
  // Sync round trip: 200 warm-up calls, then 2,000 timed.
  {
    weft::Actor<Counter> counter = client.actor<Counter>({.num_cpus = 0})();
    for (int i = 0; i < 200; ++i) weft::get(counter.remote(&Counter::Add)(1));
    std::vector<double> micros;
    const auto start = Clock::now();
    for (int i = 0; i < 2000; ++i) {
      const auto t = Clock::now();
      weft::get(counter.remote(&Counter::Add)(1));
      micros.push_back(Seconds(Clock::now() - t) * 1e6);
    }
    const double total = Seconds(Clock::now() - start);
    std::printf("{\"workload\": \"actor_sync_round_trip\", \"runtime\": "
                "\"%s\", \"p50_us\": %.1f, \"p99_us\": %.1f, "
                "\"calls_per_s\": %.0f}\n",
                runtime, Percentile(micros, 0.5), Percentile(micros, 0.99),
                2000 / total);
  }
  // Async, one caller: 10,000 calls submitted at once, then gathered.
  {
    weft::Actor<Counter> counter = client.actor<Counter>({.num_cpus = 0})();
    for (int round = 0; round < 3; ++round) {
      const auto start = Clock::now();
      std::vector<weft::ObjectRef<int64_t>> refs;
      refs.reserve(10000);
      for (int i = 0; i < 10000; ++i) {
        refs.push_back(counter.remote(&Counter::Add)(1));
      }
      weft::get(refs);
      const double s = Seconds(Clock::now() - start);
      std::printf("{\"workload\": \"actor_async_one_caller\", \"runtime\": "
                  "\"%s\", \"round\": %d, \"calls_per_s\": %.0f}\n",
                  runtime, round, 10000 / s);
    }
  }
  // n:n: `callers` threads, an actor each, sync calls for ~1 s each.
  {
    std::vector<weft::Actor<Counter>> actors;
    for (int c = 0; c < callers; ++c) {
      actors.push_back(client.actor<Counter>({.num_cpus = 0})());
      weft::get(actors.back().remote(&Counter::Add)(0));  // constructed
    }
    std::atomic<int64_t> calls{0};
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int c = 0; c < callers; ++c) {
      threads.emplace_back([&, c] {
        int64_t mine = 0;
        while (Clock::now() - start < std::chrono::seconds(1)) {
          weft::get(actors[c].remote(&Counter::Add)(1));
          ++mine;
        }
        calls += mine;
      });
    }
    for (auto& t : threads) t.join();
    const double s = Seconds(Clock::now() - start);
    std::printf("{\"workload\": \"actor_sync_n_to_n\", \"runtime\": \"%s\", "
                "\"callers\": %d, \"calls_per_s\": %.0f}\n",
                runtime, callers, static_cast<double>(calls.load()) / s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  int callers = 4;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--callers=", 10) == 0) {
      callers = std::max(1, std::atoi(argv[i] + 10));
    }
  }
  {
    weft::Client local = weft::Client::Local(2);
    Run(local, "embedded", callers);
  }
  weft::LocalCluster::Options options;
  options.workers = 2;
  weft::LocalCluster cluster(options);
  Run(cluster.client(), "local_cluster", callers);
  return 0;
}
