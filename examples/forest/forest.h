// A small regression random forest (Breiman 2001), for the tutorial's
// leave-one-out example: CART regression trees grown on bootstrap samples,
// each split chosen among `mtry` randomly drawn features by the largest
// decrease in squared error, leaves holding at least `min_leaf_size` samples.
//
//   Matrix x = ...;  std::vector<double> y = ...;
//   weft::random::Generator<> rng = weft::random::Stream(seed, task);
//   RandomForest rf = RandomForest::Fit(x, y, {.num_trees = 100}, rng);
//   double yhat = rf.Predict(x.row(0));
//
// Fit is a pure function of its arguments and the generator's state, so a
// forest fitted from the same stream is the same forest on any machine.

#ifndef WEFT_EXAMPLES_FOREST_FOREST_H_
#define WEFT_EXAMPLES_FOREST_FOREST_H_

#include <cstddef>
#include <span>
#include <vector>

#include "weft/random.h"

namespace weft::examples {

// A dense row-major matrix of doubles.
struct Matrix {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<double> values;  // rows * cols, row after row

  double operator()(std::size_t r, std::size_t c) const {
    return values[r * cols + c];
  }
  std::span<const double> row(std::size_t r) const {
    return std::span<const double>(values).subspan(r * cols, cols);
  }
  // A copy without row `r` (for leave-one-out). REQUIRES: r < rows.
  Matrix WithoutRow(std::size_t r) const;
};

// For weft/serialize.h, so a Matrix can travel to a cluster worker.
template <class Archive>
void serialize(Archive& ar, Matrix& m) {
  ar(m.rows, m.cols, m.values);
}

struct ForestOptions {
  int num_trees = 100;
  // Features tried at each split; 0 means max(1, p / 3), randomForest's
  // default for regression.
  int mtry = 0;
  // A split is only made if both children keep this many samples.
  int min_leaf_size = 5;
};

template <class Archive>
void serialize(Archive& ar, ForestOptions& o) {
  ar(o.num_trees, o.mtry, o.min_leaf_size);
}

// One CART regression tree, stored as a flat array of nodes.
class RegressionTree {
 public:
  // Grows a tree on rows `sample` of (x, y); rows may repeat (bootstrap).
  // REQUIRES: sample is not empty; 1 <= mtry <= x.cols.
  static RegressionTree Grow(const Matrix& x, std::span<const double> y,
                             std::vector<std::size_t> sample, int mtry,
                             int min_leaf_size,
                             weft::random::Generator<>& rng);

  // The mean response of the leaf `features` falls into.
  // REQUIRES: features.size() == number of columns the tree was grown on.
  double Predict(std::span<const double> features) const;

  int num_nodes() const { return static_cast<int>(nodes_.size()); }

 private:
  struct Node {
    int feature = -1;        // -1 for a leaf
    double threshold = 0.0;  // go left if x[feature] <= threshold
    int left = -1;
    int right = -1;
    double value = 0.0;  // the leaf's mean response
  };
  std::vector<Node> nodes_;
};

class RandomForest {
 public:
  // Fits `options.num_trees` trees, drawing bootstrap samples and split
  // features from `rng`. REQUIRES: y.size() == x.rows > 0, x.cols > 0,
  // num_trees > 0, min_leaf_size > 0, 0 <= mtry <= x.cols.
  static RandomForest Fit(const Matrix& x, std::span<const double> y,
                          const ForestOptions& options,
                          weft::random::Generator<>& rng);

  // The average of the trees' predictions.
  double Predict(std::span<const double> features) const;

  const std::vector<RegressionTree>& trees() const { return trees_; }

 private:
  std::vector<RegressionTree> trees_;
};

}  // namespace weft::examples

#endif  // WEFT_EXAMPLES_FOREST_FOREST_H_
