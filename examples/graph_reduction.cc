// A dependency graph built lazily: the sum of squares 1^2 + ... + N^2 as a
// binary tree of additions over N squaring tasks, Dask's tree reduction.
//
//   squares = [dask.delayed(square)(i) for i in range(1, N + 1)]
//   while len(squares) > 1:
//       squares = [dask.delayed(add)(a, b) for a, b in pairs(squares)]
//   total = squares[0]; total.visualize('graph.png'); total.compute()
//
// Run: bazel run //examples:graph_reduction -- --n=16 --dot=graph.dot
//      (add --cluster=2 for two worker processes; see runtime.h)
// Render: dot -Tpng graph.dot -o graph.png (or give --dot=graph.png when
// Graphviz is installed).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "examples/flags.h"
#include "examples/runtime.h"
#include "weft/weft.h"

namespace {

int64_t Square(int64_t x) { return x * x; }
int64_t Add(int64_t a, int64_t b) { return a + b; }
WEFT_REMOTE(Square, Add);

// Pairs up `level` until one node is left; an odd one out moves up as is.
// REQUIRES: !level.empty().
weft::Delayed<int64_t> TreeSum(std::vector<weft::Delayed<int64_t>> level) {
  while (level.size() > 1) {
    std::vector<weft::Delayed<int64_t>> next;
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) {
      next.push_back(weft::delayed(Add)(level[i], level[i + 1]));
    }
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  return level[0];
}

}  // namespace

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  weft::examples::Flags flags(argc, argv);
  weft::examples::Runtime runtime(flags, /*threads=*/0);
  const int64_t n = flags.Int("n", 16);
  const std::string dot_path =
      weft::examples::UserPath(flags.String("dot", "graph_reduction.dot"));
  flags.Done();
  if (n < 1) {
    std::fprintf(stderr, "need --n >= 1\n");
    return 2;
  }

  std::printf("%s\n", runtime.description().c_str());

  // Building the graph runs nothing.
  std::vector<weft::Delayed<int64_t>> squares;
  for (int64_t i = 1; i <= n; ++i) squares.push_back(weft::delayed(Square)(i));
  const weft::Delayed<int64_t> total = TreeSum(squares);
  std::printf("graph: %lld squares, %lld additions, root %s\n",
              static_cast<long long>(n), static_cast<long long>(n - 1),
              total.key().c_str());

  if (weft::visualize(weft::to_dot(total), dot_path)) {
    std::printf("wrote %s\n", dot_path.c_str());
  }

  const int64_t sum = weft::compute(total);
  const int64_t expected = n * (n + 1) * (2 * n + 1) / 6;
  std::printf("sum of squares 1..%lld = %lld (n(n+1)(2n+1)/6 = %lld)\n",
              static_cast<long long>(n), static_cast<long long>(sum),
              static_cast<long long>(expected));
  return sum == expected ? 0 : 1;
}
