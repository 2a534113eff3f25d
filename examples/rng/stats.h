// NumPy-exact mean and standard deviation of a float64 array.
//
// np.sum (and so np.mean and np.std) adds float64 values by pairwise
// summation (numpy/core/src/umath/loops_utils.h.src): blocks of at most 128
// values are summed with 8 interleaved accumulators, longer runs are split in
// two at a multiple of 8. The ufunc machinery feeds the loop in chunks of the
// iterator's buffer size (8192 elements), accumulating the chunk sums in
// order starting from the identity 0.0. Reproducing that order gives results
// equal to NumPy's bit for bit.

#ifndef WEFT_EXAMPLES_RNG_STATS_H_
#define WEFT_EXAMPLES_RNG_STATS_H_

#include <cmath>
#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

namespace weft::examples {

// Pairwise sum of `a` in NumPy's order (one inner-loop call).
inline double PairwiseSum(std::span<const double> a) {
  const std::size_t n = a.size();
  if (n < 8) {
    double res = -0.0;
    for (double v : a) res += v;
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res =
        ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return PairwiseSum(a.first(n2)) + PairwiseSum(a.subspan(n2));
}

// np.sum(a) for a contiguous float64 array.
inline double Sum(std::span<const double> a) {
  constexpr std::size_t kBufferSize = 8192;  // NPY_BUFSIZE
  double res = 0.0;
  for (std::size_t i = 0; i < a.size(); i += kBufferSize) {
    res += PairwiseSum(a.subspan(i, std::min(kBufferSize, a.size() - i)));
  }
  return res;
}

// np.mean(a).
inline double Mean(std::span<const double> a) {
  return Sum(a) / static_cast<double>(a.size());
}

// np.std(a) (ddof = 0): sqrt(mean((a - mean(a))**2)).
inline double Std(std::span<const double> a) {
  const double mean = Mean(a);
  std::vector<double> sq(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = a[i] - mean;
    sq[i] = d * d;
  }
  return std::sqrt(Sum(sq) / static_cast<double>(a.size()));
}

}  // namespace weft::examples

#endif  // WEFT_EXAMPLES_RNG_STATS_H_
