// Section 2 of the parallelization tutorial: a threaded BLAS.
//
//   x = np.random.normal(0, 1, size=(n, n))
//   x = x.T @ x
//   U = np.linalg.cholesky(x)
//
// NumPy hands both steps to a threaded BLAS (OpenBLAS, MKL), which uses
// every core unless OMP_NUM_THREADS or OPENBLAS_NUM_THREADS says otherwise.
// Here a weft task makes the same calls to Debian's OpenBLAS: cblas_dsyrk
// for x^T x and LAPACKE_dpotrf (OpenBLAS's threaded LAPACK) for the
// Cholesky factor. A task that runs threaded code asks for the CPUs it will
// use with TaskOptions::num_cpus and holds that many task slots while it
// runs; it runs BLAS with weft::this_task::num_cpus() threads. OpenBLAS's
// thread count is one per process and tasks share processes (the embedded
// runtime's threads, a cluster worker's slots), so the task sets the count
// through BlasThreads (blas_threads.h), which admits its BLAS calls only
// while the count cannot be another task's. Cluster workers start with
// OPENBLAS_NUM_THREADS=1 (one BLAS thread for tasks that do not ask); the
// count set here overrides that. See docs/tutorial.md, section 2.
//
// Run: bazel run //examples:threaded_task -- --n=2000
//      (--slots=K: K embedded task slots, default one per core;
//      --cluster=2 --threads_per_worker=2: two worker processes of two
//      slots each; see runtime.h)
//
// Prints, for the same x in every task:
//   1. One task at a time asking for 1, 2 and all of a worker's slots: the
//      BLAS threads it used, its BLAS time, the CPU time of its process
//      meanwhile, and log det(x^T x).
//   2. Two tasks with num_cpus = 1 and one with num_cpus = 2, submitted
//      together, and for each process that ran tasks the most slots its
//      running tasks held at once and the most BLAS threads allowed at once.
// Exits with status 1 unless every task's BLAS thread count equals its
// slots, no process allowed more BLAS threads or held more slots than it
// has, and log det agrees across thread counts up to rounding.

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cblas.h"
#include "examples/blas_threads.h"
#include "examples/flags.h"
#include "examples/runtime.h"
#include "lapacke.h"
#include "weft/random.h"
#include "weft/weft.h"

namespace {

// Results that differ by no more than this, relative to max(|log det|, 1),
// are the same. Different thread counts split dsyrk's and dpotrf's sums
// differently, so log det changes in its last bits (about 1e-15 relative
// at n = 2000); a wrong factor changes it at order 1.
constexpr double kLogDetTolerance = 1e-10;

// What one task reports.
struct Report {
  std::string key;
  int64_t pid = 0;                   // the process that ran the task
  int slots = 0;                     // this_task::num_cpus()
  int blas_threads = 0;              // OpenBLAS's thread count in its calls
  double wait_seconds = 0.0;         // waiting to enter its BLAS section
  double blas_seconds = 0.0;         // dsyrk + dpotrf
  double process_cpu_seconds = 0.0;  // the process's CPU time meanwhile
  double log_det = 0.0;
  // In the task's process, since it started: the most slots that running
  // GramCholesky tasks held at once, and the most BLAS threads that
  // BlasThreads allowed at once.
  int peak_slots = 0;
  int peak_blas_threads = 0;
  std::string blas_env;  // OPENBLAS_NUM_THREADS in its process, or "unset"
};

// For weft/serialize.h, so a report can travel back from a cluster worker.
template <class Archive>
void serialize(Archive& ar, Report& r) {
  ar(r.key, r.pid, r.slots, r.blas_threads, r.wait_seconds, r.blas_seconds,
     r.process_cpu_seconds, r.log_det, r.peak_slots, r.peak_blas_threads,
     r.blas_env);
}

// The slots held by GramCholesky tasks running in this process, counted by
// the tasks themselves: a check on weft's slot accounting that does not
// rely on BlasThreads. Thread-safe.
class RunningSlots {
 public:
  // Counts `slots` more while it lives.
  class Guard {
   public:
    Guard(RunningSlots& count, int slots) : count_(count), slots_(slots) {
      std::lock_guard<std::mutex> lock(count_.mu_);
      count_.now_ += slots_;
      count_.peak_ = std::max(count_.peak_, count_.now_);
    }
    ~Guard() {
      std::lock_guard<std::mutex> lock(count_.mu_);
      count_.now_ -= slots_;
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    RunningSlots& count_;
    const int slots_;
  };

  // The count for this process. Never destroyed.
  static RunningSlots& Process() {
    static RunningSlots* const count = new RunningSlots();
    return *count;
  }

  // The most slots counted at once so far.
  int peak() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
  }

 private:
  mutable std::mutex mu_;
  int now_ = 0;   // guarded by mu_
  int peak_ = 0;  // guarded by mu_
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU time used so far by all threads of this process (BLAS's included).
double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// The task: x ~ N(0, 1) (n x n), c = x^T x, log det(c) from its Cholesky
// factor c = L L^T, with as many BLAS threads as the task holds slots.
// Throws std::domain_error if c is not positive definite.
Report GramCholesky(int64_t n, uint64_t seed) {
  const int slots = weft::this_task::num_cpus();  // not hardware_concurrency
  RunningSlots::Guard running(RunningSlots::Process(), slots);
  const auto size = static_cast<std::size_t>(n);
  const auto dim = static_cast<int>(n);
  weft::random::Generator<> rng = weft::random::default_rng(seed);
  const std::vector<double> x = rng.normal(0.0, 1.0, size * size);
  std::vector<double> c(size * size);

  Report report;
  const auto arrived = std::chrono::steady_clock::now();
  {
    auto section = weft::examples::BlasThreads::Process().Enter(slots);
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = ProcessCpuSeconds();
    report.blas_threads = openblas_get_num_threads();
    // Lower triangle of c = x^T x (x row-major, n x n).
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, dim, dim, 1.0, x.data(),
                dim, 0.0, c.data(), dim);
    // c = L L^T in place, L in the lower triangle.
    const int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', dim, c.data(), dim);
    if (info > 0) throw std::domain_error("x^T x is not positive definite");
    if (info < 0) throw std::invalid_argument("LAPACKE_dpotrf: bad argument");
    report.blas_seconds = Seconds(std::chrono::steady_clock::now() - start);
    report.process_cpu_seconds = ProcessCpuSeconds() - cpu_start;
    report.wait_seconds = Seconds(start - arrived);
  }
  // log det(L L^T) = 2 sum(log L_jj).
  for (std::size_t j = 0; j < size; ++j) {
    report.log_det += 2.0 * std::log(c[j * size + j]);
  }
  report.key = weft::this_task::key();
  report.pid = static_cast<int64_t>(::getpid());
  report.slots = slots;
  report.peak_slots = RunningSlots::Process().peak();
  report.peak_blas_threads =
      weft::examples::BlasThreads::Process().peak_threads();
  const char* env = std::getenv("OPENBLAS_NUM_THREADS");
  report.blas_env = env == nullptr ? "unset" : env;
  return report;
}
WEFT_REMOTE(GramCholesky);

// "1 slot", "2 slots".
std::string Count(int n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// One line per task.
void Print(const std::string& label, const Report& r, bool solo) {
  std::printf("  num_cpus = %s: task %s used %s, %.3f s in BLAS", label.c_str(),
              r.key.c_str(), Count(r.blas_threads, "BLAS thread").c_str(),
              r.blas_seconds);
  if (solo) {
    // Alone in its process, the process's CPU time is (nearly) the task's.
    std::printf(" (%.1f cores busy)",
                r.process_cpu_seconds / std::max(r.blas_seconds, 1e-9));
  } else {
    std::printf(" after %.3f s at the BLAS gate", r.wait_seconds);
  }
  std::printf(", log det = %.10f\n", r.log_det);
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  const int64_t n = flags.Int("n", 2000);
  weft::examples::Runtime runtime(
      flags, /*threads=*/static_cast<int>(flags.Int("slots", 0)));
  flags.Done();
  if (n < 1) {
    std::fprintf(stderr, "need --n >= 1\n");
    return 2;
  }
  if (openblas_get_parallel() != 1) {
    std::fprintf(stderr,
                 "OpenBLAS is not the pthreads build (%s); install "
                 "libopenblas-pthread-dev (tools/setup.sh)\n",
                 openblas_get_config());
    return 1;
  }

  weft::Client client = runtime.client();
  std::printf("%s\n", runtime.description().c_str());
  // A task runs within one worker, so it can hold at most the largest
  // worker's slots: the embedded runtime's one worker has them all, a
  // cluster's worker has --threads_per_worker. (A larger request would be
  // clamped to that; asking for what can be held keeps the printout exact.)
  int all = 1;
  std::map<int64_t, int> slots_of_process;
  for (const auto& worker : client.workers()) {
    all = std::max(all, worker.nthreads);
    slots_of_process[worker.pid] = worker.nthreads;
  }
  std::printf("%d task slots, at most %d per task; x is %lld x %lld; %s\n",
              client.num_slots(), all, static_cast<long long>(n),
              static_cast<long long>(n), openblas_get_config());
  constexpr uint64_t kSeed = 1;
  std::vector<Report> reports;
  bool ok = true;
  auto check_threads = [&](const Report& r, int requested) {
    if (r.slots != requested || r.blas_threads != requested) {
      std::printf(
          "  task %s asked for %d slots, held %d, used %d BLAS threads\n",
          r.key.c_str(), requested, r.slots, r.blas_threads);
      ok = false;
    }
  };

  std::printf("1. One task at a time:\n");
  std::vector<int> counts = {1, std::min(2, all), all};
  counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
  for (int cpus : counts) {
    const Report r =
        weft::get(weft::remote(GramCholesky, {.num_cpus = cpus})(n, kSeed));
    Print(std::to_string(cpus) + (cpus == all ? " (all)" : ""), r,
          /*solo=*/true);
    check_threads(r, cpus);
    reports.push_back(r);
  }

  const int two = std::min(2, all);
  std::printf(
      "2. Together: two tasks with num_cpus = 1, one with num_cpus = %d:\n",
      two);
  const int together[] = {1, 1, two};
  std::vector<weft::ObjectRef<Report>> futures;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ProcessCpuSeconds();
  for (int cpus : together) {
    futures.push_back(weft::remote(GramCholesky, {.num_cpus = cpus})(n, kSeed));
  }
  const std::vector<Report> concurrent = weft::get(futures);
  const double wall = Seconds(std::chrono::steady_clock::now() - start);
  const double cpu = ProcessCpuSeconds() - cpu_start;
  for (std::size_t i = 0; i < concurrent.size(); ++i) {
    const Report& r = concurrent[i];
    Print(std::to_string(together[i]), r, /*solo=*/false);
    check_threads(r, together[i]);
    reports.push_back(r);
  }
  if (runtime.embedded()) {
    std::printf("  %.3f s, %.2f CPU-s in this process (%.1f cores busy)\n",
                wall, cpu, cpu / std::max(wall, 1e-9));
  }

  // Each report carries its process's peaks so far; the largest are the
  // process's.
  struct Process {
    int peak_slots = 0;
    int peak_blas_threads = 0;
    std::string blas_env;
  };
  std::map<int64_t, Process> processes;  // by pid
  for (const Report& r : reports) {
    Process& p = processes[r.pid];
    p.peak_slots = std::max(p.peak_slots, r.peak_slots);
    p.peak_blas_threads = std::max(p.peak_blas_threads, r.peak_blas_threads);
    p.blas_env = r.blas_env;
  }
  std::printf("Processes that ran the tasks:\n");
  bool fits = true;
  for (const auto& [pid, p] : processes) {
    const auto it = slots_of_process.find(pid);
    const int slots = it == slots_of_process.end() ? all : it->second;
    const std::string env = p.blas_env == "unset" ? "unset" : "= " + p.blas_env;
    std::printf(
        "  process %lld (%s, OPENBLAS_NUM_THREADS %s): at most %s "
        "held by running tasks, %s allowed\n",
        static_cast<long long>(pid), Count(slots, "slot").c_str(), env.c_str(),
        Count(p.peak_slots, "slot").c_str(),
        Count(p.peak_blas_threads, "BLAS thread").c_str());
    fits &= p.peak_slots <= slots && p.peak_blas_threads <= slots;
  }

  double worst = 0.0;
  for (const Report& r : reports) {
    worst = std::max(worst, std::abs(r.log_det - reports[0].log_det) /
                                std::max(std::abs(reports[0].log_det), 1.0));
  }
  const bool same = worst <= kLogDetTolerance;
  std::printf("BLAS threads = task slots in every task: %s\n",
              ok ? "yes" : "NO");
  std::printf("no process used more BLAS threads or slots than it has: %s\n",
              fits ? "yes" : "NO");
  std::printf(
      "same log det with every thread count: %s (largest relative "
      "difference %.1e, tolerance %.0e)\n",
      same ? "yes" : "NO", worst, kLogDetTolerance);
  return ok && fits && same ? 0 : 1;
}
