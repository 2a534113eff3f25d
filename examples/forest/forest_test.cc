#include "examples/forest/forest.h"

#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "gtest/gtest.h"
#include "weft/random.h"
#include "weft/serialize.h"

namespace weft::examples {
namespace {

// y = 2 sin(x0) + x1 - 0.5 x2^2 on uniform [-2, 2]^4 (x3 is noise).
double Target(std::span<const double> x) {
  return 2 * std::sin(x[0]) + x[1] - 0.5 * x[2] * x[2];
}

Matrix UniformRows(std::size_t rows, weft::random::Generator<>& rng) {
  Matrix x{rows, 4, rng.uniform(-2.0, 2.0, rows * 4)};
  return x;
}

TEST(RandomForestTest, FitsASmoothFunction) {
  auto rng = weft::random::default_rng(7);
  const Matrix train = UniformRows(500, rng);
  std::vector<double> y;
  for (std::size_t i = 0; i < train.rows; ++i) y.push_back(Target(train.row(i)));
  const RandomForest rf =
      RandomForest::Fit(train, y, {.num_trees = 50, .mtry = 2}, rng);

  const Matrix test = UniformRows(200, rng);
  double mse = 0.0, mean = 0.0, var = 0.0;
  for (std::size_t i = 0; i < test.rows; ++i) mean += Target(test.row(i));
  mean /= test.rows;
  for (std::size_t i = 0; i < test.rows; ++i) {
    const double t = Target(test.row(i));
    const double e = rf.Predict(test.row(i)) - t;
    mse += e * e / test.rows;
    var += (t - mean) * (t - mean) / test.rows;
  }
  // The forest explains well over 90% of the variance.
  EXPECT_LT(mse, 0.08 * var) << "mse " << mse << " var " << var;
}

TEST(RandomForestTest, LeavesKeepMinimumSizeAndConstantDataIsOneLeaf) {
  auto rng = weft::random::default_rng(1);
  const Matrix x = UniformRows(9, rng);
  const std::vector<double> y(9, 3.5);
  const RandomForest rf =
      RandomForest::Fit(x, y, {.num_trees = 3, .min_leaf_size = 5}, rng);
  for (const auto& tree : rf.trees()) EXPECT_EQ(tree.num_nodes(), 1);
  EXPECT_EQ(rf.Predict(x.row(0)), 3.5);
}

TEST(RandomForestTest, SameStreamSameForest) {
  auto data_rng = weft::random::default_rng(3);
  const Matrix x = UniformRows(100, data_rng);
  const std::vector<double> y = data_rng.normal(0.0, 1.0, 100);
  auto fit = [&](uint64_t task) {
    auto rng = weft::random::Stream(11, task);
    return RandomForest::Fit(x, y, {.num_trees = 10}, rng);
  };
  const RandomForest a = fit(0), b = fit(0), c = fit(1);
  bool any_differs = false;
  for (std::size_t i = 0; i < x.rows; ++i) {
    EXPECT_EQ(a.Predict(x.row(i)), b.Predict(x.row(i)));  // bitwise
    any_differs |= a.Predict(x.row(i)) != c.Predict(x.row(i));
  }
  EXPECT_TRUE(any_differs);
}

TEST(RandomForestTest, WithoutRowDropsOneRow) {
  const Matrix x{3, 2, {1, 2, 3, 4, 5, 6}};
  const Matrix y = x.WithoutRow(1);
  EXPECT_EQ(y.rows, 2u);
  EXPECT_EQ(y.values, (std::vector<double>{1, 2, 5, 6}));
}

TEST(RandomForestTest, MatrixAndOptionsSerialize) {
  const Matrix x{2, 3, {1, 2, 3, 4, 5, 6}};
  auto back = weft::Deserialize<Matrix>(weft::Serialize(x));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->rows, 2u);
  EXPECT_EQ(back->cols, 3u);
  EXPECT_EQ(back->values, x.values);
  auto options = weft::Deserialize<ForestOptions>(
      weft::Serialize(ForestOptions{.num_trees = 7, .mtry = 2}));
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->num_trees, 7);
  EXPECT_EQ(options->mtry, 2);
  EXPECT_EQ(options->min_leaf_size, 5);
}

TEST(RandomForestTest, RejectsBadInput) {
  auto rng = weft::random::default_rng(1);
  const Matrix x{2, 1, {1, 2}};
  EXPECT_THROW(RandomForest::Fit(x, std::vector<double>{1}, {}, rng),
               std::invalid_argument);
  EXPECT_THROW(
      RandomForest::Fit(x, std::vector<double>{1, 2}, {.mtry = 2}, rng),
      std::invalid_argument);
}

}  // namespace
}  // namespace weft::examples
