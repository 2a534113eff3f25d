// Copyright 2026 The weft Authors.

#include "weft/internal/embedded_runtime.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <utility>

#include "boost/context/protected_fixedsize_stack.hpp"
#include "boost/fiber/fiber.hpp"
#include "boost/fiber/operations.hpp"
#include "weft/internal/error_info.h"
#include "weft/internal/task_context.h"

namespace weft::internal {
namespace {

// Stack of the extra runner fibers started while a task blocks. Tasks run
// on the primary runner (the thread's own 8 MiB stack) unless they were
// picked up while another task on the same thread waits.
constexpr size_t kRunnerStackBytes = 1 << 20;

// How often an idle runner yields its thread, re-checking the queue, before
// it sleeps.
constexpr int kIdleYields = 8;

enum TaskPhase : int { kWaiting, kQueued, kRunning, kFinished };

// The pool thread index of this thread (CurrentThread()).
thread_local int current_thread = -1;

}  // namespace

// Per worker thread; touched only by fibers of that thread, which never run
// at the same time, so no lock is needed.
struct EmbeddedRuntime::ThreadState {
  int index = 0;    // which pool thread
  int runners = 1;  // runner fibers alive on this thread (incl. primary)
  int blocked = 0;  // of those, how many are inside a blocked task
};

// An open EventReader: the runtime appends to it as tasks finish.
class EmbeddedRuntime::Recorder final : public EventReader {
 public:
  explicit Recorder(EmbeddedRuntime* runtime) : runtime_(runtime) {
    MutexLock lock(&runtime_->recorders_mu_);
    runtime_->recorders_.push_back(this);
    runtime_->num_recorders_.fetch_add(1);
  }
  ~Recorder() override {
    MutexLock lock(&runtime_->recorders_mu_);
    std::erase(runtime_->recorders_, this);
    runtime_->num_recorders_.fetch_sub(1);
  }

  absl::Status Read(EventBatch& into) override {
    std::vector<TaskRunEvent> tasks;
    uint64_t dropped;
    {
      MutexLock lock(&mu_);
      tasks.swap(tasks_);
      dropped = dropped_;
      dropped_ = 0;
    }
    into.tasks.insert(into.tasks.end(), std::make_move_iterator(tasks.begin()),
                      std::make_move_iterator(tasks.end()));
    into.dropped += dropped;
    return absl::OkStatus();
  }

  void Add(const TaskRunEvent& event) {
    MutexLock lock(&mu_);
    if (tasks_.size() >= kMaxRecordedEvents) {
      ++dropped_;
    } else {
      tasks_.push_back(event);
    }
  }

 private:
  EmbeddedRuntime* const runtime_;
  Mutex mu_;
  std::vector<TaskRunEvent> tasks_ ABSL_GUARDED_BY(mu_);
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

class EmbeddedRuntime::Task final
    : public ReadyListener,
      public Producer,
      public std::enable_shared_from_this<Task> {
 public:
  Task(EmbeddedRuntime* runtime, TaskSpec spec,
       std::shared_ptr<ObjectState> result, int cpus)
      : runtime_(runtime),
        spec_(std::move(spec)),
        result_(std::move(result)),
        id_(result_->id()),
        cpus_(cpus) {}

  // Registers with every pending dependency; enqueues when none is pending.
  void Start() {
    unresolved_.store(static_cast<int>(spec_.deps.size()) + 1);
    for (const auto& dep : spec_.deps) {
      if (!dep->AddListener(shared_from_this())) OnReady(*dep);
    }
    Resolved();  // the "+1" above: registration is complete
  }

  void OnReady(ObjectState& dep) override {
    if (std::shared_ptr<const ErrorInfo> error = dep.error()) {
      Finish(std::move(error));  // fails at once with the root cause
    }
    Resolved();
  }

  // Cancels the task unless it finished, and with it the tasks it
  // submitted (which may be on another runtime: a worker's children are
  // cluster tasks).
  void Cancel() override {
    if (!Finish(MakeError(ErrorKind::kCancelled, spec_.name, key(),
                          "cancelled by the user"))) {
      return;
    }
    std::vector<std::weak_ptr<ObjectState>> children;
    {
      MutexLock lock(&mu_);
      cancelled_ = true;
      children.swap(children_);
    }
    for (const auto& weak : children) {
      if (std::shared_ptr<ObjectState> child = weak.lock()) {
        child->Cancel(/*wait=*/false);
      }
    }
  }

  bool cancelled() {
    MutexLock lock(&mu_);
    return cancelled_;
  }

  // The running task submitted `child`. A cancelled task's late children
  // are cancelled at once.
  void AddChild(const std::shared_ptr<ObjectState>& child) {
    {
      MutexLock lock(&mu_);
      if (!cancelled_) {
        // A long-running parent may submit many children: drop the
        // finished ones whenever the list doubles.
        if (children_.size() >= 2 * children_kept_) {
          std::erase_if(children_, [](const std::weak_ptr<ObjectState>& c) {
            return c.expired();
          });
          children_kept_ = std::max<size_t>(children_.size(), 8);
        }
        children_.push_back(child);
        return;
      }
    }
    child->Cancel(/*wait=*/false);
  }

  // Completes the task with `error` unless it already finished; returns
  // whether it did. A running task goes on, but its result is discarded.
  bool Finish(std::shared_ptr<const ErrorInfo> error) {
    int phase = phase_.load();
    while (phase != kFinished && phase != kRunning &&
           !phase_.compare_exchange_weak(phase, kFinished)) {
    }
    if (std::shared_ptr<ObjectState> result = TakeResult()) {
      ObjectState::Publish(std::move(result), AnyValue(), std::move(error));
      return true;
    }
    return false;
  }

  // One dependency (or the registration itself) is settled.
  void Resolved() {
    if (unresolved_.fetch_sub(1) == 1) {
      int expected = kWaiting;
      if (phase_.compare_exchange_strong(expected, kQueued)) {
        runtime_->Enqueue(shared_from_this());
      }
    }
  }

  // Claims the task for running. False if it was cancelled or failed.
  bool BeginRun() {
    int expected = kQueued;
    return phase_.compare_exchange_strong(expected, kRunning);
  }

  // Runs the task (with its retries); returns the error it ended with, or
  // null if it succeeded. `before_publish`, if set, is called with that
  // outcome before the result is published (so that what it records is
  // there before anyone waiting on the result wakes).
  std::shared_ptr<const ErrorInfo> Run(
      const std::function<void(const std::shared_ptr<const ErrorInfo>&)>*
          before_publish = nullptr) {
    std::shared_ptr<const ErrorInfo> failure;
    const int attempts = std::max(0, spec_.options.retries) + 1;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      const bool last = attempt == attempts;
      try {
        AnyValue value = spec_.body->Run(last);
        phase_.store(kFinished);
        if (before_publish != nullptr) (*before_publish)(nullptr);
        if (auto result = TakeResult()) {
          ObjectState::Publish(std::move(result), std::move(value), nullptr);
        }
        break;
      } catch (const boost::context::detail::forced_unwind&) {
        throw;  // a fiber being torn down; not a task failure
      } catch (...) {
        if (last) {
          auto error = ErrorFromCurrentException(spec_.name, key());
          failure = error;
          phase_.store(kFinished);
          if (before_publish != nullptr) (*before_publish)(error);
          if (auto result = TakeResult()) {
            ObjectState::Publish(std::move(result), AnyValue(),
                                 std::move(error));
          }
        }
      }
    }
    // Let go of arguments and dependencies as soon as the task is done.
    spec_.body.reset();
    spec_.deps.clear();
    return failure;
  }

  // Computed on demand: formatting a key for every task costs more than
  // running a tiny one.
  std::string key() const { return MakeKey(spec_.name, id_); }
  const std::string& name() const { return spec_.name; }
  const std::string& function_name() const { return spec_.function_name; }
  int cpus() const { return cpus_; }
  uint64_t id() const { return id_; }
  int priority() const { return spec_.options.priority; }

 private:
  std::shared_ptr<ObjectState> TakeResult() {
    MutexLock lock(&mu_);
    return std::move(result_);
  }

  EmbeddedRuntime* const runtime_;
  TaskSpec spec_;
  Mutex mu_;
  std::shared_ptr<ObjectState> result_ ABSL_GUARDED_BY(mu_);
  // Tasks this one submitted while running, for Cancel().
  std::vector<std::weak_ptr<ObjectState>> children_ ABSL_GUARDED_BY(mu_);
  size_t children_kept_ ABSL_GUARDED_BY(mu_) = 8;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  const uint64_t id_;
  const int cpus_;
  std::atomic<int> unresolved_{0};
  std::atomic<int> phase_{kWaiting};
};

class EmbeddedRuntime::Context final : public TaskContext {
 public:
  Context(EmbeddedRuntime* runtime, ThreadState* ts, Task* task)
      : runtime_(runtime), ts_(ts), task_(task) {}

  std::string key() const override { return task_->key(); }
  int num_cpus() const override { return task_->cpus(); }
  bool cancelled() const override { return task_->cancelled(); }
  std::shared_ptr<ClientImpl> client() const override {
    MutexLock lock(&runtime_->client_mu_);
    return runtime_->client_.lock();
  }

  void BeginBlocking() override {
    if (runtime_->blocking_observer_) {
      runtime_->blocking_observer_(task_->id(), true);
    }
    runtime_->ReleaseSlots(task_->cpus());
    ++ts_->blocked;
    if (ts_->runners == ts_->blocked) runtime_->SpawnRunner(*ts_);
  }

  void EndBlocking() override {
    --ts_->blocked;
    runtime_->AcquireSlots(task_->cpus());
    if (runtime_->blocking_observer_) {
      runtime_->blocking_observer_(task_->id(), false);
    }
  }

  void AddChild(const std::shared_ptr<ObjectState>& child) override {
    task_->AddChild(child);
  }

 private:
  EmbeddedRuntime* const runtime_;
  ThreadState* const ts_;
  Task* const task_;
};

EmbeddedRuntime::EmbeddedRuntime(int threads)
    : num_threads_(std::max(1, threads)), free_slots_(num_threads_) {
  threads_.reserve(num_threads_);
  for (int i = 0; i < num_threads_; ++i) {
    threads_.emplace_back([this, i] {
      current_thread = i;
      ThreadMain(i);
    });
  }
  actors_ = std::make_unique<EmbeddedActors>(this, num_threads_);
}

EmbeddedRuntime::~EmbeddedRuntime() {
  // Actors first: a call still running may wait for tasks, which still run.
  actors_->Shutdown();
  Queue pending;
  {
    MutexLock lock(&mu_);
    shutdown_ = true;
    pending.swap(queue_);
    work_cv_.notify_all();
  }
  for (auto& [priority, tasks] : pending) {
    for (auto& task : tasks) {
      task->Finish(MakeError(ErrorKind::kShutdown, task->name(), task->key(),
                             "the runtime shut down before the task ran"));
    }
  }
  for (auto& t : threads_) t.join();
}

absl::StatusOr<std::shared_ptr<ObjectState>> EmbeddedRuntime::Submit(
    TaskSpec spec) {
  return Schedule(std::move(spec));
}

std::shared_ptr<ObjectState> EmbeddedRuntime::Schedule(TaskSpec spec) {
  const uint64_t id = spec.id != 0 ? spec.id : NewObjectId();
  auto result = std::make_shared<ObjectState>(id, spec.name);
  const int cpus = std::clamp(spec.options.num_cpus, 1, num_threads_);
  auto task = std::make_shared<Task>(this, std::move(spec), result, cpus);
  result->set_producer(task);
  task->Start();
  return result;
}

absl::StatusOr<std::shared_ptr<ObjectState>> EmbeddedRuntime::Put(
    PutSpec spec) {
  auto state = std::make_shared<ObjectState>(NewObjectId(), "put");
  state->SetValue(std::move(spec.value));
  return state;
}

absl::StatusOr<std::vector<WorkerStatus>> EmbeddedRuntime::Workers() {
  WorkerStatus self;
  self.id = 0;
  self.address = "local";
  self.host = "localhost";
  self.nthreads = num_threads_;
  self.pid = ::getpid();
  {
    MutexLock lock(&mu_);
    self.processing = num_threads_ - free_slots_;
    for (const auto& [priority, tasks] : queue_) self.processing += tasks.size();
  }
  return std::vector<WorkerStatus>{self};
}

absl::Status EmbeddedRuntime::WaitForWorkers(int n,
                                             std::chrono::milliseconds) {
  if (n <= 1) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "weft: the embedded runtime has one worker (this process); use a "
      "LocalCluster or Client::Connect for more");
}

absl::StatusOr<std::vector<std::shared_ptr<ObjectState>>>
EmbeddedRuntime::RunOnAllWorkers(TaskSpec spec) {
  return std::vector<std::shared_ptr<ObjectState>>{Schedule(std::move(spec))};
}

absl::StatusOr<std::shared_ptr<ObjectState>> EmbeddedRuntime::CreateActor(
    ActorSpec spec) {
  return actors_->Create(std::move(spec));
}

absl::StatusOr<std::shared_ptr<ObjectState>> EmbeddedRuntime::SubmitActorCall(
    uint64_t actor, const std::shared_ptr<ObjectState>& anchor, TaskSpec spec) {
  return actors_->Call(actor, anchor, std::move(spec));
}

absl::StatusOr<ActorStatus> EmbeddedRuntime::GetActorStatus(uint64_t actor) {
  return actors_->Status(actor);
}

absl::StatusOr<FoundActor> EmbeddedRuntime::LookupActor(
    const std::string& name) {
  return actors_->Lookup(name);
}

absl::StatusOr<bool> EmbeddedRuntime::KillActor(uint64_t actor) {
  return actors_->Kill(actor);
}

void EmbeddedRuntime::Enqueue(std::shared_ptr<Task> task) {
  bool rejected = false;
  {
    MutexLock lock(&mu_);
    if (shutdown_) {
      rejected = true;
    } else {
      queue_[task->priority()].push_back(task);
      // One wake-up at a time: the woken runner drains what arrives while
      // it gets going, so a burst of submissions costs one wake, not many.
      if (idle_runners_ > 0 && !wakeup_pending_) {
        wakeup_pending_ = true;
        work_cv_.notify_one();
      }
    }
  }
  if (rejected) {
    task->Finish(MakeError(ErrorKind::kShutdown, task->name(), task->key(),
                           "the runtime shut down before the task ran"));
  }
}

int EmbeddedRuntime::CurrentThread() { return current_thread; }

absl::StatusOr<std::unique_ptr<EventReader>> EmbeddedRuntime::OpenEvents() {
  return std::make_unique<Recorder>(this);
}

void EmbeddedRuntime::ThreadMain(int index) {
  ThreadState ts;
  ts.index = index;
  RunnerLoop(ts, /*primary=*/true);
  // Extra runners may still be finishing blocked tasks on this thread.
  while (ts.runners > 1) {
    boost::this_fiber::sleep_for(std::chrono::milliseconds(1));
  }
}

void EmbeddedRuntime::SpawnRunner(ThreadState& ts) {
  ++ts.runners;
  boost::fibers::fiber(boost::fibers::launch::post, std::allocator_arg,
                       boost::context::protected_fixedsize_stack(
                           kRunnerStackBytes),
                       [this, &ts] { RunnerLoop(ts, /*primary=*/false); })
      .detach();
}

void EmbeddedRuntime::RunnerLoop(ThreadState& ts, bool primary) {
  while (true) {
    std::shared_ptr<Task> task;
    {
      UniqueLock lock(mu_);
      while (true) {
        if (shutdown_) {
          if (!primary) --ts.runners;
          return;
        }
        if (!queue_.empty()) {
          auto& front = queue_.begin()->second;
          if (front.front()->cpus() <= free_slots_) {
            task = std::move(front.front());
            front.pop_front();
            if (front.empty()) queue_.erase(queue_.begin());
            free_slots_ -= task->cpus();
            // More work and sleeping runners: pass the wake-up on, or the
            // second task of a burst would wait for this one to finish.
            if (!queue_.empty() && idle_runners_ > 0 && !wakeup_pending_) {
              wakeup_pending_ = true;
              work_cv_.notify_one();
            }
            break;
          }
        }
        if (!primary && ts.runners - ts.blocked > 1) {
          // Nothing to run and this thread has another free runner: retire.
          // Pass on a wake-up this runner may have consumed.
          --ts.runners;
          if (idle_runners_ > 0 && !queue_.empty()) {
            wakeup_pending_ = true;
            work_cv_.notify_one();
          }
          return;
        }
        // Before sleeping, give the submitting thread a few chances to add
        // work: a sleep and a wake cost far more than a tiny task.
        bool found = false;
        for (int spin = 0; spin < kIdleYields && !found; ++spin) {
          lock.unlock();
          std::this_thread::yield();
          lock.lock();
          found = shutdown_ || !queue_.empty();
        }
        if (found) continue;
        ++idle_runners_;
        work_cv_.wait(lock);
        --idle_runners_;
        wakeup_pending_ = false;
      }
    }
    Execute(*task, ts);
    ReleaseSlots(task->cpus());
  }
}

void EmbeddedRuntime::Execute(Task& task, ThreadState& ts) {
  if (!task.BeginRun()) return;  // cancelled while queued
  Context context(this, &ts, &task);
  TaskContext::SetCurrent(&context);
  if (num_recorders_.load(std::memory_order_relaxed) == 0) {
    task.Run();
  } else {
    const int64_t start_us = UnixMicrosNow();
    const std::function<void(const std::shared_ptr<const ErrorInfo>&)>
        record = [&](const std::shared_ptr<const ErrorInfo>& error) {
          Record(task, ts, start_us, error);
        };
    task.Run(&record);
  }
  TaskContext::SetCurrent(nullptr);
}

void EmbeddedRuntime::Record(const Task& task, const ThreadState& ts,
                             int64_t start_us,
                             const std::shared_ptr<const ErrorInfo>& error) {
  TaskRunEvent event;
  event.id = task.id();
  event.name = task.name();
  event.function =
      task.function_name().empty() ? task.name() : task.function_name();
  event.thread = ts.index;
  event.start_us = start_us;
  event.end_us = UnixMicrosNow();
  if (error != nullptr) {
    event.failed = true;
    event.exception_type = error->exception_type;
    event.message = error->message;
  }
  MutexLock lock(&recorders_mu_);
  for (Recorder* r : recorders_) r->Add(event);
}

void EmbeddedRuntime::ReleaseSlots(int cpus) {
  MutexLock lock(&mu_);
  free_slots_ += cpus;
  if (idle_runners_ > 0 && !queue_.empty()) {
    wakeup_pending_ = true;
    work_cv_.notify_all();
  }
}

void EmbeddedRuntime::AcquireSlots(int cpus) {
  // A resumed task takes its slots back at once; if that overcommits, new
  // tasks wait until enough slots are free again.
  MutexLock lock(&mu_);
  free_slots_ -= cpus;
}

}  // namespace weft::internal
