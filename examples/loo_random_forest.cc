// Sections 3.1.3 and 3.1.4 of the parallelization tutorial: leave-one-out
// cross-validation of a random forest regression, one task per held-out
// observation, on a load-balanced map.
//
//   def looFit(index, Ylocal, Xlocal):
//       rf = rfr(n_estimators=100)
//       fitted = rf.fit(np.delete(Xlocal, index, axis=0),
//                       np.delete(Ylocal, index))
//       return rf.predict(np.array([Xlocal[index, :]]))
//   pred = lview.map(wrapper, range(n))
//
// Run: bazel run //examples:loo_random_forest -- --n=200 --p=20 --trees=100
// Flags: --n, --p, --trees, --threads (0: one per core), --seed, and
// --cluster=N to run the tasks on N worker processes (see runtime.h).
//
// Every task draws its bootstrap samples and split features from its own
// stream, weft::random::Stream(seed, index), so the predictions are the same
// bit for bit however the tasks are scheduled; the program checks that the
// serial loop and the parallel map agree.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <vector>

#include "examples/flags.h"
#include "examples/runtime.h"
#include "examples/forest/forest.h"
#include "weft/random.h"
#include "weft/weft.h"

namespace {

using weft::examples::ForestOptions;
using weft::examples::Matrix;
using weft::examples::RandomForest;

// Everything a task needs: the data, the forest's settings and the seed of
// the per-task random streams. Stored once with weft::put and shared.
struct Study {
  Matrix x;                // n x p
  std::vector<double> y;   // n
  ForestOptions forest;
  uint64_t seed = 0;
};

// For weft/serialize.h, so the study can travel to cluster workers.
template <class Archive>
void serialize(Archive& ar, Study& s) {
  ar(s.x, s.y, s.forest, s.seed);
}

// The tutorial's data: X ~ N(0, 1) (n x p) and
// Y = X0 + sqrt(|X1 * X2|) + X1 - X2 + N(0, 1), drawn in the order
// np.random.default_rng(seed).normal(size=(n, p)) and then .normal(size=n)
// would draw them.
Study MakeStudy(std::size_t n, std::size_t p, int num_trees, uint64_t seed) {
  weft::random::Generator<> rng = weft::random::default_rng(seed);
  Study study;
  study.x = Matrix{n, p, rng.normal(0.0, 1.0, n * p)};
  const std::vector<double> noise = rng.normal(0.0, 1.0, n);
  for (std::size_t i = 0; i < n; ++i) {
    const Matrix& x = study.x;
    study.y.push_back(x(i, 0) + std::sqrt(std::abs(x(i, 1) * x(i, 2))) +
                      x(i, 1) - x(i, 2) + noise[i]);
  }
  study.forest.num_trees = num_trees;
  study.seed = seed;
  return study;
}

// looFit: fits a forest to every observation but `index` and predicts the
// held-out one. A pure function of its arguments.
double LooFit(std::size_t index, const Study& study) {
  std::vector<double> y = study.y;
  y.erase(y.begin() + static_cast<std::ptrdiff_t>(index));
  weft::random::Generator<> rng = weft::random::Stream(study.seed, index);
  const RandomForest rf =
      RandomForest::Fit(study.x.WithoutRow(index), y, study.forest, rng);
  return rf.Predict(study.x.row(index));
}
WEFT_REMOTE(LooFit);

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  const auto n = static_cast<std::size_t>(flags.Int("n", 200));
  const auto p = static_cast<std::size_t>(flags.Int("p", 20));
  const int trees = static_cast<int>(flags.Int("trees", 100));
  weft::examples::Runtime runtime(
      flags, /*threads=*/static_cast<int>(flags.Int("threads", 0)));
  const auto seed = static_cast<uint64_t>(flags.Int("seed", 1));
  flags.Done();
  if (n < 12 || p < 3 || trees < 1) {
    std::fprintf(stderr, "need --n >= 12, --p >= 3, --trees >= 1\n");
    return 2;
  }

  // ipp.Cluster(n=...) / c.load_balanced_view(): threads of this process,
  // or --cluster=N worker processes.
  weft::Client client = runtime.client();
  std::printf("%s\n", runtime.description().c_str());
  const Study study = MakeStudy(n, p, trees, seed);
  std::printf("leave-one-out random forest: n = %zu, p = %zu, %d trees, "
              "%d task slots\n",
              n, p, trees, client.num_slots());

  // The serial loop, for comparison.
  auto start = std::chrono::steady_clock::now();
  std::vector<double> serial(n);
  for (std::size_t i = 0; i < n; ++i) serial[i] = LooFit(i, study);
  const double serial_seconds = Seconds(start);

  // pred = lview.map(wrapper, range(n)). weft::map zips its inputs, so no
  // wrapper is needed: the shared study is passed as the same reference for
  // every task (one stored value, never copied per task).
  start = std::chrono::steady_clock::now();
  const weft::ObjectRef<Study> study_ref = weft::put(study);
  std::vector<std::size_t> held_out(n);
  std::iota(held_out.begin(), held_out.end(), std::size_t{0});
  const std::vector<weft::ObjectRef<double>> futures =
      weft::map(LooFit, held_out, std::vector(n, study_ref));
  const std::vector<double> pred = weft::get(futures);
  const double parallel_seconds = Seconds(start);

  std::printf("predictions:");
  for (std::size_t i = 0; i < 5; ++i) std::printf(" %8.4f", pred[i]);
  std::printf(" ...\nobserved:   ");
  for (std::size_t i = 0; i < 5; ++i) std::printf(" %8.4f", study.y[i]);
  std::printf(" ...\n");

  double mse = 0.0, mean = 0.0, var = 0.0;
  for (double y : study.y) mean += y / static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i) {
    mse += (pred[i] - study.y[i]) * (pred[i] - study.y[i]) / n;
    var += (study.y[i] - mean) * (study.y[i] - mean) / n;
  }
  std::printf("LOO mean squared error: %.4f (variance of Y: %.4f)\n", mse,
              var);
  std::printf("serial:   %6.2f s\n", serial_seconds);
  std::printf("parallel: %6.2f s on %d slots (%.1fx)\n", parallel_seconds,
              client.num_slots(), serial_seconds / parallel_seconds);
  const bool same = pred == serial;
  std::printf("serial and parallel predictions identical: %s\n",
              same ? "yes" : "NO");
  return same ? 0 : 1;
}
