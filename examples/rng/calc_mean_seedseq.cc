// Section 5.2 of the parallelization tutorial, first approach: one
// SeedSequence child per task.
//
//   ss = np.random.SeedSequence(1); child_seeds = ss.spawn(10)
//   def calc_mean(i, n, seed_i):
//       rng = np.random.default_rng(seed_i)
//       data = rng.normal(size=n)
//       return [np.mean(data), np.std(data)]
//
// Prints the 10 [mean, std] pairs with %.17g; they equal NumPy's bit for bit
// (see calc_mean_numpy.py and calc_mean_test.sh).

#include <array>
#include <cstddef>
#include <cstdio>
#include <vector>

#include "examples/rng/stats.h"
#include "weft/random.h"

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

}  // namespace

int main() {
  SeedSequence ss(1);
  const std::vector<SeedSequence> child_seeds = ss.spawn(kP);
  // The tasks run in a plain serial loop for now. Each CalcMean(i, ...) is
  // independent, so the lead can swap this loop for weft::map over
  // [0, kP) without changing any result. (child_seeds[i] is also
  // weft::random::Stream(1, i).)
  std::vector<std::array<double, 2>> results(kP);
  for (std::size_t i = 0; i < kP; ++i) {
    results[i] = CalcMean(i, kN, child_seeds[i]);
  }
  for (const auto& [mean, std] : results) {
    std::printf("[%.17g, %.17g]\n", mean, std);
  }
  return 0;
}
