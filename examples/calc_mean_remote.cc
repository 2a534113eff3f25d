// Section 4.2 of the parallelization tutorial (Ray): parallel looping with
// remote calls.
//
//   ray.init(num_cpus=4)
//   @ray.remote
//   def calc_mean(i, n):
//       rng = np.random.default_rng(i)
//       data = rng.normal(size=n)
//       return [np.mean(data), np.std(data)]
//   futures = [calc_mean.remote(i, n) for i in range(p)]
//   futures   # [ObjectRef(a67dc375e60ddd1a...), ...]
//   ray.get(futures)
//
// Run: bazel run //examples:calc_mean_remote -- --n=1000 --p=10
//      (add --cluster=4 for four worker processes; see runtime.h)
//
// Unlike delayed calls, remote calls start at once; the ObjectRefs are
// futures of running tasks. With the default flags the printed [mean, std]
// pairs equal NumPy's bit for bit (calc_mean_default_rng.expected).

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

// The tutorial's calc_mean: seeds its generator with the task index.
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
  // ray.init(num_cpus=4): --num_cpus=4 threads, or --cluster=4 worker
  // processes.
  weft::examples::Runtime runtime(
      flags, /*threads=*/static_cast<int>(flags.Int("num_cpus", 4)));
  flags.Done();
  std::cout << runtime.description() << "\n";

  // futures = [calc_mean.remote(i, n) for i in range(p)]
  std::vector<weft::ObjectRef<std::array<double, 2>>> futures;
  for (int64_t i = 0; i < p; ++i) {
    futures.push_back(weft::remote(CalcMean)(i, n));
  }
  std::cout << "[";
  for (std::size_t i = 0; i < futures.size(); ++i) {
    std::cout << (i == 0 ? "" : ",\n ") << futures[i];
  }
  std::cout << "]\n";

  // ray.get(futures)
  const std::vector<std::array<double, 2>> results = weft::get(futures);
  for (const auto& [mean, std] : results) {
    std::printf("[%.17g, %.17g]\n", mean, std);
  }
  return 0;
}
