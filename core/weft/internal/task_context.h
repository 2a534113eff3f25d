// Copyright 2026 The weft Authors.
//
// TaskContext: what the code inside a running task can learn about it, and
// the hook that lets a task blocked in get()/wait() give up its CPU slot.

#ifndef WEFT_CORE_WEFT_INTERNAL_TASK_CONTEXT_H_
#define WEFT_CORE_WEFT_INTERNAL_TASK_CONTEXT_H_

#include <memory>
#include <string>

namespace weft::internal {

class ClientImpl;
class ObjectState;

class TaskContext {
 public:
  virtual ~TaskContext() = default;

  // The task's key and CPU slots.
  virtual std::string key() const = 0;
  virtual int num_cpus() const = 0;
  // Whether the task was cancelled while running (see this_task::cancelled).
  virtual bool cancelled() const = 0;
  // The client nested remote()/get() calls from this task go to.
  virtual std::shared_ptr<ClientImpl> client() const = 0;

  // Called around a wait inside the task: the task's slots are released for
  // other tasks and, if needed, another fiber starts serving the queue.
  virtual void BeginBlocking() = 0;
  virtual void EndBlocking() = 0;

  // The task submitted `child` (through any client): cancelling the task
  // cancels it too. Keeps only a weak reference.
  virtual void AddChild(const std::shared_ptr<ObjectState>& child) = 0;

  // The context of the task running on this fiber, or nullptr outside tasks.
  static TaskContext* Current();
  static void SetCurrent(TaskContext* context);
};

// RAII: marks a region where the current task (if any) may block.
// Restores the current task context afterwards, since other fibers on this
// thread run tasks of their own while this one waits.
class BlockingRegion {
 public:
  BlockingRegion() : context_(TaskContext::Current()) {
    if (context_ != nullptr) context_->BeginBlocking();
  }
  ~BlockingRegion() {
    if (context_ != nullptr) {
      context_->EndBlocking();
      TaskContext::SetCurrent(context_);
    }
  }
  BlockingRegion(const BlockingRegion&) = delete;
  BlockingRegion& operator=(const BlockingRegion&) = delete;

 private:
  TaskContext* const context_;
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_TASK_CONTEXT_H_
