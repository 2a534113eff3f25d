// Section 2 of the parallelization tutorial: threaded linear algebra.
//
//   x = np.random.normal(0, 1, size=(n, n))
//   x = x.T @ x
//   U = np.linalg.cholesky(x)
//
// In the tutorial a threaded BLAS uses every core unless OMP_NUM_THREADS
// says otherwise. In weft a task that runs threaded code asks for the CPUs it
// will use with TaskOptions::num_cpus; it then holds that many task slots
// while it runs, and sizes its own threads with weft::this_task::num_cpus().
// Without the option a task holds one slot and should use one thread, so
// tasks never oversubscribe the machine. See docs/tutorial.md, section 2.
//
// Run: bazel run //examples:threaded_task -- --n=600 --slots=4
//      (or --cluster=2 --threads_per_worker=4: two worker processes of four
//      task slots each; see runtime.h)
//
// Submits the same computation as tasks asking for 1, 2 and 4 CPUs and
// prints how many threads each used, its time, and log det(x) (which does
// not depend on the thread count: every entry is summed in the same order).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "examples/flags.h"
#include "examples/runtime.h"
#include "weft/random.h"
#include "weft/weft.h"

namespace {

// What one task reports.
struct Report {
  std::string key;
  int threads = 0;
  double seconds = 0.0;
  double log_det = 0.0;
};

// For weft/serialize.h, so a report can travel back from a cluster worker.
template <class Archive>
void serialize(Archive& ar, Report& r) {
  ar(r.key, r.threads, r.seconds, r.log_det);
}

// c = a^T a for a row-major n x n `a`, with `threads` std::threads each
// computing a block of rows of c. Each entry is one dot product summed in
// index order, so the result does not depend on `threads`.
std::vector<double> Crossprod(const std::vector<double>& a, std::size_t n,
                              int threads) {
  // a^T is read row by row: transpose once for contiguous dot products.
  std::vector<double> at(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) at[j * n + i] = a[i * n + j];
  }
  std::vector<double> c(n * n);
  auto rows = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      for (std::size_t j = 0; j <= i; ++j) {  // symmetric: lower half
        double sum = 0.0;
        for (std::size_t k = 0; k < n; ++k) sum += at[i * n + k] * at[j * n + k];
        c[i * n + j] = c[j * n + i] = sum;
      }
    }
  };
  // Row i costs about i dot products: split by equal area, not equal rows.
  std::vector<std::thread> pool;
  std::size_t begin = 0;
  for (int t = 1; t <= threads; ++t) {
    const auto end = static_cast<std::size_t>(
        std::sqrt(static_cast<double>(t) / threads) * static_cast<double>(n));
    const std::size_t last = t == threads ? n : std::max(begin, end);
    pool.emplace_back(rows, begin, last);
    begin = last;
  }
  for (auto& thread : pool) thread.join();
  return c;
}

// log det(c) from the Cholesky factor c = L L^T (serial, in place).
// Throws std::domain_error if c is not positive definite.
double CholeskyLogDet(std::vector<double> c, std::size_t n) {
  double log_det = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    double d = c[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= c[j * n + k] * c[j * n + k];
    if (d <= 0.0) throw std::domain_error("matrix is not positive definite");
    const double l = std::sqrt(d);
    c[j * n + j] = l;
    log_det += 2.0 * std::log(l);
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = c[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= c[i * n + k] * c[j * n + k];
      c[i * n + j] = s / l;
    }
  }
  return log_det;
}

// The task: x ~ N(0, 1) (n x n), x = x^T x, log det from its Cholesky
// factor, with as many threads as the task holds CPU slots.
Report GramCholesky(int64_t n, uint64_t seed) {
  const auto start = std::chrono::steady_clock::now();
  const int threads = weft::this_task::num_cpus();  // not hardware_concurrency
  const auto size = static_cast<std::size_t>(n);
  weft::random::Generator<> rng = weft::random::default_rng(seed);
  const std::vector<double> x = rng.normal(0.0, 1.0, size * size);
  const double log_det = CholeskyLogDet(Crossprod(x, size, threads), size);
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - start;
  return {weft::this_task::key(), threads, elapsed.count(), log_det};
}
WEFT_REMOTE(GramCholesky);

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  const int64_t n = flags.Int("n", 600);
  weft::examples::Runtime runtime(
      flags, /*threads=*/static_cast<int>(flags.Int("slots", 4)));
  flags.Done();

  weft::Client client = runtime.client();
  std::printf("%s\n", runtime.description().c_str());
  std::printf("%d task slots; x is %lld x %lld\n", client.num_slots(),
              static_cast<long long>(n), static_cast<long long>(n));

  // One task per CPU request. A task runs within one worker, so a request
  // is capped at the largest worker's threads: the embedded runtime's one
  // worker has them all, a cluster's worker has --threads_per_worker. (The
  // embedded runtime clamps a larger request itself; a cluster scheduler
  // would wait for a worker big enough to appear.)
  int max_cpus = 1;
  for (const auto& worker : client.workers()) {
    max_cpus = std::max(max_cpus, worker.nthreads);
  }
  std::vector<weft::ObjectRef<Report>> futures;
  for (int cpus : {1, 2, 4}) {
    futures.push_back(weft::remote(
        GramCholesky, {.num_cpus = std::min(cpus, max_cpus)})(n, 1));
  }
  const int requested[] = {1, 2, 4};
  const std::vector<Report> reports = weft::get(futures);
  bool same = true;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const Report& r = reports[i];
    std::printf("num_cpus = %d: task %s used %d thread%s, %.2f s, "
                "log det = %.10f\n",
                requested[i], r.key.c_str(), r.threads,
                r.threads == 1 ? "" : "s", r.seconds, r.log_det);
    same &= r.log_det == reports[0].log_det;
  }
  std::printf("same result with every thread count: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
