// Copyright 2026 The weft Authors.

#include "weft/internal/task_context.h"

namespace weft::internal {
namespace {

// Per thread, not per fiber: every switch point (BlockingRegion, the runner
// loop) restores the value for the fiber that resumes.
thread_local TaskContext* current_context = nullptr;

}  // namespace

TaskContext* TaskContext::Current() { return current_context; }

void TaskContext::SetCurrent(TaskContext* context) {
  current_context = context;
}

}  // namespace weft::internal
