// Copyright 2026 The weft Authors.
//
// When the scheduler gives freed memory back to the system after a large
// submission (rpc::ReturnFreedMemory(), rpc/heap.h). Without it the
// allocator keeps the pages of a parsed batch (~100 bytes a task)
// resident for reuse, and a scheduler that accepted a million tasks looks
// 60% bigger than its live heap (bench/history.md, W7).

#ifndef WEFT_SCHEDULER_MEMORY_TRIM_H_
#define WEFT_SCHEDULER_MEMORY_TRIM_H_

namespace weft::scheduler {

// Submissions of at least this many tasks are followed by
// rpc::ReturnFreedMemory(), which costs a few milliseconds.
inline constexpr int kTrimAfterTasks = 65536;

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_MEMORY_TRIM_H_
