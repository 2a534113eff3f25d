// Copyright 2026 The weft Authors.
//
// Giving freed memory back to the system after a large submission. Without
// it the allocator keeps the pages of a parsed batch (~100 bytes a task)
// resident for reuse, and a scheduler that accepted a million tasks looks
// 60% bigger than its live heap (bench/history.md, W7).

#ifndef WEFT_SCHEDULER_MEMORY_TRIM_H_
#define WEFT_SCHEDULER_MEMORY_TRIM_H_

namespace weft::scheduler {

// Submissions of at least this many tasks are followed by
// ReturnFreedMemory().
inline constexpr int kTrimAfterTasks = 65536;

// Returns the pages of freed memory to the system: a purge of every arena
// under jemalloc (opt builds), malloc_trim otherwise. Thread-safe; costs a
// few milliseconds, so call it only after large frees.
void ReturnFreedMemory();

}  // namespace weft::scheduler

#endif  // WEFT_SCHEDULER_MEMORY_TRIM_H_
