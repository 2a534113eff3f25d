// Copyright 2026 The weft Authors.
//
// A seeded simulation study gives bit-identical results on the embedded
// runtime, on a LocalCluster of 1 worker and of 3 workers, and when a
// worker dies mid-run: every task draws from weft::random::Stream(root, i),
// which depends only on the root seed and the task's index. The root is a
// 128-bit weft::random::Seed passed to every task as an argument, so it
// crosses the wire to the workers.

#include <signal.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

#include "absl/numeric/int128.h"
#include "gtest/gtest.h"
#include "weft/random.h"
#include "weft/weft.h"

namespace {

using namespace std::chrono_literals;

constexpr int kTasks = 24;

// The study's root seed: 2**96 + 20261124, wider than 64 bits.
weft::random::Seed RootSeed() {
  return absl::MakeUint128(uint64_t{1} << 32, 20261124);
}

// One replicate of a small simulation study: the mean and spread of n
// normal draws, plus an integer draw and a uniform, from the task's stream.
std::vector<double> Replicate(const weft::random::Seed& root, uint64_t index,
                              int64_t n) {
  weft::random::Generator<weft::random::PCG64> rng =
      weft::random::Stream(root, index);
  std::vector<double> x = rng.normal(0.0, 1.0, static_cast<size_t>(n));
  double mean = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  std::this_thread::sleep_for(5ms);  // long enough to kill a worker mid-run
  return {mean, std::sqrt(ss / n), static_cast<double>(rng.integers(0, 1000)),
          rng.uniform(-1.0, 1.0)};
}
WEFT_REMOTE(Replicate);

std::vector<std::vector<double>> Study() {
  std::vector<uint64_t> indices(kTasks);
  std::iota(indices.begin(), indices.end(), 0);
  return weft::get(
      weft::map(Replicate, std::vector<weft::random::Seed>(kTasks, RootSeed()),
                indices, std::vector<int64_t>(kTasks, 1000)),
      120s);
}

// Bitwise equality, so -0.0 and NaN payloads count too.
bool SameBits(const std::vector<std::vector<double>>& a,
              const std::vector<std::vector<double>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size() ||
        std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(double))) {
      return false;
    }
  }
  return true;
}

TEST(RandomClusterTest, SameNumbersOnEveryClusterShape) {
  std::vector<std::vector<double>> embedded;
  {
    weft::Client client = weft::Client::Local(2);
    embedded = Study();
  }
  ASSERT_EQ(embedded.size(), static_cast<size_t>(kTasks));
  std::vector<std::vector<double>> direct;  // Plain calls, no runtime.
  for (uint64_t i = 0; i < kTasks; ++i) {
    direct.push_back(Replicate(RootSeed(), i, 1000));
  }
  EXPECT_TRUE(SameBits(embedded, direct)) << "embedded";
  {
    weft::LocalCluster one(1);
    EXPECT_TRUE(SameBits(Study(), embedded)) << "1 worker";
  }
  {
    weft::LocalCluster three(3);
    EXPECT_TRUE(SameBits(Study(), embedded)) << "3 workers";
    // Again, with a worker killed while the study runs: its tasks are
    // retried elsewhere and draw the very same numbers.
    std::thread killer([&three] {
      std::this_thread::sleep_for(20ms);
      ::kill(three.worker_pids()[0], SIGKILL);
    });
    std::vector<std::vector<double>> after_death = Study();
    killer.join();
    EXPECT_TRUE(SameBits(after_death, embedded)) << "after a worker died";
  }
}

}  // namespace
