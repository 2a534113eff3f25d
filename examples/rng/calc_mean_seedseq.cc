// Section 5.2 of the parallelization tutorial, first approach: one
// SeedSequence child per task.
//
//   ss = np.random.SeedSequence(1); child_seeds = ss.spawn(10)
//   def calc_mean(i, n, seed_i):
//       rng = np.random.default_rng(seed_i)
//       data = rng.normal(size=n)
//       return [np.mean(data), np.std(data)]
//   def wrapper(i):
//       return calc_mean(i, n, child_seeds[i])
//   results = lview.map(wrapper, range(p))
//
// Run: bazel run //examples/rng:calc_mean_seedseq
//
// Prints the 10 [mean, std] pairs with %.17g; they equal NumPy's bit for bit
// (see calc_mean_numpy.py and calc_mean_test.sh), on every runtime: add
// --cluster=4 to run the tasks on four worker processes.

#include <array>
#include <cstddef>
#include <cstdio>
#include <ranges>
#include <vector>

#include "examples/flags.h"
#include "examples/rng/stats.h"
#include "examples/runtime.h"
#include "weft/random.h"
#include "weft/weft.h"

namespace {

using weft::random::SeedSequence;

constexpr std::size_t kN = 1000;  // Draws per task.
constexpr std::size_t kP = 10;    // Tasks.

// One task: a pure function of its arguments, so it may run on any worker,
// in any order, any number of times.
std::array<double, 2> CalcMean(std::size_t /*i*/, std::size_t n,
                               const SeedSequence& seed_i) {
  weft::random::Generator<> rng = weft::random::default_rng(seed_i);
  const std::vector<double> data = rng.normal(0.0, 1.0, n);
  return {weft::examples::Mean(data), weft::examples::Std(data)};
}
WEFT_REMOTE(CalcMean);

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  // ipp.Cluster(n=4); lview = c.load_balanced_view(): four threads, or
  // --cluster=4 worker processes (see examples/runtime.h).
  weft::examples::Flags flags(argc, argv);
  weft::examples::Runtime runtime(flags, /*threads=*/4);
  flags.Done();
  // On stderr: stdout is exactly what NumPy prints.
  std::fprintf(stderr, "%s\n", runtime.description().c_str());

  SeedSequence ss(1);
  const std::vector<SeedSequence> child_seeds = ss.spawn(kP);
  // results = lview.map(wrapper, range(p)). weft::map zips its inputs
  // element by element (task i gets i, kN and child_seeds[i]), so no
  // wrapper is needed. (child_seeds[i] is also weft::random::Stream(1, i).)
  const std::vector<weft::ObjectRef<std::array<double, 2>>> futures =
      weft::map(CalcMean, std::views::iota(std::size_t{0}, kP),
                std::vector<std::size_t>(kP, kN), child_seeds);
  const std::vector<std::array<double, 2>> results = weft::get(futures);
  for (const auto& [mean, std] : results) {
    std::printf("[%.17g, %.17g]\n", mean, std);
  }
  return 0;
}
