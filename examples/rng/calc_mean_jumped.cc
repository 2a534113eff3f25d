// Section 5.2 of the parallelization tutorial, second approach: one jumped
// PCG64 per task.
//
//   rng = np.random.PCG64(1)
//   def calc_mean(i, n, rng):
//       gen = np.random.Generator(rng.jumped(i))
//       data = gen.normal(size=n)
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

using weft::random::PCG64;

constexpr std::size_t kN = 1000;  // Draws per task.
constexpr std::size_t kP = 10;    // Tasks.

// One task: reads `rng` without changing it (jumped() returns a copy), so
// tasks may run on any worker, in any order, any number of times.
std::array<double, 2> CalcMean(std::size_t i, std::size_t n, const PCG64& rng) {
  weft::random::Generator<> gen(rng.jumped(i));
  const std::vector<double> data = gen.normal(0.0, 1.0, n);
  return {weft::examples::Mean(data), weft::examples::Std(data)};
}

}  // namespace

int main() {
  const PCG64 rng(1);
  // The tasks run in a plain serial loop for now. Each CalcMean(i, ...) is
  // independent, so the lead can swap this loop for weft::map over
  // [0, kP) without changing any result. (Generator(rng.jumped(i)) is also
  // weft::random::JumpedStream(1, i).)
  std::vector<std::array<double, 2>> results(kP);
  for (std::size_t i = 0; i < kP; ++i) results[i] = CalcMean(i, kN, rng);
  for (const auto& [mean, std] : results) {
    std::printf("[%.17g, %.17g]\n", mean, std);
  }
  return 0;
}
