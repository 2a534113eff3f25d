// Copyright 2026 The weft Authors.
//
// The distributed runtime on a LocalCluster of 2 worker processes x 1 thread
// over loopback:
//   - tiny-task throughput (map of f(i) = i + 1, gather all);
//   - the same with every task taking one put object (a bootstrap's data)
//     of 8 bytes and of 8 KB: at most 64 KiB, it travels inline, to each
//     worker once (docs/cluster.md, "keep");
//   - one-task round trip latency (p50, p99);
//   - moving a 200 MB object from a task on one worker to a task on the
//     other (effective MB/s of the move);
//   - put() of a 100 MB vector from the client (median of 3, MB/s).
// Cluster start-up is reported separately and excluded from each figure.
//
//   bazel run --config=opt //bench:cluster_bench

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "weft/weft.h"

namespace {

using Clock = std::chrono::steady_clock;

int64_t Inc(int64_t x) { return x + 1; }
std::vector<double> Make(int64_t n) { return std::vector<double>(n, 1.5); }
double SumBoth(const std::vector<double>& a, const std::vector<double>& b) {
  return std::accumulate(a.begin(), a.end(), 0.0) +
         std::accumulate(b.begin(), b.end(), 0.0);
}
std::vector<double> Copy(const std::vector<double>& v) { return v; }
int64_t IncWith(const std::vector<double>& data, int64_t x) {
  return x + static_cast<int64_t>(data.size());
}
WEFT_REMOTE(Inc, Make, SumBoth, Copy, IncWith);

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  const int saturation = argc > 1 ? std::atoi(argv[1]) : 2;
  auto t0 = Clock::now();
  weft::LocalCluster::Options options;
  options.workers = 2;
  options.saturation = saturation;
  weft::LocalCluster cluster(options);
  std::printf("{\"workload\": \"config\", \"saturation\": %d}\n", saturation);
  std::printf("{\"workload\": \"startup\", \"workers\": 2, \"seconds\": %.3f}\n",
              Seconds(Clock::now() - t0));

  // Throughput: 10,000 tiny tasks submitted at once, gathered.
  for (int round = 0; round < 3; ++round) {
    std::vector<int64_t> xs(10000);
    std::iota(xs.begin(), xs.end(), 0);
    auto start = Clock::now();
    std::vector<int64_t> out = weft::get(weft::map(Inc, xs));
    const double s = Seconds(Clock::now() - start);
    if (out.back() != 10000) return 1;
    std::printf("{\"workload\": \"throughput_map\", \"tasks\": 10000, "
                "\"seconds\": %.4f, \"tasks_per_second\": %.0f}\n",
                s, 10000 / s);
  }

  // Throughput with a shared input: 100,000 tasks that take one put
  // object of 1 and of 1,000 doubles.
  for (const int64_t doubles : {int64_t{1}, int64_t{1000}}) {
    constexpr int kTasks = 100000;
    std::vector<int64_t> xs(kTasks);
    std::iota(xs.begin(), xs.end(), 0);
    auto start = Clock::now();
    const std::vector<weft::ObjectRef<std::vector<double>>> data(
        kTasks, weft::put(std::vector<double>(doubles, 1.0)));
    std::vector<int64_t> out = weft::get(weft::map(IncWith, data, xs));
    const double s = Seconds(Clock::now() - start);
    if (out.back() != kTasks - 1 + doubles) return 1;
    std::printf("{\"workload\": \"throughput_shared_input\", \"tasks\": %d, "
                "\"input_bytes\": %lld, \"seconds\": %.4f, "
                "\"tasks_per_second\": %.0f}\n",
                kTasks, static_cast<long long>(doubles * sizeof(double)), s,
                kTasks / s);
  }

  // Latency: sequential round trips of one tiny task.
  std::vector<double> micros;
  for (int i = 0; i < 1000; ++i) {
    auto start = Clock::now();
    if (weft::get(weft::remote(Inc)(int64_t{i})) != i + 1) return 1;
    micros.push_back(Seconds(Clock::now() - start) * 1e6);
  }
  std::sort(micros.begin(), micros.end());
  std::printf("{\"workload\": \"round_trip\", \"count\": 1000, "
              "\"p50_us\": %.1f, \"p99_us\": %.1f}\n",
              micros[500], micros[990]);

  // The client-scheduler hops alone: a request the scheduler answers
  // itself (the worker list), so the rest of a round trip is the
  // scheduler-worker hops and the task's execution on the worker.
  weft::Client client = cluster.client();
  micros.clear();
  for (int i = 0; i < 1000; ++i) {
    auto start = Clock::now();
    if (client.workers().size() != 2) return 1;
    micros.push_back(Seconds(Clock::now() - start) * 1e6);
  }
  std::sort(micros.begin(), micros.end());
  std::printf("{\"workload\": \"client_scheduler_request\", "
              "\"count\": 1000, \"p50_us\": %.1f, \"p99_us\": %.1f}\n",
              micros[500], micros[990]);

  // Transfer: two 200 MB objects on different workers; SumBoth runs where
  // the larger one is and fetches the other from its peer.
  const int64_t n = 25'000'000;
  auto a = weft::remote(Make)(n);
  auto b = weft::remote(Make)(n + 1);
  auto b2 = weft::remote(Copy)(b);  // placement by input bytes: b's worker
  weft::wait(std::vector{a, b, b2}, 3);
  // Time the same work with nothing to move (both inputs on b's worker),
  // then the task that moves a.
  auto start = Clock::now();
  weft::get(weft::remote(SumBoth)(b2, b));
  const double local = Seconds(Clock::now() - start);
  start = Clock::now();
  const double sum = weft::get(weft::remote(SumBoth)(a, b));
  const double moved = Seconds(Clock::now() - start);
  if (sum != 1.5 * (2 * n + 1)) return 1;
  const double mb = n * sizeof(double) / 1e6;
  std::printf("{\"workload\": \"transfer_200mb\", \"megabytes\": %.0f, "
              "\"task_seconds\": %.3f, \"same_worker_task_seconds\": %.3f, "
              "\"effective_mb_per_second\": %.0f}\n",
              mb, moved, local, mb / std::max(1e-9, moved - local));

  // put(): the client hands a 100 MB value (moved in, so the figure is the
  // encoding and the hand-over, not a copy of the caller's vector) to a
  // worker; median of 3.
  std::vector<double> put_seconds;
  for (int i = 0; i < 3; ++i) {
    std::vector<double> value(12'500'000, 2.5);
    start = Clock::now();
    auto ref = weft::put(std::move(value));
    put_seconds.push_back(Seconds(Clock::now() - start));
  }
  std::sort(put_seconds.begin(), put_seconds.end());
  std::printf("{\"workload\": \"put_100mb\", \"seconds\": %.4f, "
              "\"mb_per_second\": %.0f}\n",
              put_seconds[1], 100 / put_seconds[1]);
  return 0;
}
