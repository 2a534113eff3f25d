// Copyright 2026 The weft Authors.
//
// EmbeddedRuntime: runs tasks on a pool of threads inside this process, each
// task on a Boost fiber, so a task blocked in get() yields its thread to
// other tasks. Values are moved between tasks, never serialized.

#ifndef WEFT_CORE_WEFT_INTERNAL_EMBEDDED_RUNTIME_H_
#define WEFT_CORE_WEFT_INTERNAL_EMBEDDED_RUNTIME_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "boost/fiber/condition_variable.hpp"
#include "weft/internal/embedded_actors.h"
#include "weft/internal/mutex.h"
#include "weft/internal/runtime.h"
#include "weft/internal/task_context.h"

namespace weft::internal {

class EmbeddedRuntime final : public Runtime {
 public:
  // Starts `threads` worker threads (at least 1).
  explicit EmbeddedRuntime(int threads);
  // Fails every task that has not started (ErrorKind::kShutdown), lets
  // running tasks finish, and joins the threads.
  ~EmbeddedRuntime() override;

  // The client tasks use for nested calls (remote(), get() inside a task);
  // while empty they use ClientImpl::Current()'s fallbacks. Thread-safe: a
  // worker that rejoins a scheduler swaps it while tasks run.
  void set_client(std::weak_ptr<ClientImpl> client) {
    MutexLock lock(&client_mu_);
    client_ = std::move(client);
  }

  // Told, on the task's own thread, when a task starts or stops waiting in
  // get()/wait() (a worker forwards this to the scheduler, which then lets
  // the task's cpus serve other tasks). REQUIRES: set before any Submit.
  using BlockingObserver = std::function<void(uint64_t task_id, bool blocked)>;
  void set_blocking_observer(BlockingObserver observer) {
    blocking_observer_ = std::move(observer);
  }

  // Never fails: every task is run here, whatever its function (Schedule).
  absl::StatusOr<std::shared_ptr<ObjectState>> Submit(TaskSpec spec) override;
  // Submit, for callers that hold an EmbeddedRuntime (a worker's executor):
  // returns the (pending) state of the task's result; its failures arrive
  // through that state.
  std::shared_ptr<ObjectState> Schedule(TaskSpec spec);
  // Never fails: the value is kept as it is, not serialized.
  absl::StatusOr<std::shared_ptr<ObjectState>> Put(PutSpec spec) override;
  int num_slots() const override { return num_threads_; }
  // The process itself is the one worker.
  absl::StatusOr<std::vector<WorkerStatus>> Workers() override;
  absl::Status WaitForWorkers(int n,
                              std::chrono::milliseconds timeout) override;
  absl::StatusOr<std::vector<std::shared_ptr<ObjectState>>> RunOnAllWorkers(
      TaskSpec spec) override;
  absl::StatusOr<std::shared_ptr<ObjectState>> Broadcast(
      PutSpec spec) override {
    return Put(std::move(spec));
  }
  // Records every task run (worker 0, thread = the pool thread) while the
  // reader lives; costs one atomic load per task while none does. A reader
  // keeps at most kMaxRecordedEvents unread events and counts the rest as
  // dropped.
  absl::StatusOr<std::unique_ptr<EventReader>> OpenEvents() override;
  static constexpr size_t kMaxRecordedEvents = 1 << 20;

  // The index (0 .. threads-1) of the pool thread the caller runs on, or
  // -1 if it is not a pool thread of any EmbeddedRuntime.
  static int CurrentThread();

  // Actors (EmbeddedActors): each with threads of its own, holding its
  // num_cpus of this runtime's slots while it lives.
  absl::StatusOr<std::shared_ptr<ObjectState>> CreateActor(
      ActorSpec spec) override;
  absl::StatusOr<std::shared_ptr<ObjectState>> SubmitActorCall(
      uint64_t actor, const std::shared_ptr<ObjectState>& anchor,
      TaskSpec spec) override;
  absl::StatusOr<ActorStatus> GetActorStatus(uint64_t actor) override;
  absl::StatusOr<FoundActor> LookupActor(const std::string& name) override;
  absl::StatusOr<bool> KillActor(uint64_t actor) override;

  // The client handed to tasks (may be empty).
  std::shared_ptr<ClientImpl> client() const {
    MutexLock lock(&client_mu_);
    return client_.lock();
  }

 private:
  class Task;
  class Context;
  class Recorder;
  struct ThreadState;
  using Queue = std::map<int, std::deque<std::shared_ptr<Task>>,
                         std::greater<int>>;

  void Enqueue(std::shared_ptr<Task> task);
  void ThreadMain(int index);
  // Serves the ready queue on the calling fiber. The primary runner of a
  // thread returns only at shutdown; extra runners (started while tasks on
  // this thread are blocked) return once they are surplus.
  void RunnerLoop(ThreadState& ts, bool primary);
  void Execute(Task& task, ThreadState& ts);
  void Record(const Task& task, const ThreadState& ts, int64_t start_us,
              const std::shared_ptr<const ErrorInfo>& error);
  void SpawnRunner(ThreadState& ts);
  void ReleaseSlots(int cpus);
  void AcquireSlots(int cpus);
  // An actor takes `cpus` slots for its life (EmbeddedActors), returned
  // with ReleaseSlots.
  void HoldSlots(int cpus) { AcquireSlots(cpus); }
  friend class EmbeddedActors;

  // Constant after construction.
  const int num_threads_;
  mutable Mutex client_mu_;
  std::weak_ptr<ClientImpl> client_ ABSL_GUARDED_BY(client_mu_);
  BlockingObserver blocking_observer_;

  Mutex mu_;
  boost::fibers::condition_variable_any work_cv_;
  Queue queue_ ABSL_GUARDED_BY(mu_);
  int free_slots_ ABSL_GUARDED_BY(mu_);
  int idle_runners_ ABSL_GUARDED_BY(mu_) = 0;
  // A runner was notified and has not woken yet.
  bool wakeup_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;

  std::vector<std::thread> threads_;
  // Created after the threads; stopped first.
  std::unique_ptr<EmbeddedActors> actors_;

  // Open readers (OpenEvents), and how many: read without the lock on
  // every task.
  std::atomic<int> num_recorders_{0};
  Mutex recorders_mu_;
  std::vector<Recorder*> recorders_ ABSL_GUARDED_BY(recorders_mu_);
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_EMBEDDED_RUNTIME_H_
