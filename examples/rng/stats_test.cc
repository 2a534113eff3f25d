// Checks the NumPy-exact Sum/Mean/Std against values NumPy 1.24.2 computed:
//   x = np.random.default_rng(seed).standard_normal(n)
//   np.sum(x), np.mean(x), np.std(x)   (bit patterns below)
// The sizes cover every branch: n < 8, one 128 block, recursion, and more
// than one 8192-element buffer chunk.

#include <bit>
#include <cstdint>
#include <vector>

#include "examples/rng/stats.h"
#include "gtest/gtest.h"
#include "weft/random.h"

namespace weft::examples {
namespace {

struct Case {
  uint64_t seed;
  std::size_t n;
  uint64_t sum, mean, std;
};

constexpr Case kCases[] = {
    {3, 100003, 0x4053318034c43eb4ULL, 0x3f492807d3b98df5ULL,
     0x3feff85e410badbdULL},
    {4, 1000, 0xc02395f7caa72817ULL, 0xbf840e4d9c510e6eULL,
     0x3ff03e11ca6569c1ULL},
    {5, 7, 0xbff42d7871f9d160ULL, 0xbfc70f65148b386eULL,
     0x3fe83d3433b90be9ULL},
    {6, 129, 0xc018a1b25dceafe0ULL, 0xbfa870d0bc5603d8ULL,
     0x3ff03b155bf97be3ULL},
    {7, 16389, 0xc05955438240ff68ULL, 0xbf795349008cf465ULL,
     0x3fefdf0abfcaa5ebULL},
};

TEST(StatsTest, MatchesNumpyBitwise) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.n);
    const std::vector<double> x =
        weft::random::default_rng(c.seed).standard_normal(c.n);
    EXPECT_EQ(std::bit_cast<uint64_t>(Sum(x)), c.sum);
    EXPECT_EQ(std::bit_cast<uint64_t>(Mean(x)), c.mean);
    EXPECT_EQ(std::bit_cast<uint64_t>(Std(x)), c.std);
  }
}

}  // namespace
}  // namespace weft::examples
