// Section 4.1 of the parallelization tutorial (Dask): parallel looping with
// delayed calls.
//
//   dask.config.set(scheduler='processes', num_workers=4)
//   def calc_mean(i, n):
//       rng = np.random.default_rng(i)
//       data = rng.normal(size=n)
//       return [np.mean(data), np.std(data)]
//   futures = [dask.delayed(calc_mean)(i, n) for i in range(p)]
//   futures   # [Delayed('calc_mean-b07564ff-...'), ...]
//   results = dask.compute(futures)
//
// Run: bazel run //examples:calc_mean_delayed -- --n=1000 --p=10
//      (add --cluster=4 for four worker processes; see runtime.h)
//
// Prints the placeholders, then one [mean, std] pair per task with %.17g;
// with the default flags they equal NumPy's bit for bit
// (calc_mean_default_rng.expected, written by rng/calc_mean_numpy.py).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <vector>

#include "examples/flags.h"
#include "examples/runtime.h"
#include "examples/rng/stats.h"
#include "weft/random.h"
#include "weft/weft.h"

namespace {

// The tutorial's calc_mean: seeds its generator with the task index (the
// tutorial's section 5 explains better ways; see //examples/rng).
std::array<double, 2> CalcMean(int64_t i, int64_t n) {
  weft::random::Generator<> rng =
      weft::random::default_rng(static_cast<uint64_t>(i));
  const std::vector<double> data =
      rng.normal(0.0, 1.0, static_cast<std::size_t>(n));
  return {weft::examples::Mean(data), weft::examples::Std(data)};
}
WEFT_REMOTE(CalcMean);

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  const int64_t n = flags.Int("n", 1000);
  const int64_t p = flags.Int("p", 10);
  // dask.config.set(scheduler='processes', num_workers=4): --workers=4
  // threads, or --cluster=4 worker processes.
  weft::examples::Runtime runtime(
      flags, /*threads=*/static_cast<int>(flags.Int("workers", 4)));
  flags.Done();
  std::cout << runtime.description() << "\n";

  // futures = [dask.delayed(calc_mean)(i, n) for i in range(p)]
  std::vector<weft::Delayed<std::array<double, 2>>> futures;
  for (int64_t i = 0; i < p; ++i) {
    futures.push_back(weft::delayed(CalcMean)(i, n));
  }
  // Nothing has run yet; these are placeholders.
  std::cout << "[";
  for (std::size_t i = 0; i < futures.size(); ++i) {
    std::cout << (i == 0 ? "" : ",\n ") << futures[i];
  }
  std::cout << "]\n";

  // results = dask.compute(futures): runs the tasks in parallel.
  const std::vector<std::array<double, 2>> results = weft::compute(futures);
  for (const auto& [mean, std] : results) {
    std::printf("[%.17g, %.17g]\n", mean, std);
  }
  return 0;
}
