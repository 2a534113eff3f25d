// Copyright 2026 The weft Authors.
//
// One scheduler, many workers. For each N: a real scheduler process (this
// binary started again with --scheduler=TOKEN_FILE: a SchedulerServer, as
// `weft scheduler` runs it), N simulated workers in this process
// (scheduler/testing/sim_workers.h: each joins with the real handshake and
// gets a frame stream of its own on a real socket, sends heartbeats every
// 500 ms as workers do, and answers its assignments at once, or one after
// another 1 ms apart for the 1 ms case), and a client here submitting tiny
// tasks with weft::map and gathering them.
//
//   bazel run --config=opt //bench:scale_bench [-- --workers=10,100,1000]
//       [--task_ms=0,1] [--tasks=N] [--quick]
//
// One JSON line per (workers, task_ms) on stdout:
//   workers, task_ms, tasks      the run: N workers x 1 thread, M tasks
//   tasks_per_second             M / (submit + all results gathered)
//   p50_us, p99_us, probes       assignment latency: a second client sends
//                                a probe task every 2 ms (priority 1, so
//                                they go ahead of the queued bulk) while
//                                the bulk runs; latency = from the probe's
//                                submission to its assignment arriving at a
//                                worker (one clock: both ends are here)
//   join_seconds                 all N workers joining, 8 handshakes at a
//                                time
//   scheduler_threads            the most the scheduler process had
//                                (/proc/PID/status, sampled every 50 ms)
//   scheduler_rss_per_worker_bytes   the scheduler's RSS growth from before
//                                the workers joined to when they had all
//                                sent heartbeats, / N
//   scheduler_cpu_us_per_task    the scheduler's CPU time (user + system)
//                                during the bulk / M
//   bench_cpu_us_per_task        the same for this process (the client and
//                                the simulated workers): with the above,
//                                what a task costs the machine's cores
//   tasks_per_assign_message     assignments the simulated workers got
//                                during the bulk / the messages carrying
//                                them
//   false_removals               workers the scheduler removed (lost or
//                                silent) although none left or stopped
//
// Every process shares this machine's cores: the figures are those of the
// scheduler, the simulated workers and the client together.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "rpc/convert.h"
#include "rpc/token.h"
#include "scheduler/scheduler_service.h"
#include "scheduler/testing/sim_workers.h"
#include "weft/internal/mutex.h"
#include "weft/serialize.h"
#include "weft/weft.h"

extern char** environ;

namespace {

int64_t Inc(int64_t x) { return x + 1; }
// A probe's argument is its submission time (steady_clock, ns).
constexpr std::chrono::milliseconds kProbeInterval{2};
int64_t Probe(int64_t stamp) { return stamp + 1; }

}  // namespace

WEFT_REMOTE(Inc, Probe);

namespace {

using Clock = std::chrono::steady_clock;
using weft::scheduler::testing::SimWorkers;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             Clock::now().time_since_epoch())
      .count();
}

// A field of /proc/PID/status ("VmRSS", in kB; "Threads"), or -1.
int64_t StatusField(pid_t pid, const std::string& name) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) != 0) continue;
    std::istringstream fields(line.substr(name.size() + 1));
    int64_t value = -1;
    fields >> value;
    return value;
  }
  return -1;
}

int64_t RssBytes(pid_t pid) { return StatusField(pid, "VmRSS") * 1024; }

// User + system CPU seconds of process `pid` so far.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string all((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces) in parentheses.
  const size_t close = all.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<std::string> f = absl::StrSplit(all.substr(close + 2), ' ');
  if (f.size() < 13) return -1;
  // utime and stime are fields 14 and 15 of the whole line.
  int64_t utime = 0, stime = 0;
  if (!absl::SimpleAtoi(f[11], &utime) || !absl::SimpleAtoi(f[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// --- The scheduler process --------------------------------------------------

// A scheduler on a free port of 127.0.0.1 with a fresh token (written to
// `token_file`); its address on stdout. Then, for each byte read on stdin,
// a line "workers left lost silent"; it exits when stdin closes.
int ServeScheduler(const std::string& token_file) {
  SimWorkers::RaiseOpenFileLimit();
  weft::scheduler::SchedulerService::Options options;
  options.token = weft::rpc::NewToken();
  options.state.check_invariants = false;
  if (!weft::rpc::WriteTokenFile(token_file, options.token).ok()) return 1;
  auto server = weft::scheduler::SchedulerServer::Start("127.0.0.1", 0,
                                                        std::move(options));
  if (!server.ok()) {
    std::fprintf(stderr, "scale_bench: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("%s\n", (*server)->address().c_str());
  std::fflush(stdout);
  char c;
  while (::read(0, &c, 1) > 0) {
    const auto removals = (*server)->service().removals();
    std::printf("%zu %llu %llu %llu\n", (*server)->service().num_workers(),
                static_cast<unsigned long long>(removals.left),
                static_cast<unsigned long long>(removals.lost),
                static_cast<unsigned long long>(removals.silent));
    std::fflush(stdout);
  }
  (*server)->Shutdown();
  std::fflush(nullptr);
  std::_Exit(0);  // gRPC's threads: skip static destructors
}

// The scheduler process, seen from the driver.
class SchedulerProcess {
 public:
  struct Report {
    int64_t workers = -1;
    int64_t left = -1;
    int64_t lost = -1;
    int64_t silent = -1;
  };

  // Starts it; address() is empty if that failed.
  explicit SchedulerProcess(const std::string& token_file) {
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0) return;
    if (::pipe2(from_child, O_CLOEXEC) != 0) return;
    const std::string flag = "--scheduler=" + token_file;
    char exe[] = "/proc/self/exe";
    char* argv[] = {exe, const_cast<char*>(flag.c_str()), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    const int spawned = posix_spawn(&pid_, exe, &actions, nullptr, argv,
                                    environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    to_ = to_child[1];
    from_ = from_child[0];
    if (spawned != 0) {
      pid_ = 0;
      return;
    }
    address_ = ReadLine();
  }

  ~SchedulerProcess() {
    if (to_ >= 0) ::close(to_);  // it exits at the end of its input
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
  }

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }

  Report Ask() {
    Report r;
    if (::write(to_, "r", 1) != 1) return r;
    std::istringstream line(ReadLine());
    line >> r.workers >> r.left >> r.lost >> r.silent;
    return r;
  }

 private:
  std::string ReadLine() {
    std::string line;
    char c;
    while (::read(from_, &c, 1) == 1 && c != '\n') line += c;
    return line;
  }

  pid_t pid_ = 0;
  int to_ = -1;
  int from_ = -1;
  std::string address_;
};

// Samples the scheduler's thread count every 50 ms, keeping the maximum.
class ThreadSampler {
 public:
  explicit ThreadSampler(pid_t pid)
      : pid_(pid), max_(StatusField(pid, "Threads")),
        thread_([this] { Run(); }) {}
  ~ThreadSampler() {
    stop_ = true;
    thread_.join();
  }
  int64_t max() const { return max_.load(); }

 private:
  void Run() {
    while (!stop_.load()) {
      max_ = std::max(max_.load(), StatusField(pid_, "Threads"));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  const pid_t pid_;
  std::atomic<int64_t> max_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// --- One run ------------------------------------------------------------------

// Assignment latencies of probes, recorded by the workers' loop threads.
class Latencies {
 public:
  void Add(int64_t nanos) {
    weft::internal::MutexLock lock(&mu_);
    samples_.push_back(nanos);
  }
  // The q-quantile in microseconds, or -1 without samples.
  double QuantileUs(double q) {
    weft::internal::MutexLock lock(&mu_);
    if (samples_.empty()) return -1;
    std::vector<int64_t> sorted = samples_;
    std::sort(sorted.begin(), sorted.end());
    // Nearest rank.
    const size_t rank = std::clamp<size_t>(
        static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))),
        1, sorted.size());
    return static_cast<double>(sorted[rank - 1]) / 1e3;
  }
  size_t size() {
    weft::internal::MutexLock lock(&mu_);
    return samples_.size();
  }

 private:
  weft::internal::Mutex mu_;
  std::vector<int64_t> samples_ ABSL_GUARDED_BY(mu_);
};

struct Config {
  int workers = 10;
  int task_ms = 0;
  int64_t tasks = 0;  // 0: chosen from the above
  bool quick = false;
};

int64_t TasksFor(const Config& c) {
  if (c.tasks > 0) return c.tasks;
  int64_t tasks = 500'000;
  if (c.task_ms > 0) {
    // About 2 s of the workers' own capacity, at most 500,000.
    tasks = std::clamp<int64_t>(int64_t{2} * c.workers * 1000 / c.task_ms,
                                20'000, 500'000);
  }
  return c.quick ? std::max<int64_t>(tasks / 10, 1000) : tasks;
}

std::string Num(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  return absl::StrCat(v);
}

int Run(const Config& c) {
  const std::string token_file =
      absl::StrCat("/tmp/weft-scale-bench-", ::getpid(), ".token");
  SchedulerProcess scheduler(token_file);
  if (scheduler.address().empty()) {
    std::fprintf(stderr, "scale_bench: the scheduler did not start\n");
    return 1;
  }
  const pid_t pid = scheduler.pid();
  ThreadSampler threads(pid);
  std::vector<std::string> fields = {
      "\"bench\": \"scale\"", absl::StrCat("\"workers\": ", c.workers),
      absl::StrCat("\"task_ms\": ", c.task_ms)};
  auto field = [&](const std::string& key, double value) {
    fields.push_back(absl::StrCat("\"", key, "\": ", Num(value)));
  };
  int rc = 0;
  {
    // The client joins first: the RSS below is the workers' alone.
    weft::Client client = weft::Client::Connect(scheduler.address(),
                                                token_file);
    weft::Client probe_client = weft::Client::Connect(scheduler.address(),
                                                      token_file);
    Latencies latencies;
    SimWorkers::Options options;
    options.scheduler_address = scheduler.address();
    std::ifstream(token_file) >> options.token;
    options.task_time = absl::Milliseconds(c.task_ms);
    options.io_threads = 2;
    options.on_assignment = [&latencies](const weft::rpc::Assignment& a) {
      if (a.task().function() != "Probe" || a.task().args_size() == 0) return;
      weft::internal::WireArg arg;
      if (!weft::rpc::FromArgBytes(a.task().args(0), arg).ok()) return;
      absl::StatusOr<int64_t> stamp = weft::Deserialize<int64_t>(arg.value);
      if (stamp.ok()) latencies.Add(NowNanos() - *stamp);
    };
    const int64_t rss0 = RssBytes(pid);
    SimWorkers sims(options);
    auto start = Clock::now();
    if (absl::Status s = sims.Add(c.workers, /*parallel=*/8); !s.ok()) {
      std::fprintf(stderr, "scale_bench: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    field("join_seconds", Since(start));
    // Every worker has sent two heartbeats (a second) since joining.
    const uint64_t beats = sims.counts().heartbeats;
    while (sims.counts().heartbeats < beats + 2 * c.workers) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const int64_t rss1 = RssBytes(pid);
    field("scheduler_rss_per_worker_bytes",
          static_cast<double>(rss1 - rss0) / c.workers);

    // Warm-up: every worker gets tasks.
    {
      std::vector<int64_t> xs(static_cast<size_t>(c.workers) * 4);
      std::iota(xs.begin(), xs.end(), 0);
      (void)weft::get(client.map(Inc, xs));
    }

    const int64_t m = TasksFor(c);
    std::vector<int64_t> xs(m);
    std::iota(xs.begin(), xs.end(), 0);
    std::atomic<bool> bulk_done{false};
    // Open loop: a probe every kProbeInterval whether or not the last one
    // was assigned yet, so that a stall is sampled as often as a quiet
    // spell (a probe that waited for the one before would sample a stall
    // once, and hide it from the quantiles).
    std::thread prober([&] {
      weft::TaskOptions probe_options;
      probe_options.priority = 1;
      auto probe = probe_client.remote(Probe, probe_options);
      std::vector<std::pair<int64_t, weft::ObjectRef<int64_t>>> sent;
      auto next = Clock::now();
      while (!bulk_done.load()) {
        const int64_t stamp = NowNanos();
        sent.emplace_back(stamp, probe(stamp));
        next += kProbeInterval;
        std::this_thread::sleep_until(next);
      }
      for (auto& [stamp, ref] : sent) {
        if (weft::get(ref) != stamp + 1) {
          std::fprintf(stderr, "scale_bench: a probe's result is wrong\n");
        }
      }
    });
    const double cpu0 = CpuSeconds(pid);
    const double bench_cpu0 = CpuSeconds(::getpid());
    const SimWorkers::Counts counts0 = sims.counts();
    start = Clock::now();
    std::vector<int64_t> ys = weft::get(client.map(Inc, xs));
    const double wall = Since(start);
    const double cpu = CpuSeconds(pid) - cpu0;
    const double bench_cpu = CpuSeconds(::getpid()) - bench_cpu0;
    const SimWorkers::Counts counts1 = sims.counts();
    bulk_done = true;
    prober.join();
    for (int64_t i = 0; i < m; ++i) {
      if (ys[i] != xs[i] + 1) {
        std::fprintf(stderr, "scale_bench: result %lld is wrong\n",
                     static_cast<long long>(i));
        rc = 1;
        break;
      }
    }
    field("tasks", static_cast<double>(m));
    field("tasks_per_second", static_cast<double>(m) / wall);
    field("p50_us", latencies.QuantileUs(0.5));
    field("p99_us", latencies.QuantileUs(0.99));
    field("probes", static_cast<double>(latencies.size()));
    field("scheduler_cpu_us_per_task", cpu * 1e6 / static_cast<double>(m));
    field("bench_cpu_us_per_task", bench_cpu * 1e6 / static_cast<double>(m));
    // How many tasks a message to a worker carried during the bulk (probes
    // included): the scheduler's send cost per task is about one message's
    // divided by this.
    const uint64_t messages =
        counts1.assign_messages - counts0.assign_messages;
    field("tasks_per_assign_message",
          messages == 0 ? 0.0
                        : static_cast<double>(counts1.assigned -
                                              counts0.assigned) /
                              static_cast<double>(messages));

    const SchedulerProcess::Report report = scheduler.Ask();
    const int64_t false_removals = report.lost + report.silent;
    field("false_removals", static_cast<double>(false_removals));
    if (report.workers != c.workers || report.left != 0) {
      std::fprintf(stderr,
                   "scale_bench: the scheduler has %lld workers of %d (%lld "
                   "left)\n",
                   static_cast<long long>(report.workers), c.workers,
                   static_cast<long long>(report.left));
    }
    field("scheduler_threads", static_cast<double>(threads.max()));
    field("scheduler_rss_after_run_per_worker_bytes",
          static_cast<double>(RssBytes(pid) - rss0) / c.workers);
  }
  std::printf("{%s}\n", absl::StrJoin(fields, ", ").c_str());
  std::fflush(stdout);
  std::remove(token_file.c_str());
  return rc;
}

std::vector<int> IntList(const std::string& text) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int v = 0;
    if (absl::SimpleAtoi(part, &v)) out.push_back(v);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  if (argc == 2 && std::strncmp(argv[1], "--scheduler=", 12) == 0) {
    return ServeScheduler(argv[1] + 12);
  }
  SimWorkers::RaiseOpenFileLimit();
  std::vector<int> workers = {10, 100, 1000};
  std::vector<int> task_ms = {0, 1};
  Config base;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      base.quick = true;
    } else if (arg.rfind("--workers=", 0) == 0) {
      workers = IntList(arg.substr(10));
    } else if (arg.rfind("--task_ms=", 0) == 0) {
      task_ms = IntList(arg.substr(10));
    } else if (arg.rfind("--tasks=", 0) == 0) {
      base.tasks = std::atoll(arg.c_str() + 8);
    } else {
      std::fprintf(stderr,
                   "usage: scale_bench [--workers=10,100,1000] "
                   "[--task_ms=0,1] [--tasks=N] [--quick]\n");
      return 2;
    }
  }
  int rc = 0;
  for (int ms : task_ms) {
    for (int n : workers) {
      Config c = base;
      c.workers = n;
      c.task_ms = ms;
      rc |= Run(c);
    }
  }
  return rc;
}
