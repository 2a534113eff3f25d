// Copyright 2026 The weft Authors.
//
// Client: a connection to a runtime, and the calls users make on it. Every
// call is also a free function in weft.h that uses the current client.

#ifndef WEFT_CORE_WEFT_CLIENT_H_
#define WEFT_CORE_WEFT_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "weft/delayed.h"
#include "weft/errors.h"
#include "weft/internal/client_impl.h"
#include "weft/internal/resolve.h"
#include "weft/internal/throw_status.h"
#include "weft/internal/waiting.h"
#include "weft/object_ref.h"
#include "weft/options.h"
#include "weft/worker_status.h"

namespace weft {

using Duration = std::chrono::steady_clock::duration;

template <class C>
class Actor;
template <class C>
class ActorClass;

// What wait() returns: the references split by readiness, each list in the
// order the references were given.
template <class T>
struct WaitResult {
  std::vector<ObjectRef<T>> ready;
  std::vector<ObjectRef<T>> not_ready;
};

// Yields references as their tasks complete (successfully or not).
// Iterate with range-for, or call next(). Not thread-safe; one consumer.
template <class T>
class AsCompleted {
 public:
  // The next completed reference; std::nullopt when all were handed out.
  // Blocks (fiber-aware) until one completes.
  std::optional<ObjectRef<T>> next() { return NextUntil(std::nullopt); }
  // As next(), but throws TimeoutError if none completes within `timeout`.
  std::optional<ObjectRef<T>> next(Duration timeout) {
    return NextUntil(std::chrono::steady_clock::now() + timeout);
  }

  class iterator {
   public:
    using value_type = ObjectRef<T>;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(AsCompleted* owner) : owner_(owner) { ++*this; }
    const ObjectRef<T>& operator*() const { return *current_; }
    iterator& operator++() {
      current_ = owner_->next();
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const {
      return !current_.has_value();
    }

   private:
    AsCompleted* owner_ = nullptr;
    std::optional<ObjectRef<T>> current_;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  // Made by Client::as_completed and weft::as_completed (weft/api.h).
  friend class Client;
  template <class U>
  friend AsCompleted<U> as_completed(const std::vector<ObjectRef<U>>& refs);
  explicit AsCompleted(const std::vector<ObjectRef<T>>& refs)
      : queue_(std::make_shared<internal::CompletionQueue>()) {
    std::vector<std::shared_ptr<internal::ObjectState>> states;
    states.reserve(refs.size());
    for (const auto& r : refs) {
      states.push_back(internal::RefAccess::Required(r, "as_completed()"));
    }
    queue_->Watch(states);
  }

  std::optional<ObjectRef<T>> NextUntil(
      std::optional<internal::SteadyTime> deadline) {
    auto state = queue_->Next(deadline);
    if (state != nullptr) return internal::RefAccess::Make<T>(std::move(state));
    if (!queue_->exhausted()) {
      throw TimeoutError("weft: as_completed timed out");
    }
    return std::nullopt;
  }

  std::shared_ptr<internal::CompletionQueue> queue_;
};

// A function bound to a client and options; call it to submit a task.
template <class F>
class RemoteFunction {
 public:
  using Result = internal::Stored<internal::ResultOf<F>>;

  // Submits f(args...) and returns at once. Arguments follow the rules of
  // weft/internal/bind.h: ObjectRefs (and vectors of them) become
  // dependencies and the function receives their values.
  template <class... A>
  ObjectRef<Result> operator()(A&&... args) const {
    return client_->Call(f_, options_, 0, std::forward<A>(args)...);
  }

  // One task per element: f(a[i], b[i], ...). Inputs are ranges of equal
  // length (plain values or ObjectRefs). The load-balanced loop.
  // Throws std::invalid_argument if the lengths differ.
  template <class... In>
  std::vector<ObjectRef<Result>> map(const In&... inputs) const {
    return internal::MapInputs<ObjectRef<Result>>(
        client_->runtime(),
        [this](auto&&... args) {
          return client_->Call(f_, options_, 0,
                               std::forward<decltype(args)>(args)...);
        },
        inputs...);
  }

 private:
  friend class Client;  // Client::remote makes them
  RemoteFunction(std::shared_ptr<internal::ClientImpl> client, F f,
                 TaskOptions options)
      : client_(std::move(client)),
        f_(std::move(f)),
        options_(std::move(options)) {
    internal::CheckDeducible<F>();
  }

  std::shared_ptr<internal::ClientImpl> client_;
  F f_;
  TaskOptions options_;
};

// A handle to a runtime. Cheap to copy; copies share the runtime, which shuts
// down when the last handle (and the last task using it) is gone. Creating a
// client makes it the default for the free functions (as in Dask). All
// methods are thread-safe.
class Client {
 public:
  // An embedded runtime in this process with `threads` threads (0: one per
  // core). Throws UsageError if WEFT_REMOTE registered a name twice.
  static Client Local(int threads = 0);

  // Connects to a scheduler at "host:port" (e.g. one started with `weft
  // scheduler` or `weft cluster start`). An empty address means
  // $WEFT_SCHEDULER, else the address in the scheduler file beside the
  // token file (`weft scheduler` writes it once it listens; see
  // rpc/cluster_files.h), waiting for it within `timeout`. The token comes
  // from $WEFT_TOKEN, else `token_file`, else the default token file
  // (~/.weft/token; inside a SLURM job ~/.weft/slurm-JOBID/token), read
  // afresh at each attempt. Waits up to `timeout`
  // for a scheduler that is still starting (not listening yet, token file
  // not written yet, or the file holding an older token), so a program may
  // start at the same time as its cluster. Throws UsageError naming the
  // address and the reason if it cannot connect by then. Makes the client
  // the default.
  static Client Connect(const std::string& address = "",
                        const std::string& token_file = "",
                        std::chrono::milliseconds timeout =
                            std::chrono::seconds(10));

  // The client that free functions use: inside a task, the task's own; else
  // the most recently created live client; else a process-wide embedded one.
  static Client Current();

  // Makes this client the default for free functions.
  void make_default() const;

  // Number of task slots (threads, or worker threads across a cluster).
  int num_slots() const { return impl_->runtime().num_slots(); }

  // --- Workers -------------------------------------------------------------

  // The workers with host, threads and load (weft/worker_status.h). The
  // embedded runtime reports one worker: this process. Throws UsageError if
  // the scheduler cannot be reached, TimeoutError if it does not answer.
  std::vector<WorkerStatus> workers() const {
    return internal::ValueOrThrow(impl_->runtime().Workers());
  }

  // The URL of the cluster's web dashboard (docs/dashboard.md), e.g.
  // "http://127.0.0.1:8787/"; empty on the embedded runtime or when the
  // scheduler serves none. Throws UsageError if the scheduler cannot be
  // reached, TimeoutError if it does not answer.
  std::string dashboard_link() const {
    return internal::ValueOrThrow(impl_->runtime().DashboardLink());
  }

  // Blocks until `n` workers are connected. Throws TimeoutError with the
  // count reached.
  void wait_for_workers(int n, Duration timeout = std::chrono::seconds(60)) const;

  // Runs f(args...) once on every worker, now (ipyparallel's direct view),
  // and returns one result per worker. Throws TaskError if it failed on any.
  // On a cluster, f must be registered with WEFT_REMOTE.
  template <class F, class... A>
  auto run_on_all_workers(F&& f, A&&... args) const {
    using R = internal::Stored<internal::ResultOf<internal::DecayedFunction<F>>>;
    internal::DecayedFunction<F> fn = std::forward<F>(f);
    internal::TaskSpec spec =
        internal::MakeTaskSpec(fn, TaskOptions{}, std::forward<A>(args)...);
    spec.function_name = internal::RegisteredName(fn);
    spec.name = internal::FunctionName(fn);
    spec.id = internal::NewObjectId();
    std::vector<R> out;
    for (auto& state : internal::ValueOrThrow(
             impl_->runtime().RunOnAllWorkers(std::move(spec)))) {
      internal::AwaitState(*state, std::nullopt);
      out.push_back(internal::ReadyValue<R>(state));
    }
    return out;
  }

  // Places a copy of `value` on every worker (ipyparallel's push) and
  // returns a reference that tasks take as an argument without transfer.
  template <class T>
  ObjectRef<std::decay_t<T>> broadcast(T&& value) const {
    return internal::RefAccess::Make<std::decay_t<T>>(
        internal::ValueOrThrow(impl_->runtime().Broadcast(
            internal::ClientImpl::MakePutSpec(std::forward<T>(value)))));
  }

  // --- Eager tasks -------------------------------------------------------

  // remote(f)(args...) submits at once and returns an ObjectRef.
  template <class F>
  RemoteFunction<internal::DecayedFunction<F>> remote(
      F&& f, TaskOptions options = {}) const {
    return RemoteFunction<internal::DecayedFunction<F>>(
        impl_, std::forward<F>(f), std::move(options));
  }

  // Stores `value` in the runtime and returns a reference to it; tasks that
  // take the reference as an argument get the value. On a cluster, a value
  // that encodes to at most 64 KiB is kept by the scheduler (never lost
  // with a worker); a larger one goes to the least loaded worker (through
  // shared memory on the same host) and errs with kObjectLost if that
  // worker dies. Throws UsageError if the type cannot be serialized on a
  // cluster, or a large value finds no worker.
  template <class T>
  ObjectRef<std::decay_t<T>> put(T&& value) const {
    return impl_->Put(std::forward<T>(value));
  }

  // One task per input element; see RemoteFunction::map.
  template <class F, class... In>
  auto map(F&& f, const In&... inputs) const {
    return remote(std::forward<F>(f)).map(inputs...);
  }

  // --- Results -------------------------------------------------------------
  // These work on references from any client; see the free functions in
  // weft.h for their contracts.
  template <class T>
  T get(const ObjectRef<T>& ref) const;
  template <class T>
  T get(const ObjectRef<T>& ref, Duration timeout) const;
  template <class T>
  std::vector<T> get(const std::vector<ObjectRef<T>>& refs) const;
  template <class T>
  std::vector<T> get(const std::vector<ObjectRef<T>>& refs,
                     Duration timeout) const;
  template <class T>
  WaitResult<T> wait(const std::vector<ObjectRef<T>>& refs,
                     size_t num_ready, std::optional<Duration> timeout =
                                           std::nullopt) const;
  template <class T>
  AsCompleted<T> as_completed(const std::vector<ObjectRef<T>>& refs) const {
    return AsCompleted<T>(refs);
  }
  template <class T>
  bool cancel(const ObjectRef<T>& ref) const;

  // --- Actors (weft/actor.h) ---------------------------------------------

  // actor<C>(options)(args...) creates an actor on this client's runtime.
  template <class C>
  ActorClass<C> actor(ActorOptions options = {}) const;
  // The live actor named `name`; see weft::get_actor.
  template <class C>
  Actor<C> get_actor(const std::string& name) const;
  // Ends the actor; see weft::kill.
  template <class C>
  bool kill(const Actor<C>& actor) const;

  // --- Lazy graphs -------------------------------------------------------

  // Runs the graphs of `ds` once (shared nodes once) and returns their
  // values: one value for one argument, a std::tuple for several. Throws
  // TaskError for a failed task.
  template <class... T>
  auto compute(const Delayed<T>&... ds) const {
    static_assert(sizeof...(T) > 0, "weft: compute needs an argument");
    auto states =
        internal::SubmitGraph(*impl_, {internal::DelayedAccess::Node(ds)...});
    return [&]<size_t... I>(std::index_sequence<I...>) {
      std::tuple<ObjectRef<T>...> refs(
          internal::RefAccess::Make<T>(std::move(states[I]))...);
      states.clear();  // the refs above are now the only holders
      // With a progress bar.
      WaitAll({internal::RefAccess::State(std::get<I>(refs))...});
      if constexpr (sizeof...(T) == 1) {
        return Take(std::get<0>(std::move(refs)));
      } else {
        return std::tuple<T...>(Take(std::get<I>(std::move(refs)))...);
      }
    }(std::index_sequence_for<T...>{});
  }

  // Runs all graphs in `ds` once and returns their values in order.
  template <class T>
  std::vector<T> compute(const std::vector<Delayed<T>>& ds) const {
    std::vector<ObjectRef<T>> refs = persist(ds);
    WaitAll(States(refs));
    std::vector<T> out;
    out.reserve(refs.size());
    for (auto& r : refs) out.push_back(Take(std::move(r)));
    return out;
  }

  // Starts the graph of `d` and returns a reference to its result at once.
  template <class T>
  ObjectRef<T> persist(const Delayed<T>& d) const {
    return internal::RefAccess::Make<T>(
        internal::SubmitGraph(*impl_, {internal::DelayedAccess::Node(d)})[0]);
  }
  template <class T>
  std::vector<ObjectRef<T>> persist(const std::vector<Delayed<T>>& ds) const {
    std::vector<const internal::DelayedNode*> roots;
    roots.reserve(ds.size());
    for (const auto& d : ds) roots.push_back(internal::DelayedAccess::Node(d));
    std::vector<ObjectRef<T>> out;
    for (auto& s : internal::SubmitGraph(*impl_, roots)) {
      out.push_back(internal::RefAccess::Make<T>(std::move(s)));
    }
    return out;
  }

 private:
  friend class internal::ClientImpl;  // ClientImpl::Handle and Of
  explicit Client(std::shared_ptr<internal::ClientImpl> impl)
      : impl_(std::move(impl)) {}

  template <class T>
  static T Take(ObjectRef<T> ref) {
    const std::shared_ptr<internal::ObjectState>& state =
        internal::RefAccess::State(ref);
    internal::AwaitState(*state, std::nullopt);
    internal::ReadyValue<T>(state);  // throws on failure
    return state->template TakeOrCopy<T>(state);
  }
  template <class T>
  static std::vector<std::shared_ptr<internal::ObjectState>> States(
      const std::vector<ObjectRef<T>>& refs) {
    std::vector<std::shared_ptr<internal::ObjectState>> out;
    out.reserve(refs.size());
    for (const auto& r : refs) out.push_back(internal::RefAccess::State(r));
    return out;
  }
  static void WaitAll(
      const std::vector<std::shared_ptr<internal::ObjectState>>& states) {
    internal::WaitForAll(states, std::nullopt);
  }
  std::shared_ptr<internal::ClientImpl> impl_;
};

}  // namespace weft

#endif  // WEFT_CORE_WEFT_CLIENT_H_
