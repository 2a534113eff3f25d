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

// Options for an actor (weft/actor.h). Aggregate, as TaskOptions:
//   auto ps = weft::actor<ParameterServer>({.name = "ps", .max_restarts = 1})(dim);
struct ActorOptions {
  // Other programs on the same cluster find a named actor with
  // weft::get_actor<C>(name). Unique among live actors; empty: unnamed.
  std::string name = {};
  // CPU slots the actor holds on its worker for its whole life (tasks get
  // the others). 0: it holds none. Clamped as TaskOptions::num_cpus is.
  int num_cpus = 1;
  // When its worker dies, the actor is constructed again on another worker
  // up to this many times; its state is lost (the constructor runs again
  // with the same arguments). -1: no limit.
  int max_restarts = 0;
  // A call that was running, or handed to the worker, when the actor's
  // worker died runs again on the restarted actor up to this many times;
  // then it fails with ActorDiedError. Calls not yet handed over wait for
  // the restart either way. -1: no limit.
  int max_task_retries = 0;
  // Calls the actor runs at once (a class with more than 1 does its own
  // locking), 1..kMaxConcurrency. 1: one call at a time.
  int max_concurrency = 1;

  // The largest max_concurrency (an actor has that many threads at most).
  static constexpr int kMaxConcurrency = 1024;

  friend bool operator==(const ActorOptions&, const ActorOptions&) = default;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_OPTIONS_H_
