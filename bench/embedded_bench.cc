// Copyright 2026 The weft Authors.
//
// The embedded runtime's costs:
//   - building a lazy graph, per delayed() node (aim: <= 200 ns);
//   - dispatching tiny tasks, submit to result (aim: >= 1M tasks/s on 2
//     threads);
//   - a tree reduction built lazily and computed once.
//
//   bazel run --config=opt //bench:embedded_bench

#include <cstdint>
#include <vector>

#include "benchmark/benchmark.h"
#include "weft/weft.h"

namespace {

int64_t Inc(int64_t x) { return x + 1; }
int64_t Add(int64_t a, int64_t b) { return a + b; }
WEFT_REMOTE(Inc, Add);

// Cost of recording one lazy call (no execution).
void BM_DelayedNode(benchmark::State& state) {
  const int64_t n = state.range(0);
  for (auto _ : state) {
    std::vector<weft::Delayed<int64_t>> nodes;
    nodes.reserve(n);
    for (int64_t i = 0; i < n; ++i) nodes.push_back(weft::delayed(Inc)(i));
    benchmark::DoNotOptimize(nodes.data());
    state.PauseTiming();
    nodes.clear();  // destruction is not part of construction
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["ns_per_node"] = benchmark::Counter(
      static_cast<double>(state.iterations() * n),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_DelayedNode)->Arg(100000)->Unit(benchmark::kMillisecond);

// Chained nodes (each depends on the previous one).
void BM_DelayedChainNode(benchmark::State& state) {
  const int64_t n = state.range(0);
  for (auto _ : state) {
    weft::Delayed<int64_t> d = weft::delayed(Inc)(int64_t{0});
    for (int64_t i = 1; i < n; ++i) d = weft::delayed(Inc)(d);
    benchmark::DoNotOptimize(&d);
    state.PauseTiming();
    d = weft::delayed(Inc)(int64_t{0});
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_DelayedChainNode)->Arg(100000)->Unit(benchmark::kMillisecond);

// Tiny independent tasks: submit n with remote(), then get all.
void BM_RemoteThroughput(benchmark::State& state) {
  weft::Client client = weft::Client::Local(static_cast<int>(state.range(1)));
  const int64_t n = state.range(0);
  for (auto _ : state) {
    std::vector<weft::ObjectRef<int64_t>> refs;
    refs.reserve(n);
    for (int64_t i = 0; i < n; ++i) refs.push_back(weft::remote(Inc)(i));
    std::vector<int64_t> out = weft::get(refs);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_RemoteThroughput)
    ->Args({100000, 2})
    ->Args({100000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same through map().
void BM_MapThroughput(benchmark::State& state) {
  weft::Client client = weft::Client::Local(2);
  const int64_t n = state.range(0);
  std::vector<int64_t> xs(n);
  for (int64_t i = 0; i < n; ++i) xs[i] = i;
  for (auto _ : state) {
    std::vector<int64_t> out = weft::get(weft::map(Inc, xs));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_MapThroughput)->Arg(100000)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Lazy graph: n independent nodes, built and computed once.
void BM_DelayedComputeThroughput(benchmark::State& state) {
  weft::Client client = weft::Client::Local(2);
  const int64_t n = state.range(0);
  for (auto _ : state) {
    std::vector<weft::Delayed<int64_t>> ds;
    ds.reserve(n);
    for (int64_t i = 0; i < n; ++i) ds.push_back(weft::delayed(Inc)(i));
    std::vector<int64_t> out = weft::compute(ds);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_DelayedComputeThroughput)->Arg(100000)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// Binary tree reduction over n leaves (2n - 1 tasks), built lazily.
void BM_TreeReduction(benchmark::State& state) {
  weft::Client client = weft::Client::Local(2);
  const int64_t n = state.range(0);
  for (auto _ : state) {
    std::vector<weft::Delayed<int64_t>> level;
    level.reserve(n);
    for (int64_t i = 0; i < n; ++i) level.push_back(weft::delayed(Inc)(i));
    while (level.size() > 1) {
      std::vector<weft::Delayed<int64_t>> next;
      next.reserve((level.size() + 1) / 2);
      for (size_t i = 0; i + 1 < level.size(); i += 2) {
        next.push_back(weft::delayed(Add)(level[i], level[i + 1]));
      }
      if (level.size() % 2 == 1) next.push_back(level.back());
      level.swap(next);
    }
    int64_t total = weft::compute(level[0]);
    if (total != n * (n + 1) / 2) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * (2 * n - 1));
}
BENCHMARK(BM_TreeReduction)->Arg(65536)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Round trip of one tiny task (submit, run, wake the caller).
void BM_RoundTrip(benchmark::State& state) {
  weft::Client client = weft::Client::Local(2);
  int64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(weft::get(weft::remote(Inc)(i++)));
  }
}
BENCHMARK(BM_RoundTrip)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
