// Keeps a LocalCluster busy with a mixed workload so that its dashboard
// (docs/dashboard.md) has something to show, and writes a performance
// report and a trace of the run.
//
// Run: bazel run //examples:dashboard_demo -- --seconds=60
//      then open the dashboard address it prints.
//
// Flags: --workers=2 --threads=2 (the cluster), --seconds=30 (how long it
// runs), --dashboard-port=8787 (0: any free port), --report=FILE and
// --trace=FILE (written at the end; "" for none).
//
// Each round runs a map of simulations of a few milliseconds (two
// functions), makes two 4 MB arrays and combines them on one worker (the
// other array moves: a transfer), validates a batch of which one fails,
// and keeps the result of a small reduction tree alive (the graph view).
// tools/screenshots.sh runs it to make the pictures in docs/.

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "examples/flags.h"
#include "weft/weft.h"

namespace {

using Clock = std::chrono::steady_clock;

// Spins for about `micros` microseconds and returns something that
// depends on every step.
double Spin(int64_t micros, double seed) {
  const auto end = Clock::now() + std::chrono::microseconds(micros);
  double x = seed;
  while (Clock::now() < end) {
    for (int i = 0; i < 1000; ++i) x = std::sin(x) + 1.0;
  }
  return x;
}

double Simulate(int64_t i) { return Spin(2000 + (i * 7919) % 4000, i); }
double Calibrate(int64_t i) { return Spin(1000 + (i * 104729) % 2000, i); }

std::vector<double> MakeArray(int64_t seed) {
  std::vector<double> v(512 * 1024);  // 4 MiB
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(seed + i);
  Spin(3000, 1);
  return v;
}

double Combine(const std::vector<double>& a, const std::vector<double>& b) {
  Spin(2000, 1);
  return std::accumulate(a.begin(), a.end(), 0.0) +
         std::accumulate(b.begin(), b.end(), 0.0);
}

// Throws for every 25th input: the dashboard lists recent failures.
int64_t Validate(int64_t i) {
  Spin(500, 1);
  if (i % 25 == 24) {
    throw std::invalid_argument("sample " + std::to_string(i) +
                                " is out of range");
  }
  return i;
}

int64_t Leaf(int64_t i) {
  Spin(300, 1);
  return i;
}
int64_t Add(int64_t a, int64_t b) { return a + b; }

WEFT_REMOTE(Simulate, Calibrate, MakeArray, Combine, Validate, Leaf, Add);

// A reduction tree over `leaves` leaves.
weft::Delayed<int64_t> Tree(int64_t first, int leaves) {
  std::vector<weft::Delayed<int64_t>> level;
  for (int i = 0; i < leaves; ++i) level.push_back(weft::delayed(Leaf)(first + i));
  while (level.size() > 1) {
    std::vector<weft::Delayed<int64_t>> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      next.push_back(weft::delayed(Add)(level[i], level[i + 1]));
    }
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  return level[0];
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  weft::LocalCluster::Options options;
  options.workers = static_cast<int>(flags.Int("workers", 2));
  options.threads_per_worker = static_cast<int>(flags.Int("threads", 2));
  options.dashboard_port = static_cast<int>(flags.Int("dashboard-port", 8787));
  const int64_t seconds = flags.Int("seconds", 30);
  const std::string report_path = flags.String("report", "report.html");
  const std::string trace_path = flags.String("trace", "trace.json");
  flags.Done();

  weft::LocalCluster cluster(options);
  std::printf("dashboard: %s\n", cluster.dashboard_link().c_str());
  std::fflush(stdout);
  std::unique_ptr<weft::performance_report> report;
  std::unique_ptr<weft::trace> trace;
  if (!report_path.empty()) {
    report = std::make_unique<weft::performance_report>(report_path);
  }
  if (!trace_path.empty()) trace = std::make_unique<weft::trace>(trace_path);

  const auto end = Clock::now() + std::chrono::seconds(seconds);
  // The graph view shows what the scheduler holds: the last tree's records
  // stay while this reference lives.
  weft::ObjectRef<int64_t> held;
  int64_t round = 0, failures = 0, tasks = 0;
  while (Clock::now() < end) {
    std::vector<int64_t> xs(40);
    std::iota(xs.begin(), xs.end(), round * 40);
    auto sims = weft::map(Simulate, xs);
    auto cals = weft::map(Calibrate, std::vector<int64_t>(xs.begin(), xs.begin() + 20));
    auto a = weft::remote(MakeArray)(round);
    auto b = weft::remote(MakeArray)(round + 1);
    auto combined = weft::remote(Combine)(a, b);
    auto checks = weft::map(Validate, xs);
    held = weft::persist(Tree(round * 8, 8));
    weft::wait(sims, sims.size());
    weft::wait(cals, cals.size());
    weft::wait(checks, checks.size());
    for (const auto& c : checks) {
      try {
        weft::get(c);
      } catch (const weft::TaskError&) {
        ++failures;
      }
    }
    weft::get(combined);
    weft::get(held);
    tasks += 40 + 20 + 3 + 40 + 15;
    ++round;
  }
  if (report != nullptr) report->close();
  if (trace != nullptr) trace->close();
  std::printf("%lld rounds, %lld tasks, %lld failed as planned%s%s%s%s\n",
              static_cast<long long>(round), static_cast<long long>(tasks),
              static_cast<long long>(failures),
              report_path.empty() ? "" : "; report in ", report_path.c_str(),
              trace_path.empty() ? "" : ", trace in ", trace_path.c_str());
  return 0;
}
