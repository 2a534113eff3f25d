// Stateful engines, as ipyparallel's are (section 3.1 of the
// parallelization tutorial): load the data once per engine, then serve
// many calls that use it.
//
//   dview.execute('import numpy as np; from sklearn... import rfr')
//   dview.push({'Xlocal': X, 'Ylocal': Y})      # once per engine
//   pred = lview.map(looFit, range(n))           # many calls
//
// Here each engine is an actor (weft/actor.h): its constructor takes the
// data set (an ObjectRef, fetched once to its worker) and keeps it; its
// LooFit(index) calls fit a forest without observation `index`, predict
// it, and keep the fitted forest in a cache, so a second question about
// the same held-out point (here: the prediction at the data's mean) needs
// no new fit. The program deals the indices round-robin to the engines,
// asks each engine how many forests it fitted, and checks the predictions
// against a serial loop, bit for bit.
//
// Run: bazel run //examples:loo_engines -- --n=60 --engines=2
// Flags: --n, --p, --trees, --engines, --seed, and the runtime flags of
// runtime.h (--cluster=N, --scheduler=HOST:PORT).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <vector>

#include "examples/flags.h"
#include "examples/forest/forest.h"
#include "examples/runtime.h"
#include "weft/random.h"
#include "weft/weft.h"

namespace {

using weft::examples::ForestOptions;
using weft::examples::Matrix;
using weft::examples::RandomForest;

// The data and the forest's settings (as loo_random_forest.cc's Study).
struct Study {
  Matrix x;               // n x p
  std::vector<double> y;  // n
  ForestOptions forest;
  uint64_t seed = 0;
};

template <class Archive>
void serialize(Archive& ar, Study& s) {
  ar(s.x, s.y, s.forest, s.seed);
}

// X ~ N(0, 1) (n x p), Y = X0 + sqrt(|X1 * X2|) + X1 - X2 + N(0, 1).
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

// The forest fitted without observation `index` (its random stream is
// Stream(seed, index): the same forest wherever it is fitted).
RandomForest FitWithout(const Study& study, std::size_t index) {
  std::vector<double> y = study.y;
  y.erase(y.begin() + static_cast<std::ptrdiff_t>(index));
  weft::random::Generator<> rng = weft::random::Stream(study.seed, index);
  return RandomForest::Fit(study.x.WithoutRow(index), y, study.forest, rng);
}

// The column means of x: a second point every forest is asked about.
std::vector<double> ColumnMeans(const Matrix& x) {
  std::vector<double> mean(x.cols, 0.0);
  for (std::size_t i = 0; i < x.rows; ++i) {
    for (std::size_t j = 0; j < x.cols; ++j) {
      mean[j] += x(i, j) / static_cast<double>(x.rows);
    }
  }
  return mean;
}

}  // namespace

// Named, not anonymous: WEFT_ACTOR declares a function that must have
// linkage.
namespace loo_engines {

// An engine: the data, loaded once, and the forests it fitted.
class Engine {
 public:
  explicit Engine(Study study) : study_(std::move(study)) {}

  // Predicts held-out observation `index` (fitting its forest, once).
  double LooFit(int index) {
    return Forest(index).Predict(study_.x.row(static_cast<std::size_t>(index)));
  }
  // The prediction of held-out forest `index` at the data's column means.
  double AtMean(int index) {
    return Forest(index).Predict(ColumnMeans(study_.x));
  }
  // How many forests this engine fitted (its state, kept between calls).
  int Fitted() const { return static_cast<int>(forests_.size()); }

 private:
  const RandomForest& Forest(int index) {
    auto it = forests_.find(index);
    if (it == forests_.end()) {
      it = forests_
               .emplace(index,
                        FitWithout(study_, static_cast<std::size_t>(index)))
               .first;
    }
    return it->second;
  }

  const Study study_;
  std::map<int, RandomForest> forests_;
};
WEFT_ACTOR(Engine(Study), &Engine::LooFit, &Engine::AtMean, &Engine::Fitted);

}  // namespace loo_engines

using loo_engines::Engine;

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  const auto n = static_cast<std::size_t>(flags.Int("n", 60));
  const auto p = static_cast<std::size_t>(flags.Int("p", 6));
  const int trees = static_cast<int>(flags.Int("trees", 20));
  const int engines = static_cast<int>(flags.Int("engines", 2));
  const auto seed = static_cast<uint64_t>(flags.Int("seed", 1));
  weft::examples::Runtime runtime(flags, /*threads=*/engines);
  flags.Done();
  if (n < 12 || p < 3 || trees < 1 || engines < 1) {
    std::fprintf(stderr,
                 "need --n >= 12, --p >= 3, --trees >= 1, --engines >= 1\n");
    return 2;
  }
  weft::Client client = runtime.client();
  std::printf("%s\n", runtime.description().c_str());
  const Study study = MakeStudy(n, p, trees, seed);
  std::printf("leave-one-out random forest on %d engines: n = %zu, p = %zu, "
              "%d trees\n",
              engines, n, p, trees);

  // dview.push(...): every engine gets the data once (one stored copy,
  // fetched once by each engine's worker). num_cpus = 0: the engines hold
  // no task slots, so any number of them fit.
  const weft::ObjectRef<Study> data = weft::put(study);
  std::vector<weft::Actor<Engine>> pool;
  for (int e = 0; e < engines; ++e) {
    pool.push_back(weft::actor<Engine>({.num_cpus = 0})(data));
  }

  // lview.map(looFit, range(n)): dealt round-robin; each call returns at
  // once, and each engine serves its calls in order, one at a time.
  std::vector<weft::ObjectRef<double>> loo;
  std::vector<weft::ObjectRef<double>> at_mean;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& engine = pool[i % pool.size()];
    loo.push_back(engine.remote(&Engine::LooFit)(static_cast<int>(i)));
  }
  // A second round of questions: the same engine answers from its cache.
  for (std::size_t i = 0; i < n; ++i) {
    const auto& engine = pool[i % pool.size()];
    at_mean.push_back(engine.remote(&Engine::AtMean)(static_cast<int>(i)));
  }
  const std::vector<double> pred = weft::get(loo);
  const std::vector<double> mean_pred = weft::get(at_mean);
  int fitted = 0;
  for (const auto& engine : pool) {
    fitted += weft::get(engine.remote(&Engine::Fitted)());
  }

  double mse = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    mse += (pred[i] - study.y[i]) * (pred[i] - study.y[i]) / n;
  }
  std::printf("predictions:");
  for (std::size_t i = 0; i < 5; ++i) std::printf(" %8.4f", pred[i]);
  std::printf(" ...\nLOO mean squared error: %.4f\n", mse);
  std::printf("forests fitted by the engines: %d for %zu calls\n", fitted,
              2 * n);

  // The serial loop: the same forests, so the same numbers.
  bool same = fitted == static_cast<int>(n);
  const std::vector<double> mean = ColumnMeans(study.x);
  for (std::size_t i = 0; i < n; ++i) {
    const RandomForest rf = FitWithout(study, i);
    same = same && rf.Predict(study.x.row(i)) == pred[i] &&
           rf.Predict(mean) == mean_pred[i];
  }
  for (const auto& engine : pool) weft::kill(engine);
  std::printf("engines and serial loop agree: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
