// Copyright 2026 The weft Authors.
//
// The side-by-side workload suite (BENCHMARKS.md), weft's side: W1-W7 and
// METG on a LocalCluster of 2 worker processes x 1 thread over loopback
// ("weft"), and on the embedded runtime with 2 threads where the workload
// applies ("weft-embedded"). One JSON object per line on stdout, the same
// schema as bench/peers/*.py. Cluster start-up is reported separately.
//
//   bazel run --config=opt //bench:workloads -- [--quick] [--only=W1_map,...]
//
// --tls=DIR: mutual TLS (`weft tls init DIR`) on every connection; the
// systems are then "weft-tls" (the cluster only: no embedded runtime) and
// "<--system>-tls".
//
// --only=DASH (never by default) measures W1 map with and without a
// dashboard watching (DashboardOverhead).

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "examples/forest/forest.h"
#include "rpc/data_client.h"
#include "rpc/heap.h"
#include "rpc/process_stats.h"
#include "rpc/shared_region.h"
#include "rpc/status.h"
#include "rpc/tls.h"
#include "rpc/token.h"
#include "scheduler/dashboard/http_client.h"
#include "scheduler/scheduler_service.h"
#include "weft/internal/client_impl.h"
#include "weft/internal/task_events.h"
#include "weft/random.h"
#include "weft/weft.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using weft::examples::ForestOptions;
using weft::examples::Matrix;
using weft::examples::RandomForest;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// --- Task functions ---------------------------------------------------------

int64_t Inc(int64_t x) { return x + 1; }
int64_t Leaf(int64_t x) { return x; }
int64_t Add(int64_t a, int64_t b) { return a + b; }

// Busy work: `iterations` steps of an LCG the compiler cannot fold.
int64_t Busy(int64_t iterations) {
  uint64_t x = 88172645463325252ull;
  for (int64_t i = 0; i < iterations; ++i) x = x * 6364136223846793005ull + 1;
  return static_cast<int64_t>(x >> 33);
}

// Busy(iterations), returning how long it ran where it ran, in ns (W4's
// task_ms_measured_in_workers, as the peers report it).
int64_t BusyTimed(int64_t iterations) {
  auto start = Clock::now();
  volatile int64_t sink = Busy(iterations);
  (void)sink;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() -
                                                              start)
      .count();
}

std::vector<double> MakeArray(int64_t n, bool random) {
  if (!random) return std::vector<double>(n, 1.0);
  std::vector<double> v(n);
  std::mt19937_64 gen(0);
  for (auto& x : v) x = static_cast<double>(gen() >> 11) * 0x1.0p-53;
  return v;
}
// W5's consumer: the sum, and the pid of the worker that computed it.
std::pair<double, int64_t> SumTwo(const std::vector<double>& a,
                                  const std::vector<double>& b) {
  return {std::accumulate(a.begin(), a.end(), 0.0) +
              std::accumulate(b.begin(), b.end(), 0.0),
          static_cast<int64_t>(::getpid())};
}
std::vector<double> Copy(const std::vector<double>& a) { return a; }
// The pid of the worker holding `a` (placement by input bytes runs it there).
int64_t Where(const std::vector<double>& a) {
  (void)a;
  return static_cast<int64_t>(::getpid());
}

// W6: the tutorial's leave-one-out random forest (as examples/
// loo_random_forest.cc, with weft's own forest implementation).
struct Study {
  Matrix x;
  std::vector<double> y;
  ForestOptions forest;
  uint64_t seed = 0;
};
template <class Archive>
void serialize(Archive& ar, Study& s) {
  ar(s.x, s.y, s.forest, s.seed);
}
Study MakeStudy(size_t n, size_t p, int trees) {
  auto rng = weft::random::default_rng(1);
  Study s;
  s.x = Matrix{n, p, rng.normal(0.0, 1.0, n * p)};
  std::vector<double> noise = rng.normal(0.0, 1.0, n);
  for (size_t i = 0; i < n; ++i) {
    s.y.push_back(s.x(i, 0) + std::sqrt(std::abs(s.x(i, 1) * s.x(i, 2))) +
                  s.x(i, 1) - s.x(i, 2) + noise[i]);
  }
  s.forest.num_trees = trees;
  s.seed = 1;
  return s;
}
double LooFit(size_t index, const Study& study) {
  std::vector<double> y = study.y;
  y.erase(y.begin() + static_cast<std::ptrdiff_t>(index));
  auto rng = weft::random::Stream(study.seed, index);
  return RandomForest::Fit(study.x.WithoutRow(index), y, study.forest, rng)
      .Predict(study.x.row(index));
}

// W5: how long the receiving worker took to fetch the `bytes`-byte input
// that the last cross-worker SumTwo moved, from the transfer events read
// from `events` (the scheduler has them once the result is back, as they
// come with it; a short wait covers a reader that lags); nullopt if none
// was recorded within 2 s.
std::optional<double> MoveSeconds(weft::internal::EventReader& events,
                                  int64_t bytes) {
  const auto deadline = Clock::now() + std::chrono::seconds(2);
  std::optional<double> seconds;
  while (!seconds.has_value() && Clock::now() < deadline) {
    weft::internal::EventBatch batch;
    if (!events.Read(batch).ok()) return std::nullopt;
    for (const weft::internal::TransferEvent& t : batch.transfers) {
      if (t.bytes >= static_cast<uint64_t>(bytes)) {
        seconds = static_cast<double>(t.end_us - t.start_us) / 1e6;
      }
    }
    if (!seconds.has_value()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return seconds;
}

// W5 against a remote cluster: how the data plane of the worker holding `a`
// has fetched objects so far (rpc::FetchCounts: mapped, streamed, bulk,
// fallbacks), so the record says which path moved the arrays.
std::vector<int64_t> FetchCountsHere(const std::vector<double>& a) {
  (void)a;
  const weft::rpc::FetchCounts c = weft::rpc::DataClient::ProcessFetchCounts();
  return {static_cast<int64_t>(c.mapped), static_cast<int64_t>(c.streamed),
          static_cast<int64_t>(c.bulk), static_cast<int64_t>(c.fallbacks)};
}

WEFT_REMOTE(Inc, Leaf, Add, Busy, BusyTimed, MakeArray, SumTwo, Copy, Where,
            LooFit, FetchCountsHere);

// --- Output ----------------------------------------------------------------

class Record {
 public:
  Record(const std::string& system, const std::string& workload) {
    fields_.push_back(absl::StrCat("\"system\": \"", system, "\""));
    fields_.push_back(absl::StrCat("\"workload\": \"", workload, "\""));
  }
  Record& Num(const std::string& key, double value) {
    // Whole numbers (counts, sizes) print as integers, not 1e+06.
    if (value == std::floor(value) && std::abs(value) < 1e15) {
      fields_.push_back(absl::StrCat("\"", key, "\": ",
                                     static_cast<int64_t>(value)));
    } else {
      fields_.push_back(absl::StrCat("\"", key, "\": ", value));
    }
    return *this;
  }
  Record& Str(const std::string& key, const std::string& value) {
    fields_.push_back(absl::StrCat("\"", key, "\": \"", value, "\""));
    return *this;
  }
  Record& Raw(const std::string& key, const std::string& json) {
    fields_.push_back(absl::StrCat("\"", key, "\": ", json));
    return *this;
  }
  ~Record() {
    std::printf("{%s}\n", absl::StrJoin(fields_, ", ").c_str());
    std::fflush(stdout);
  }

 private:
  std::vector<std::string> fields_;
};

struct Sizes {
  int64_t w1_tasks = 10000;
  int w2_count = 1000;
  int64_t w3_leaves = 65536;
  int w4_tasks = 200;
  double w4_ms = 20;
  int64_t w5_mb = 100;
  int w5_reps = 5;
  size_t w6_n = 200, w6_p = 20;
  int w6_trees = 100;
  int64_t w7_tasks = 1000000;
  double metg_step_seconds = 1.0;
};

int64_t busy_per_us = 0;  // Busy() iterations per microsecond, calibrated

// The fastest of `repeats` runs of Busy(iterations), in seconds: the least
// disturbed one (a run the OS interrupted would make tasks too short and
// inflate W4's efficiency).
double BestBusySeconds(int64_t iterations, int repeats) {
  double best = 1e9;
  for (int i = 0; i < repeats; ++i) {
    auto start = Clock::now();
    volatile int64_t sink = Busy(iterations);
    (void)sink;
    best = std::min(best, Since(start));
  }
  return best;
}

// As bench/peers/common.py calibrates its spin loop: a rough rate from a
// probe, then the best of 5 runs at the task length itself (W4's).
void Calibrate(double task_seconds) {
  int64_t iterations = 1 << 16;
  while (BestBusySeconds(iterations, 1) < 0.005) iterations *= 2;
  const double rough = iterations / BestBusySeconds(iterations, 3);
  iterations = static_cast<int64_t>(rough * task_seconds);
  busy_per_us = static_cast<int64_t>(
      iterations / (BestBusySeconds(iterations, 5) * 1e6));
}

// Resident set size of process `pid` (this one if 0), in bytes.
size_t ResidentBytes(pid_t pid = 0) {
  return pid == 0 ? weft::rpc::ProcessRssBytes()
                  : weft::rpc::ProcessRssBytes(pid);
}

// W7: the highest RSS of a process while it lives, sampled every 5 ms (as
// the peers' PeakRss does).
class PeakRss {
 public:
  explicit PeakRss(pid_t pid = 0)
      : pid_(pid), peak_(ResidentBytes(pid)), thread_([this] { Run(); }) {}
  ~PeakRss() { Stop(); }
  // Stops sampling and returns the peak.
  size_t Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    peak_ = std::max(peak_.load(), ResidentBytes(pid_));
    return peak_;
  }

 private:
  void Run() {
    while (!stop_) {
      peak_ = std::max(peak_.load(), ResidentBytes(pid_));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  const pid_t pid_;
  std::atomic<size_t> peak_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// --- Workloads ---------------------------------------------------------------

void W1(const std::string& system, const Sizes& z) {
  std::vector<int64_t> xs(z.w1_tasks);
  std::iota(xs.begin(), xs.end(), 0);
  auto start = Clock::now();
  std::vector<int64_t> out = weft::get(weft::map(Inc, xs));
  double s = Since(start);
  Record(system, "W1_map").Num("tasks", z.w1_tasks).Num("seconds", s)
      .Num("tasks_per_second", z.w1_tasks / s)
      .Num("correct", out.back() == z.w1_tasks);
  start = Clock::now();
  std::vector<weft::Delayed<int64_t>> ds;
  ds.reserve(z.w1_tasks);
  for (int64_t i = 0; i < z.w1_tasks; ++i) ds.push_back(weft::delayed(Inc)(i));
  out = weft::compute(ds);
  s = Since(start);
  Record(system, "W1_delayed").Num("tasks", z.w1_tasks).Num("seconds", s)
      .Num("tasks_per_second", z.w1_tasks / s);
}

// DASH: W1 map on the cluster with and without a dashboard watching
// (issue 16: a browser costs <= 5% throughput). The watcher stands in for
// a browser's page: it reads the live-update stream (/events, one JSON
// update every 500 ms) as the page does; drawing is the browser's work, not
// the cluster's. Runs alternate (unwatched, watched) `kDashRounds` times;
// the record has each side's median tasks/s and their ratio.
void DashboardOverhead(const std::string& system, const std::string& link,
                       const Sizes& z) {
  constexpr int kDashRounds = 5;
  absl::StatusOr<weft::dashboard::Url> url = weft::dashboard::ParseUrl(link);
  if (!url.ok()) {
    Record(system, "DASH").Str("skipped", "no dashboard");
    return;
  }
  // Runs of a few seconds: many updates each (W1's 10,000 tasks take
  // less than one update interval).
  const int64_t tasks = 20 * z.w1_tasks;
  std::vector<int64_t> xs(tasks);
  std::iota(xs.begin(), xs.end(), 0);
  auto run = [&] {
    const auto start = Clock::now();
    std::vector<int64_t> out = weft::get(weft::map(Inc, xs));
    return tasks / Since(start);
  };
  run();  // warm-up: run times known, connections made
  std::vector<double> alone, watched;
  int64_t updates = 0;
  for (int r = 0; r < kDashRounds; ++r) {
    alone.push_back(run());
    std::atomic<bool> stop{false};
    std::atomic<int64_t> seen{0};
    std::thread watcher([&] {
      (void)weft::dashboard::ReadEvents(
          url->host, url->port, "/events", {}, absl::Seconds(600),
          [&](std::string_view) {
            seen.fetch_add(1);
            return !stop.load();
          });
    });
    // The first update (a full one) has arrived: the page is open.
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (seen.load() == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    watched.push_back(run());
    stop = true;
    watcher.join();  // at the next update, within 500 ms
    updates += seen.load();
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  const double a = median(alone), w = median(watched);
  Record(system, "DASH").Num("tasks", tasks).Num("rounds", kDashRounds)
      .Num("tasks_per_second_unwatched", a)
      .Num("tasks_per_second_watched", w)
      .Num("watched_over_unwatched", w / a)
      .Num("updates_read", updates);
}

void W2(const std::string& system, const Sizes& z) {
  std::vector<double> us;
  for (int i = 0; i < z.w2_count; ++i) {
    auto start = Clock::now();
    weft::get(weft::remote(Inc)(int64_t{i}));
    us.push_back(Since(start) * 1e6);
  }
  std::sort(us.begin(), us.end());
  Record(system, "W2_latency").Num("count", z.w2_count)
      .Num("p50_us", us[us.size() / 2])
      .Num("p99_us", us[us.size() * 99 / 100]);
}

void W3(const std::string& system, const Sizes& z) {
  auto start = Clock::now();
  std::vector<weft::Delayed<int64_t>> level;
  level.reserve(z.w3_leaves);
  for (int64_t i = 0; i < z.w3_leaves; ++i) {
    level.push_back(weft::delayed(Leaf)(i));
  }
  while (level.size() > 1) {
    std::vector<weft::Delayed<int64_t>> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      next.push_back(weft::delayed(Add)(level[i], level[i + 1]));
    }
    if (level.size() % 2) next.push_back(level.back());
    level.swap(next);
  }
  const double build = Since(start);
  start = Clock::now();
  const int64_t sum = weft::compute(level[0]);
  const double compute = Since(start);
  Record(system, "W3_tree").Num("leaves", z.w3_leaves)
      .Num("tasks", 2 * z.w3_leaves - 1).Num("build_seconds", build)
      .Num("compute_seconds", compute)
      .Num("correct", sum == z.w3_leaves * (z.w3_leaves - 1) / 2);
}

void W4(const std::string& system, const Sizes& z) {
  const int64_t iterations = static_cast<int64_t>(z.w4_ms * 1000 * busy_per_us);
  auto start = Clock::now();
  const std::vector<int64_t> inside_ns = weft::get(
      weft::map(BusyTimed, std::vector<int64_t>(z.w4_tasks, iterations)));
  const double wall = Since(start);
  const double inside_ms =
      std::accumulate(inside_ns.begin(), inside_ns.end(), 0.0) / 1e6 /
      z.w4_tasks;
  Record(system, "W4_cpu").Num("tasks", z.w4_tasks).Num("task_ms", z.w4_ms)
      .Num("wall_seconds", wall)
      .Num("efficiency", z.w4_tasks * z.w4_ms / 1000 / 2 / wall)
      .Num("task_ms_measured_in_workers", inside_ms);
}

double Median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  const size_t m = xs.size() / 2;
  return xs.size() % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

// move = median(SumTwo(a, b) with `a` on the other worker)
//      - median(SumTwo(b2, b) with both on b's worker, b2 = Copy(b)):
// the same work (two arrays deserialized and summed), only the move
// differs. Fresh arrays each repetition, so no worker already holds a copy.
//
// `remote`: the workers run elsewhere (--scheduler); the record then says
// how the two workers' data planes fetched objects so far, counted in their
// processes after the last repetition.
void W5(const std::string& system, const Sizes& z, bool remote) {
  const int64_t n = z.w5_mb * 1000 * 1000 / 8;
  // The receiving worker's own record of each move (weft/report.h's
  // transfer events), beside the difference of medians: it leaves out the
  // sums and their noise.
  absl::StatusOr<std::unique_ptr<weft::internal::EventReader>> events =
      weft::internal::ClientImpl::Of(weft::Client::Current())
          ->runtime()
          .OpenEvents();
  for (bool random : {true, false}) {
    std::vector<double> same_s, cross_s, worker_s;
    std::string misplaced;
    std::vector<int64_t> counts(4, 0);  // both workers, after the last rep
    for (int rep = 0; rep < z.w5_reps; ++rep) {
      // Ready at once, so they go to different (least loaded) workers. b is
      // one element larger, so SumTwo(a, b) runs where b is and moves a.
      auto a = weft::remote(MakeArray)(n, random);
      auto b = weft::remote(MakeArray)(n + 1, random);
      auto b2 = weft::remote(Copy)(b);  // placement by input bytes: b's worker
      weft::wait(std::vector{a, b, b2}, 3);
      const int64_t where_a = weft::get(weft::remote(Where)(a));
      const int64_t where_b = weft::get(weft::remote(Where)(b));
      const int64_t where_b2 = weft::get(weft::remote(Where)(b2));
      auto start = Clock::now();
      const int64_t same_pid = weft::get(weft::remote(SumTwo)(b2, b)).second;
      same_s.push_back(Since(start));
      start = Clock::now();
      const int64_t cross_pid = weft::get(weft::remote(SumTwo)(a, b)).second;
      cross_s.push_back(Since(start));
      if (events.ok()) {
        if (std::optional<double> s = MoveSeconds(**events, n * 8)) {
          worker_s.push_back(*s);
        }
      }
      if (where_a == where_b || where_b2 != where_b || same_pid != where_b ||
          cross_pid != where_b) {
        misplaced = absl::StrCat(
            "placement differed from the plan in repetition ", rep,
            " (pids: a ", where_a, ", b ", where_b, ", b2 ", where_b2,
            ", same-worker sum ", same_pid, ", cross-worker sum ", cross_pid,
            "); ");
      }
      if (remote && rep + 1 == z.w5_reps) {
        for (const auto& held : {a, b}) {
          const std::vector<int64_t> c =
              weft::get(weft::remote(FetchCountsHere)(held));
          for (size_t i = 0; i < counts.size() && i < c.size(); ++i) {
            counts[i] += c[i];
          }
        }
      }
      // Let the workers drop this repetition's objects before the next.
      a = {};
      b = {};
      b2 = {};
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const double same = Median(same_s), cross = Median(cross_s);
    const double move = cross - same;
    Record r(system, "W5_data");
    r.Num("megabytes", z.w5_mb).Str("data", random ? "random" : "constant")
        .Num("repetitions", z.w5_reps).Num("same_worker_seconds", same)
        .Num("cross_worker_seconds", cross).Num("move_seconds", move);
    if (move > 0) {
      r.Num("mb_per_second", z.w5_mb / move);
    } else {
      r.Raw("mb_per_second", "null");  // within noise of the baseline
    }
    if (!worker_s.empty()) {
      const double worker = Median(worker_s);
      r.Num("worker_move_seconds", worker)
          .Num("worker_mb_per_second", z.w5_mb / worker);
    }
    std::string path;
    if (remote) {
      path = absl::StrCat(
          "workers of a running cluster (--scheduler); their data planes' "
          "fetches so far (both workers, all workloads of this run): mapped ",
          counts[0], ", streamed over gRPC ", counts[1], ", bulk TCP ",
          counts[2], ", fallbacks ", counts[3]);
    } else if (weft::rpc::SharedMemoryEnabled()) {
      path = "moved through shared memory (same host)";
    } else {
      path = "streamed over gRPC (WEFT_SHARED_MEMORY=0)";
    }
    r.Str("note", misplaced +
                      "placement by input bytes: SumTwo(a, b) moves a worker "
                      "to worker; baseline SumTwo(Copy(b), b) on b's worker; "
                      "medians; " + path);
  }
}

void W6(const std::string& system, const Sizes& z) {
  const Study study = MakeStudy(z.w6_n, z.w6_p, z.w6_trees);
  auto start = Clock::now();
  for (size_t i = 0; i < z.w6_n; ++i) LooFit(i, study);
  const double serial = Since(start);
  start = Clock::now();
  auto ref = weft::put(study);
  std::vector<size_t> index(z.w6_n);
  std::iota(index.begin(), index.end(), 0);
  weft::get(weft::map(LooFit, index, std::vector(z.w6_n, ref)));
  const double wall = Since(start);
  Record(system, "W6_loo_rf").Num("n", z.w6_n).Num("p", z.w6_p)
      .Num("trees", z.w6_trees).Num("serial_seconds", serial)
      .Num("wall_seconds", wall).Num("efficiency", serial / (2 * wall));
}

// W7's scheduler-alone figures: starts this binary as a scheduler with no
// workers (--w7-scheduler=TOKEN_FILE), connects a second client to it,
// submits N tasks and measures the scheduler process once they are
// accepted: its RSS growth, and its live heap growth (jemalloc's count of
// allocated bytes, without pages the allocator keeps after frees). Returns
// bytes per pending task, or -1s (with a message on stderr) on failure.
struct SchedulerAloneBytes {
  double rss = -1;
  double heap = -1;
};

// The scheduler process's answer to one byte on its stdin: its live heap
// bytes on a line (-1 without jemalloc).
int64_t AskHeapBytes(int to_child, int from_child) {
  if (::write(to_child, "m", 1) != 1) return -1;
  std::string line;
  char c;
  while (::read(from_child, &c, 1) == 1 && c != '\n') line += c;
  return line.empty() ? -1 : std::stoll(line);
}

SchedulerAloneBytes W7SchedulerAlone(int64_t n) {
  SchedulerAloneBytes result;
  const std::string token_file =
      absl::StrCat("/tmp/weft-w7-", ::getpid(), ".token");
  int to_child[2], from_child[2];
  if (::pipe(to_child) != 0) return result;
  if (::pipe(from_child) != 0) {
    ::close(to_child[0]);
    ::close(to_child[1]);
    return result;
  }
  const std::string flag = "--w7-scheduler=" + token_file;
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, const_cast<char*>(flag.c_str()), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  posix_spawn_file_actions_addclose(&actions, to_child[1]);
  posix_spawn_file_actions_addclose(&actions, from_child[0]);
  pid_t child = 0;
  const int spawned =
      posix_spawn(&child, exe, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_child[0]);
  ::close(from_child[1]);
  std::string address;
  char c;
  while (spawned == 0 && ::read(from_child[0], &c, 1) == 1 && c != '\n') {
    address += c;
  }
  weft::Client previous = weft::Client::Current();
  if (!address.empty()) {
    try {
      weft::Client client = weft::Client::Connect(address, token_file);
      std::vector<int64_t> xs(n);
      std::iota(xs.begin(), xs.end(), 0);
      const double rss0 = static_cast<double>(ResidentBytes(child));
      const int64_t heap0 = AskHeapBytes(to_child[1], from_child[0]);
      std::vector<weft::ObjectRef<int64_t>> refs = client.map(Inc, xs);
      (void)client.workers();  // answered once all tasks are accepted
      result.rss = (static_cast<double>(ResidentBytes(child)) - rss0) / n;
      const int64_t heap1 = AskHeapBytes(to_child[1], from_child[0]);
      if (heap0 >= 0 && heap1 >= 0) {
        result.heap = static_cast<double>(heap1 - heap0) / n;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "W7: scheduler-alone run failed: %s\n", e.what());
    }
  } else {
    std::fprintf(stderr, "W7: the scheduler process did not start\n");
  }
  previous.make_default();
  ::close(to_child[1]);  // the scheduler exits at end of input
  ::close(from_child[0]);
  if (spawned == 0) ::waitpid(child, nullptr, 0);
  std::remove(token_file.c_str());
  return result;
}

// The child side of W7SchedulerAlone: a scheduler on a free port, its
// address on stdout; then a heap figure for each byte read, until stdin
// closes.
int ServeW7Scheduler(const std::string& token_file) {
  weft::scheduler::SchedulerService::Options options;
  options.token = weft::rpc::NewToken();
  options.state.check_invariants = false;
  if (!weft::rpc::WriteTokenFile(token_file, options.token).ok()) return 1;
  auto server = weft::scheduler::SchedulerServer::Start("127.0.0.1", 0,
                                                        std::move(options));
  if (!server.ok()) return 1;
  std::printf("%s\n", (*server)->address().c_str());
  std::fflush(stdout);
  char c;
  while (::read(0, &c, 1) > 0) {
    std::printf("%lld\n", static_cast<long long>(weft::rpc::LiveHeapBytes()));
    std::fflush(stdout);
  }
  (*server)->Shutdown();
  std::fflush(nullptr);
  std::_Exit(0);  // gRPC's threads: skip static destructors
}

// W7 on a LocalCluster of its own (the scheduler runs in this process, as
// in the Dask peer), through map (as the peer's client.map) or through
// delayed + persist. A fresh cluster for each run: the scheduler and the
// client keep the capacity of their tables after a graph is released, which
// the next run would reuse without growing.
void W7(const std::string& system, const Sizes& z, bool use_map) {
  weft::Client previous = weft::Client::Current();
  weft::LocalCluster cluster(2);  // start-up is not measured
  const int64_t n = z.w7_tasks;
  std::vector<int64_t> xs(n);
  std::iota(xs.begin(), xs.end(), 0);
  // Pages earlier workloads freed and the allocator kept do not hide growth.
  weft::rpc::ReturnFreedMemory();
  const size_t rss_before = ResidentBytes();
  PeakRss peak;
  auto start = Clock::now();
  std::vector<weft::ObjectRef<int64_t>> refs;
  if (use_map) {
    refs = weft::map(Inc, xs);
  } else {
    std::vector<weft::Delayed<int64_t>> ds;
    ds.reserve(n);
    for (int64_t x : xs) ds.push_back(weft::delayed(Inc)(x));
    refs = weft::persist(ds);
  }
  const double submit = Since(start);
  const size_t rss_after_submit = ResidentBytes();
  // A request on the same stream, answered after the scheduler handled
  // every submission before it: the graph is accepted.
  (void)weft::Client::Current().workers();
  const double accepted = Since(start);
  std::vector<int64_t> out = weft::get(refs);
  const double total = Since(start);
  const size_t rss_peak = peak.Stop();
  bool ok = out.size() == static_cast<size_t>(n);
  for (int64_t i = 0; ok && i < n; ++i) ok = out[i] == i + 1;
  Record record(system, "W7_scale");
  if (!use_map) record.Str("variant", "delayed");
  record.Num("tasks", n).Num("submit_seconds", submit)
      .Num("accepted_seconds", accepted).Num("total_seconds", total)
      .Num("scheduler_bytes_per_task",
           static_cast<double>(rss_peak - rss_before) / n)
      .Num("rss_growth_after_submit_bytes_per_task",
           static_cast<double>(rss_after_submit - rss_before) / n)
      .Raw("all_succeeded", ok ? "true" : "false");
  if (use_map) {
    const SchedulerAloneBytes alone = W7SchedulerAlone(n);
    if (alone.rss >= 0) {
      record.Num("scheduler_alone_bytes_per_pending_task", alone.rss);
    }
    if (alone.heap >= 0) {
      record.Num("scheduler_alone_heap_bytes_per_pending_task", alone.heap);
    }
    record.Str("note",
               "weft::map(Inc, xs), as the Dask peer's client.map, on a fresh "
               "LocalCluster(2). "
               "scheduler_bytes_per_task: peak RSS growth of this process "
               "during the run / N, sampled every 5 ms, as the Dask peer "
               "measures; LocalCluster runs the scheduler in this process, so "
               "it counts the client's ObjectRefs and bookkeeping too. "
               "rss_growth_after_submit: the same right after map() returned "
               "(freed pages are returned to the system before each run). "
               "accepted: until a request sent after the submissions is "
               "answered. scheduler_alone_bytes_per_pending_task: a separate "
               "run against a scheduler in its own process with no workers "
               "(so every task stays pending): that process's RSS growth "
               "once it accepted the N tasks / N; it includes pages of "
               "already freed message buffers that the allocator keeps. "
               "scheduler_alone_heap_bytes_per_pending_task: the same run's "
               "growth of live heap bytes (jemalloc stats.allocated) / N");
  } else {
    record.Str("note",
               "the same through N weft::delayed(Inc)(i) nodes and one "
               "weft::persist; the RSS figures also count the Delayed graph");
  }
  previous.make_default();
}

void Metg(const std::string& system, const Sizes& z) {
  std::vector<std::pair<double, double>> sweep;  // task_us, efficiency
  for (double us : {10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0,
                    5000.0, 10000.0}) {
    const int64_t tasks = std::clamp<int64_t>(
        static_cast<int64_t>(z.metg_step_seconds * 2e6 / us), 50, 200000);
    const int64_t iterations = static_cast<int64_t>(us * busy_per_us);
    auto start = Clock::now();
    weft::get(weft::map(Busy, std::vector<int64_t>(tasks, iterations)));
    const double wall = Since(start);
    sweep.emplace_back(us, std::min(1.0, tasks * us * 1e-6 / 2 / wall));
    if (sweep.back().second > 0.9) break;  // longer tasks only do better
  }
  double metg = -1;
  for (size_t i = 0; i < sweep.size(); ++i) {
    if (sweep[i].second < 0.5) continue;
    if (i == 0) {
      metg = sweep[0].first;
    } else {
      // Interpolate in log(task length) between the bracketing points.
      auto [u0, e0] = sweep[i - 1];
      auto [u1, e1] = sweep[i];
      const double t = (0.5 - e0) / (e1 - e0);
      metg = std::exp(std::log(u0) + t * (std::log(u1) - std::log(u0)));
    }
    break;
  }
  std::vector<std::string> points;
  for (auto [us, eff] : sweep) {
    points.push_back(absl::StrCat("{\"length_us\": ", us, ", \"efficiency\": ",
                                  eff, "}"));
  }
  Record(system, "METG").Num("metg_us", metg)
      .Raw("sweep", "[" + absl::StrJoin(points, ", ") + "]");
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  if (argc == 2 && std::strncmp(argv[1], "--w7-scheduler=", 15) == 0) {
    return ServeW7Scheduler(argv[1] + 15);  // W7's scheduler-alone run
  }
  Sizes z;
  std::vector<std::string> only;
  bool embedded = true;
  std::string scheduler, token_file, remote_system = "weft-remote";
  std::string tls_suffix;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      z.w1_tasks = 2000;
      z.w2_count = 200;
      z.w3_leaves = 4096;
      z.w4_tasks = 20;
      z.w5_mb = 20;
      z.w5_reps = 3;
      z.w6_n = 40;
      z.w6_trees = 10;
      z.w7_tasks = 50000;
      z.metg_step_seconds = 0.2;
    } else if (arg == "--no-embedded") {
      embedded = false;
    } else if (arg.rfind("--only=", 0) == 0) {
      only = absl::StrSplit(arg.substr(7), ',');
    } else if (arg.rfind("--scheduler=", 0) == 0) {
      scheduler = arg.substr(12);
    } else if (arg.rfind("--token-file=", 0) == 0) {
      token_file = arg.substr(13);
    } else if (arg.rfind("--system=", 0) == 0) {
      remote_system = arg.substr(9);
    } else if (arg.rfind("--w5-reps=", 0) == 0) {
      z.w5_reps = std::max(1, std::atoi(arg.c_str() + 10));
    } else if (arg.rfind("--tls=", 0) == 0) {
      // Mutual TLS on every connection (`weft tls init DIR`); this
      // process's workers inherit it. Systems are named "...-tls".
      if (absl::Status s = weft::rpc::ConfigureProcessTls(
              weft::rpc::TlsFilesInDirectory(arg.substr(6)));
          !s.ok()) {
        std::fprintf(stderr, "workloads: %s\n",
                     std::string(s.message()).c_str());
        return 2;
      }
      tls_suffix = "-tls";
    } else {
      std::fprintf(stderr,
                   "usage: workloads [--quick] [--no-embedded] "
                   "[--only=W1,W2,...] [--w5-reps=N] [--tls=DIR]\n"
                   "       [--scheduler=HOST:PORT --token-file=PATH "
                   "[--system=NAME]]  (a running cluster of 2 workers)\n");
      return 2;
    }
  }
  auto want = [&](const std::string& w) {
    return only.empty() || std::find(only.begin(), only.end(), w) != only.end();
  };
  Calibrate(z.w4_ms / 1000);

  // A running cluster (bench/crosshost.sh): no embedded runtime, no cluster
  // of this process's own, so no W7 (it measures a fresh LocalCluster).
  if (!scheduler.empty()) {
    auto start = Clock::now();
    weft::Client client = weft::Client::Connect(scheduler, token_file,
                                                std::chrono::seconds(60));
    client.wait_for_workers(2, std::chrono::seconds(60));
    Record(remote_system + tls_suffix, "startup").Num("seconds", Since(start))
        .Num("workers", 2)
        .Str("note", "connecting to a running cluster and finding 2 workers");
    const std::string sys = remote_system + tls_suffix;
    if (want("W1")) W1(sys, z);
    if (want("W2")) W2(sys, z);
    if (want("W3")) W3(sys, z);
    if (want("W4")) W4(sys, z);
    if (want("W5")) W5(sys, z, /*remote=*/true);
    if (want("W6")) W6(sys, z);
    if (want("METG")) Metg(sys, z);
    if (want("W7")) std::fprintf(stderr, "workloads: W7 needs a cluster of "
                                         "its own; skipped with --scheduler\n");
    return 0;
  }

  // The embedded runtime, where the workload makes sense in one process.
  if (embedded && tls_suffix.empty()) {
    weft::Client client = weft::Client::Local(2);
    const std::string sys = "weft-embedded";
    if (want("W1")) W1(sys, z);
    if (want("W2")) W2(sys, z);
    if (want("W3")) W3(sys, z);
    if (want("W4")) W4(sys, z);
    if (want("W6")) W6(sys, z);
    if (want("METG")) Metg(sys, z);
  }
  // The cluster: 2 worker processes x 1 thread.
  auto start = Clock::now();
  weft::LocalCluster cluster(2);
  const std::string sys = "weft" + tls_suffix;
  Record(sys, "startup").Num("seconds", Since(start)).Num("workers", 2);
  if (want("W1")) W1(sys, z);
  if (want("W2")) W2(sys, z);
  if (want("W3")) W3(sys, z);
  if (want("W4")) W4(sys, z);
  if (want("W5")) W5(sys, z, /*remote=*/false);
  if (want("W6")) W6(sys, z);
  if (want("W7")) {
    W7(sys, z, /*use_map=*/true);
    W7(sys, z, /*use_map=*/false);
  }
  if (want("METG")) Metg(sys, z);
  // Not part of the side-by-side suite: only when asked for.
  if (std::find(only.begin(), only.end(), "DASH") != only.end()) {
    DashboardOverhead(sys, cluster.dashboard_link(), z);
  }
  return 0;
}
