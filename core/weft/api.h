// Copyright 2026 The weft Authors.
//
// The task API that works on every runtime: delayed, compute, remote, get,
// put, wait, as_completed, map, cancel. Users include "weft/weft.h", which
// adds clusters; see there for an overview.

#ifndef WEFT_CORE_WEFT_API_H_
#define WEFT_CORE_WEFT_API_H_

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "weft/client.h"
#include "weft/delayed.h"
#include "weft/errors.h"
#include "weft/object_ref.h"
#include "weft/options.h"
#include "weft/registry.h"

namespace weft {

// --- Lazy calls --------------------------------------------------------------

// delayed(f)(args...) records a call and returns a Delayed at once.
template <class F>
internal::DelayedFunction<internal::DecayedFunction<F>> delayed(
    F&& f, TaskOptions options = {}) {
  return {std::forward<F>(f), std::move(options)};
}

// Runs the graphs once and returns the values (a tuple for several).
// Throws TaskError if a task failed.
template <class... T>
auto compute(const Delayed<T>&... ds) {
  return Client::Current().compute(ds...);
}
template <class T>
std::vector<T> compute(const std::vector<Delayed<T>>& ds) {
  return Client::Current().compute(ds);
}

// Starts the graph and returns a reference to its result at once.
template <class T>
ObjectRef<T> persist(const Delayed<T>& d) {
  return Client::Current().persist(d);
}
template <class T>
std::vector<ObjectRef<T>> persist(const std::vector<Delayed<T>>& ds) {
  return Client::Current().persist(ds);
}

// Graphviz DOT text of the graphs (render with `dot -Tpng`).
template <class... T>
std::string to_dot(const Delayed<T>&... ds) {
  return internal::GraphToDot({internal::DelayedAccess::Node(ds)...});
}
template <class T>
std::string to_dot(const std::vector<Delayed<T>>& ds) {
  std::vector<const internal::DelayedNode*> roots;
  for (const auto& d : ds) roots.push_back(internal::DelayedAccess::Node(d));
  return internal::GraphToDot(roots);
}

// Writes the DOT text to `path`. If `path` ends in .png, .svg or .pdf and
// Graphviz's `dot` is installed, renders it instead. Returns false (with a
// message on stderr) if the file could not be written or rendered.
bool visualize(const std::string& dot, const std::string& path);

// --- Eager calls -------------------------------------------------------------

// remote(f)(args...) submits a task now and returns an ObjectRef.
template <class F>
RemoteFunction<internal::DecayedFunction<F>> remote(F&& f,
                                                    TaskOptions options = {}) {
  return Client::Current().remote(std::forward<F>(f), std::move(options));
}

// Stores a value in the runtime; tasks may take the reference as argument.
template <class T>
ObjectRef<std::decay_t<T>> put(T&& value) {
  return Client::Current().put(std::forward<T>(value));
}

// One task per input element: f(a[i], b[i], ...).
template <class F, class... In>
auto map(F&& f, const In&... inputs) {
  return Client::Current().map(std::forward<F>(f), inputs...);
}

// Blocks until the value is ready and returns a copy of it. Throws
// TaskError (CancelledError if cancelled) if its task or one it depends on
// failed. Inside a task, the wait yields the task's slot to other tasks.
// Throws UsageError if `ref` is empty (default-constructed).
template <class T>
T get(const ObjectRef<T>& ref) {
  const std::shared_ptr<internal::ObjectState>& state =
      internal::RefAccess::Required(ref, "get()");
  internal::AwaitState(*state, std::nullopt);
  return internal::ReadyValue<T>(state);
}

// As get(ref), but throws TimeoutError after `timeout` (waiting for the
// task, or for a copy of its value to fetch); the task goes on.
template <class T>
T get(const ObjectRef<T>& ref, Duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::shared_ptr<internal::ObjectState>& state =
      internal::RefAccess::Required(ref, "get()");
  if (!internal::AwaitState(*state, deadline)) internal::ThrowTimeout(*state);
  return internal::ReadyValue<T>(state, deadline);
}

namespace internal {
template <class T>
std::vector<T> GetAll(const std::vector<ObjectRef<T>>& refs,
                      std::optional<SteadyTime> deadline) {
  std::vector<std::shared_ptr<ObjectState>> states;
  states.reserve(refs.size());
  for (const auto& r : refs) states.push_back(RefAccess::Required(r, "get()"));
  if (!WaitForAll(states, deadline)) {
    for (const auto& s : states) {
      if (!s->done()) ThrowTimeout(*s);
    }
  }
  std::vector<T> out;
  out.reserve(refs.size());
  for (const auto& s : states) out.push_back(ReadyValue<T>(s, deadline));
  return out;
}
}  // namespace internal

// Values of all refs, in order, with a progress bar on a terminal. Throws the
// first failure in list order.
template <class T>
std::vector<T> get(const std::vector<ObjectRef<T>>& refs) {
  return internal::GetAll(refs, std::nullopt);
}
template <class T>
std::vector<T> get(const std::vector<ObjectRef<T>>& refs, Duration timeout) {
  return internal::GetAll(refs, std::chrono::steady_clock::now() + timeout);
}

// Waits until `num_ready` of `refs` are ready (value or failure) or the
// timeout passes, and splits them. Never throws for task failures.
template <class T>
WaitResult<T> wait(const std::vector<ObjectRef<T>>& refs, size_t num_ready,
                   std::optional<Duration> timeout = std::nullopt) {
  std::vector<std::shared_ptr<internal::ObjectState>> states;
  states.reserve(refs.size());
  for (const auto& r : refs) {
    states.push_back(internal::RefAccess::Required(r, "wait()"));
  }
  std::optional<internal::SteadyTime> deadline;
  if (timeout.has_value()) deadline = std::chrono::steady_clock::now() + *timeout;
  internal::WaitForCount(states, num_ready, deadline);
  WaitResult<T> result;
  for (const auto& r : refs) {
    (r.ready() ? result.ready : result.not_ready).push_back(r);
  }
  return result;
}

// Yields refs in completion order: for (auto& r : as_completed(refs)) ...
template <class T>
AsCompleted<T> as_completed(const std::vector<ObjectRef<T>>& refs) {
  return AsCompleted<T>(refs);
}

// Cancels the task behind `ref`, every task waiting on it, and the tasks a
// running one submitted (recursively). A task that has not started never
// runs; a running one goes on, but its result is discarded. get() then
// throws CancelledError. On a cluster, waits for the scheduler's answer
// (at most 30 s). Returns true if the object ends up cancelled, false if
// it already had its value or error. Throws UsageError if `ref` is empty.
template <class T>
bool cancel(const ObjectRef<T>& ref) {
  return internal::RefAccess::Required(ref, "cancel()")->Cancel(/*wait=*/true);
}

// --- Inside a task -----------------------------------------------------------

namespace this_task {
// True when called from code running as a weft task.
bool active();
// CPU slots the running task holds (TaskOptions::num_cpus); 1 outside tasks.
int num_cpus();
// The running task's key; empty outside tasks.
std::string key();
// True once the running task's result will be discarded: weft::cancel on
// it or on the task that submitted it, or (on a cluster) the scheduler took
// the task back. A long task may check this and return early. False outside
// tasks.
bool cancelled();
}  // namespace this_task

// --- Client methods defined in terms of the free functions -----------------

template <class T>
T Client::get(const ObjectRef<T>& ref) const {
  return weft::get(ref);
}
template <class T>
T Client::get(const ObjectRef<T>& ref, Duration timeout) const {
  return weft::get(ref, timeout);
}
template <class T>
std::vector<T> Client::get(const std::vector<ObjectRef<T>>& refs) const {
  return weft::get(refs);
}
template <class T>
std::vector<T> Client::get(const std::vector<ObjectRef<T>>& refs,
                           Duration timeout) const {
  return weft::get(refs, timeout);
}
template <class T>
WaitResult<T> Client::wait(const std::vector<ObjectRef<T>>& refs,
                           size_t num_ready,
                           std::optional<Duration> timeout) const {
  return weft::wait(refs, num_ready, timeout);
}
template <class T>
bool Client::cancel(const ObjectRef<T>& ref) const {
  return weft::cancel(ref);
}

}  // namespace weft

#endif  // WEFT_CORE_WEFT_API_H_
