// Copyright 2026 The weft Authors.
//
// Per-call task options, for remote(f, options) and delayed(f, options).

#ifndef WEFT_CORE_WEFT_OPTIONS_H_
#define WEFT_CORE_WEFT_OPTIONS_H_

#include <string>

namespace weft {

// Options for one task. Aggregate, so callers write designated initializers:
//   weft::remote(Fit, {.name = "fit", .retries = 2, .num_cpus = 4})(x);
struct TaskOptions {
  // A readable name for progress, errors and DOT output. Empty: the
  // function's registered name (or "lambda"/its type for unregistered ones).
  std::string name = {};
  // How many times to re-run the task after it throws. 0: run once.
  int retries = 0;
  // CPU slots the task occupies while it runs (threaded code inside a task).
  // Clamped to the number of slots. The task reads it with
  // weft::this_task::num_cpus() to size its own thread pools.
  int num_cpus = 1;
  // Larger runs earlier among ready tasks. Ties run in submission order.
  int priority = 0;
  // delayed() only: a pure function's result depends only on its arguments,
  // so identical calls share one graph node (Dask's deterministic keys).
  // Off by default, as in Dask: a random draw must not be deduplicated.
  bool pure = false;

  friend bool operator==(const TaskOptions&, const TaskOptions&) = default;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_OPTIONS_H_
