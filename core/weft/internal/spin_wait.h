// Copyright 2026 The weft Authors.
//
// Spin-then-park for threads that wait on results (get(), wait(),
// compute()): a caller first polls for a short budget, yielding the CPU on
// every poll, and only then sleeps on a condition variable.
//
// Why: on virtual machines a sleeping thread, and the idle vCPU under it,
// take tens of microseconds to wake (an inter-processor interrupt through
// the hypervisor). For a round trip of one tiny task that wake-up was the
// largest single cost (bench/history.md, W2). OpenMP runtimes do the same
// (OMP_WAIT_POLICY, GOMP_SPINCOUNT, KMP_BLOCKTIME). Each poll calls
// sched_yield(), so a waiter never holds a CPU that another runnable thread
// wants; its cost is at most the budget in CPU time per blocking wait.

#ifndef WEFT_CORE_WEFT_INTERNAL_SPIN_WAIT_H_
#define WEFT_CORE_WEFT_INTERNAL_SPIN_WAIT_H_

#include <chrono>
#include <optional>

#include "weft/internal/task_context.h"

namespace weft::internal {

// The budget given by WEFT_SPIN_US: microseconds, 0 disables spinning,
// values above 10,000 are capped; unset or unparsable means the default,
// 500. Pure; for tests.
std::chrono::microseconds ParseSpinBudget(const char* env);

// ParseSpinBudget(getenv("WEFT_SPIN_US")), read once. Thread-safe.
std::chrono::microseconds SpinBudget();

// Yields the processor once (sched_yield).
void YieldProcessor();

// Polls `ready` between yields until it returns true, the spin budget is
// spent, or `deadline` passes, polling once more at the end (so at least
// twice). Returns whether `ready` returned true.
// Returns false at once on a task's thread, which may be needed to run what
// the task awaits, and when the budget is 0.
template <class Ready>
bool SpinUntil(Ready&& ready,
               std::optional<std::chrono::steady_clock::time_point> deadline) {
  const std::chrono::microseconds budget = SpinBudget();
  if (budget.count() == 0 || TaskContext::Current() != nullptr) return false;
  auto until = std::chrono::steady_clock::now() + budget;
  if (deadline.has_value() && *deadline < until) until = *deadline;
  do {
    if (ready()) return true;
    YieldProcessor();
  } while (std::chrono::steady_clock::now() < until);
  return ready();
}

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_SPIN_WAIT_H_
