// Copyright 2026 The weft Authors.
//
// ActorExecutor: the threads that run one actor's calls, in order. Used by
// the embedded runtime and by workers (weft/actor.h).

#ifndef WEFT_CORE_WEFT_INTERNAL_ACTOR_EXECUTOR_H_
#define WEFT_CORE_WEFT_INTERNAL_ACTOR_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "weft/internal/mutex.h"
#include "weft/internal/task_context.h"

namespace weft::internal {

// Thread-safe. Jobs start in the order they were posted: a job starts only
// after every job posted before it has started, and up to `max_threads`
// run at once. A job that is not Ready() holds back the ones behind it.
// Threads are started as jobs need them, up to `max_threads`.
class ActorExecutor {
 public:
  class Job {
   public:
    virtual ~Job() = default;
    // Whether the job may start now (e.g. its inputs are ready). Called
    // with the executor's lock held: cheap, never blocking, never calling
    // back into the executor.
    virtual bool Ready() const { return true; }
    // Runs the job on an executor thread.
    virtual void Run() = 0;
    // The job will never run (the executor stopped). Called once, on the
    // thread that called Stop() or Post(), without the executor's lock.
    virtual void Drop() {}
  };

  // REQUIRES: max_threads >= 1.
  explicit ActorExecutor(int max_threads);
  // Stops and joins. REQUIRES: not called on one of its threads.
  ~ActorExecutor();
  ActorExecutor(const ActorExecutor&) = delete;
  ActorExecutor& operator=(const ActorExecutor&) = delete;

  // Queues `job`. After Stop(), drops it at once (job->Drop()).
  void Post(std::shared_ptr<Job> job);
  // A queued job may have become ready: look again.
  void Poke();
  // Drops every queued job (Drop()) and lets running ones finish; the
  // threads then exit. Idempotent; does not wait (callable from a job).
  void Stop();
  // After Stop(): whether every thread has exited (Join() would not block).
  bool Finished() const;
  // Waits for the threads to exit. REQUIRES: Stop() was called; not on
  // one of its threads.
  void Join();

 private:
  void ThreadMain();

  const int max_threads_;
  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::shared_ptr<Job>> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
  int idle_ ABSL_GUARDED_BY(mu_) = 0;     // threads waiting for work
  int running_ ABSL_GUARDED_BY(mu_) = 0;  // threads alive
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

// What the code of an actor's constructor or method sees as its task
// (weft::this_task, nested remote() calls). The actor's threads are its
// own: a wait in get() frees nothing. Thread-compatible; used by the one
// thread running the call.
class ActorTaskContext final : public TaskContext {
 public:
  // `cancelled` (may be null) says whether the call was cancelled;
  // `add_child` (may be empty) hears of the tasks the call submits.
  ActorTaskContext(std::string key, int cpus,
                   std::shared_ptr<ClientImpl> client,
                   std::function<bool()> cancelled,
                   std::function<void(const std::shared_ptr<ObjectState>&)>
                       add_child);

  std::string key() const override { return key_; }
  int num_cpus() const override { return cpus_; }
  bool cancelled() const override { return cancelled_ && cancelled_(); }
  std::shared_ptr<ClientImpl> client() const override { return client_; }
  void BeginBlocking() override {}
  void EndBlocking() override {}
  void AddChild(const std::shared_ptr<ObjectState>& child) override {
    if (add_child_) add_child_(child);
  }

 private:
  const std::string key_;
  const int cpus_;
  const std::shared_ptr<ClientImpl> client_;
  const std::function<bool()> cancelled_;
  const std::function<void(const std::shared_ptr<ObjectState>&)> add_child_;
};

// Makes `context` the current task context for its lifetime.
class TaskContextScope {
 public:
  explicit TaskContextScope(TaskContext* context)
      : previous_(TaskContext::Current()) {
    TaskContext::SetCurrent(context);
  }
  ~TaskContextScope() { TaskContext::SetCurrent(previous_); }
  TaskContextScope(const TaskContextScope&) = delete;
  TaskContextScope& operator=(const TaskContextScope&) = delete;

 private:
  TaskContext* const previous_;
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_ACTOR_EXECUTOR_H_
