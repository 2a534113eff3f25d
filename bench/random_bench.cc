// Throughput of weft::random, measured like NumPy's `Generator.random_raw(
// size=N)` / `standard_normal(size=N)`: each iteration fills a freshly
// allocated, uninitialized array of N values, allocated the way NumPy
// allocates array data (malloc, plus madvise(MADV_HUGEPAGE) for blocks of
// 4 MiB or more; numpy/core/src/multiarray/alloc.c), so page faults cost the
// same on both sides. items_per_second is values per second.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <sys/mman.h>

#include <cstdlib>

#include "benchmark/benchmark.h"
#include "weft/random.h"

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

// An uninitialized array of n T, allocated like NumPy's array data.
template <typename T>
std::unique_ptr<T[], FreeDeleter> NumpyLikeArray(std::size_t n) {
  const std::size_t bytes = n * sizeof(T);
  void* p = std::malloc(bytes);
  if (p == nullptr) std::abort();
  if (bytes >= (std::size_t{1} << 22)) {
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    const std::size_t offset = 4096 - addr % 4096;
    madvise(reinterpret_cast<void*>(addr + offset), bytes - offset,
            MADV_HUGEPAGE);
  }
  return std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(p));
}

constexpr std::size_t kN = 10'000'000;

void BM_RandomRaw(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  weft::random::PCG64 bg(12345);
  for (auto _ : state) {
    auto out = NumpyLikeArray<uint64_t>(n);
    bg.random_raw(std::span<uint64_t>(out.get(), n));
    benchmark::DoNotOptimize(out.get());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_RandomRaw)->Arg(kN)->Unit(benchmark::kMillisecond);

void BM_RandomRawScalar(benchmark::State& state) {
  weft::random::PCG64 bg(12345);
  for (auto _ : state) benchmark::DoNotOptimize(bg.random_raw());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RandomRawScalar);

void BM_StandardNormal(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  weft::random::Generator<> gen = weft::random::default_rng(12345);
  for (auto _ : state) {
    auto out = NumpyLikeArray<double>(n);
    gen.standard_normal(std::span<double>(out.get(), n));
    benchmark::DoNotOptimize(out.get());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_StandardNormal)->Arg(kN)->Unit(benchmark::kMillisecond);

void BM_StandardNormalScalar(benchmark::State& state) {
  weft::random::Generator<> gen = weft::random::default_rng(12345);
  for (auto _ : state) benchmark::DoNotOptimize(gen.standard_normal());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_StandardNormalScalar);

}  // namespace
