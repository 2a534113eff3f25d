// Copyright 2026 The weft Authors.
//
// Large arrays with a recognisable pattern, for the tests that move object
// data between processes (transfer_test, shared_memory_test). Each test
// registers these with WEFT_REMOTE itself.

#ifndef WEFT_TESTS_PATTERN_ARRAYS_H_
#define WEFT_TESTS_PATTERN_ARRAYS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace weft::testing {

// n doubles following a pattern, so a lost or reordered chunk cannot go
// unnoticed.
inline std::vector<double> Make(int64_t n) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<double>(i % 1000003);
  return v;
}

// Checks both vectors element by element; returns how many matched.
inline int64_t Compare(const std::vector<double>& a,
                       const std::vector<double>& b) {
  int64_t same = 0;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) same += a[i] == b[i];
  return same;
}

}  // namespace weft::testing

#endif  // WEFT_TESTS_PATTERN_ARRAYS_H_
