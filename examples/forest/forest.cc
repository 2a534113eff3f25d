#include "examples/forest/forest.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace weft::examples {
namespace {

// The best split of one node found so far.
struct Split {
  int feature = -1;
  double threshold = 0.0;
  std::size_t left_size = 0;  // rows going left, after sorting by feature
  double gain = 0.0;          // decrease in the sum of squared errors
};

// Draws `k` distinct features of `p` (a partial Fisher-Yates shuffle).
std::vector<int> DrawFeatures(int p, int k, weft::random::Generator<>& rng) {
  std::vector<int> features(p);
  std::iota(features.begin(), features.end(), 0);
  for (int i = 0; i < k; ++i) {
    const int j = static_cast<int>(rng.integers(i, p));
    std::swap(features[i], features[j]);
  }
  features.resize(k);
  return features;
}

}  // namespace

Matrix Matrix::WithoutRow(std::size_t r) const {
  Matrix out{rows - 1, cols, {}};
  out.values.reserve(out.rows * cols);
  for (std::size_t i = 0; i < rows; ++i) {
    if (i == r) continue;
    auto src = row(i);
    out.values.insert(out.values.end(), src.begin(), src.end());
  }
  return out;
}

RegressionTree RegressionTree::Grow(const Matrix& x, std::span<const double> y,
                                    std::vector<std::size_t> sample, int mtry,
                                    int min_leaf_size,
                                    weft::random::Generator<>& rng) {
  RegressionTree tree;
  // Nodes still to split: the node index and its rows [begin, end) in
  // `sample`. Children partition their parent's range, so one array serves.
  struct Pending {
    int node;
    std::size_t begin, end;
  };
  std::vector<Pending> stack = {{0, 0, sample.size()}};
  tree.nodes_.emplace_back();
  const std::size_t min_leaf = static_cast<std::size_t>(min_leaf_size);

  while (!stack.empty()) {
    const Pending job = stack.back();
    stack.pop_back();
    const std::span<std::size_t> rows(sample.data() + job.begin,
                                      job.end - job.begin);
    const std::size_t n = rows.size();
    double sum = 0.0;
    for (std::size_t r : rows) sum += y[r];
    tree.nodes_[job.node].value = sum / static_cast<double>(n);
    if (n < 2 * min_leaf) continue;  // too small to split: a leaf

    // Sum of squared errors = sum(y^2) - sum(y)^2 / n; a split's gain is
    // how much the children's SSEs together fall below the parent's.
    const double parent_term = sum * sum / static_cast<double>(n);
    Split best;
    for (int f : DrawFeatures(static_cast<int>(x.cols), mtry, rng)) {
      std::sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
        return x(a, f) < x(b, f);
      });
      double left_sum = 0.0;
      for (std::size_t i = 0; i + 1 < n; ++i) {
        left_sum += y[rows[i]];
        const std::size_t left_n = i + 1;
        if (left_n < min_leaf || n - left_n < min_leaf) continue;
        const double lo = x(rows[i], f), hi = x(rows[i + 1], f);
        if (lo == hi) continue;  // cannot separate equal values
        const double right_sum = sum - left_sum;
        const double gain = left_sum * left_sum / left_n +
                            right_sum * right_sum / (n - left_n) -
                            parent_term;
        if (gain > best.gain) best = {f, lo + (hi - lo) / 2, left_n, gain};
      }
    }
    if (best.feature < 0) continue;  // no split reduces the error: a leaf

    // Partition the rows by the chosen split; stable, so the order (and so
    // every later draw) is a pure function of the inputs.
    std::stable_partition(rows.begin(), rows.end(), [&](std::size_t r) {
      return x(r, best.feature) <= best.threshold;
    });
    const int left = tree.num_nodes();
    tree.nodes_.emplace_back();
    tree.nodes_.emplace_back();
    Node& node = tree.nodes_[job.node];
    node.feature = best.feature;
    node.threshold = best.threshold;
    node.left = left;
    node.right = left + 1;
    const std::size_t mid = job.begin + best.left_size;
    stack.push_back({left + 1, mid, job.end});
    stack.push_back({left, job.begin, mid});
  }
  return tree;
}

double RegressionTree::Predict(std::span<const double> features) const {
  int i = 0;
  while (nodes_[i].feature >= 0) {
    const Node& node = nodes_[i];
    i = features[node.feature] <= node.threshold ? node.left : node.right;
  }
  return nodes_[i].value;
}

RandomForest RandomForest::Fit(const Matrix& x, std::span<const double> y,
                               const ForestOptions& options,
                               weft::random::Generator<>& rng) {
  if (x.rows == 0 || x.cols == 0 || y.size() != x.rows ||
      options.num_trees <= 0 || options.min_leaf_size <= 0 ||
      options.mtry < 0 || options.mtry > static_cast<int>(x.cols)) {
    throw std::invalid_argument("RandomForest::Fit: bad data or options");
  }
  const int p = static_cast<int>(x.cols);
  const int mtry = options.mtry > 0 ? options.mtry : std::max(1, p / 3);
  const auto n = static_cast<int64_t>(x.rows);
  RandomForest forest;
  forest.trees_.reserve(options.num_trees);
  for (int t = 0; t < options.num_trees; ++t) {
    std::vector<std::size_t> sample(x.rows);
    for (auto& r : sample) r = static_cast<std::size_t>(rng.integers(0, n));
    forest.trees_.push_back(RegressionTree::Grow(
        x, y, std::move(sample), mtry, options.min_leaf_size, rng));
  }
  return forest;
}

double RandomForest::Predict(std::span<const double> features) const {
  double sum = 0.0;
  for (const auto& tree : trees_) sum += tree.Predict(features);
  return sum / static_cast<double>(trees_.size());
}

}  // namespace weft::examples
