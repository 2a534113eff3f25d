// Copyright 2026 The weft Authors.

#include "weft/internal/spin_wait.h"

#include <sched.h>

#include <cstdlib>

#include "absl/strings/numbers.h"

namespace weft::internal {

namespace {
constexpr int64_t kDefaultSpinMicros = 500;
constexpr int64_t kMaxSpinMicros = 10'000;
}  // namespace

std::chrono::microseconds ParseSpinBudget(const char* env) {
  int64_t micros = kDefaultSpinMicros;
  if (env != nullptr && !absl::SimpleAtoi(env, &micros)) {
    micros = kDefaultSpinMicros;
  }
  if (micros < 0) micros = 0;
  if (micros > kMaxSpinMicros) micros = kMaxSpinMicros;
  return std::chrono::microseconds(micros);
}

std::chrono::microseconds SpinBudget() {
  static const std::chrono::microseconds budget =
      ParseSpinBudget(std::getenv("WEFT_SPIN_US"));
  return budget;
}

void YieldProcessor() { sched_yield(); }

}  // namespace weft::internal
